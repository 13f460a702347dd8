"""Shrinking a failing random recipe to a small one that fails the same way, and printing it.

``shrink`` keeps only the fetch that differs, then removes steps one at a time (a step is
bypassed by one of its own arguments of the same shape and dtype), dead steps and unused
inputs, as long as the same kind of mismatch remains in the same mode.

Example:
    >>> small = shrink(recipe, mismatch)
    >>> print(repro(small, mismatch.mode))
"""
from __future__ import annotations

import dataclasses

import numpy as np

from tests import differential
from tests.recipes import Recipe, Ref, step_refs, value_shapes


def _fails_like(recipe: Recipe, mismatch, refill: bool):
    calls = max(mismatch.call + 1, differential.calls_for(mismatch.mode))
    try:
        found = differential.check(recipe, (mismatch.mode,), refill, calls)
    except Exception:  # noqa: BLE001 - a smaller recipe that no longer builds is no repro
        return None
    return next((m for m in found if m.kind == mismatch.kind), None)


def _only_fetch(recipe: Recipe, index: int) -> Recipe:
    if 0 <= index < len(recipe.fetches):
        return dataclasses.replace(recipe, fetches=(recipe.fetches[index],), counter=None,
                                   gradients=False)
    if index == len(recipe.fetches) and recipe.counter is not None:
        return dataclasses.replace(recipe, fetches=(recipe.counter,), gradients=False)
    return dataclasses.replace(recipe, fetches=recipe.fetches[:1], counter=None)


def _substitute(arg, mapping):
    if isinstance(arg, Ref):
        return mapping.get(arg, arg)
    if isinstance(arg, list):
        return [_substitute(a, mapping) for a in arg]
    return arg


def _rewired(recipe: Recipe, mapping: dict) -> Recipe:
    steps = tuple(dataclasses.replace(
        step, args=tuple(_substitute(a, mapping) for a in step.args),
        kwargs=tuple((k, _substitute(v, mapping)) for k, v in step.kwargs))
        for step in recipe.steps)
    return compact(dataclasses.replace(
        recipe, steps=steps, fetches=tuple(dict.fromkeys(mapping.get(r, r)
                                                          for r in recipe.fetches)),
        counter=mapping.get(recipe.counter, recipe.counter)))


def compact(recipe: Recipe) -> Recipe:
    """The recipe without the steps and inputs its fetches do not need, renumbered."""
    live = set(recipe.fetches) | ({recipe.counter} if recipe.counter is not None else set())
    for k in reversed(range(len(recipe.steps))):
        if Ref("v", k) in live:
            live.update(step_refs(recipe.steps[k]))
    if recipe.gradients:
        live.update(Ref("in", k) for k, spec in enumerate(recipe.inputs)
                    if np.dtype(spec.dtype).kind == "f")
    mapping = {}
    inputs = []
    for k, spec in enumerate(recipe.inputs):
        if Ref("in", k) in live:
            mapping[Ref("in", k)] = Ref("in", len(inputs))
            inputs.append(spec)
    steps = []
    for k, step in enumerate(recipe.steps):
        if Ref("v", k) in live:
            mapping[Ref("v", k)] = Ref("v", len(steps))
            steps.append(dataclasses.replace(
                step, args=tuple(_substitute(a, mapping) for a in step.args),
                kwargs=tuple((name, _substitute(v, mapping)) for name, v in step.kwargs)))
    return dataclasses.replace(
        recipe, inputs=tuple(inputs), steps=tuple(steps),
        fetches=tuple(mapping[r] for r in recipe.fetches),
        counter=None if recipe.counter is None else mapping[recipe.counter])


def _bypasses(recipe: Recipe, k: int) -> list:
    """Recipes where step ``k`` is replaced by one of its arguments of its shape and dtype."""
    shapes = value_shapes(recipe)
    out = Ref("v", k)
    found = []
    for ref in dict.fromkeys(step_refs(recipe.steps[k])):
        if shapes[ref] == shapes[out]:
            found.append(_rewired(recipe, {out: ref}))
    return found


def shrink(recipe: Recipe, mismatch, refill: bool = False, budget: int = 60):
    """The smallest recipe found (within ``budget`` checks) failing like ``mismatch``, and
    its mismatch."""
    current, found = recipe, mismatch
    candidate = compact(_only_fetch(recipe, mismatch.index))
    again = _fails_like(candidate, mismatch, refill)
    if again is not None:
        current, found = candidate, again
    checks = 1
    progress = True
    while progress and checks < budget:
        progress = False
        for k in reversed(range(len(current.steps))):
            for smaller in _bypasses(current, k):
                checks += 1
                again = _fails_like(smaller, mismatch, refill)
                if again is not None:
                    current, found, progress = smaller, again, True
                    break
            if progress or checks >= budget:
                break
    return current, found


def repro(recipe: Recipe, mismatch) -> str:
    """The recipe, its graph as text and the feeds of the failing call (small ones)."""
    built = recipe.build()
    lines = [str(mismatch), recipe.describe(), "graph:", built.graph.as_text(), "feeds:"]
    for holder, value in recipe.feeds(built, max(mismatch.call, 0)).items():
        shown = np.array2string(value, threshold=40) if value.size <= 40 else (
            f"{value.dtype}{list(value.shape)} (from seed {recipe.seed}, call {mismatch.call})")
        lines.append(f"  {holder.name} = {shown}")
    return "\n".join(lines)
