"""Plans compiled to straight-line Python: one line per op, no per-op dispatch.

``compile_plan(steps, ...)`` writes a function such as::

    def run(feeds, ctx, B, K):
        s0, s1 = feeds
        b0 = B[3]; key = K[0]
        if key is not None and key[0] == (s0.shape, s1.shape, ) and refs(b0) == 3 and \
                b0.nbytes >= key[3]: s2 = k0(s0, s1, out=ndarray(key[1], key[2], b0))
        else: s2 = k0(s0, s1); K[0] = remember(B, (3,), (s0.shape, s1.shape, ), (s2,))
        del b0, key, s0
        ctx.op = op1; s3 = k1(ctx, s2)
        return [s3]

with every kernel bound (attributes included) as a global of that function, and each value
deleted right after its last reader. A step planned into the arena (arena.py) writes each
result into a view carved from one of the arena's buffers ``B[j]``, which other steps may
share, by the shape and dtype it made on an earlier run with inputs of the same shapes
(``K[i]``), when no one but the arena refers to that buffer any more (no result carved
from it is alive) and it is large enough; otherwise it allocates and ``remember`` records
what it made, growing the buffers for the next run. Errors cost nothing until they happen:
the failing line number identifies the step, whose inputs are still in the frame's locals,
so the error can name the op, its inputs' shapes and dtypes and the user's line.
"""
from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from .arena import remember
from .memory import owned_copy, unshared, writeable

__all__ = ["compile_plan"]


def _assign(outputs) -> str:
    """The left-hand side of a step's line: ``s3 = ``, ``s3, _, = `` or nothing."""
    if not outputs:
        return ""
    return _target(outputs) + " = "


def _target(outputs) -> str:
    if len(outputs) == 1:
        return f"s{outputs[0]}" if outputs[0] is not None else "_"
    return ", ".join(f"s{o}" if o is not None else "_" for o in outputs) + ","


def _fetched(slot: int, aliases: tuple, own: bool) -> str:
    """A fetch in the return line: as is, copied, or copied if it shares memory with one of
    ``aliases`` (the feeds, variable values and constants it may view); where the caller
    owns its fetches (``own``), also copied where read-only (``memory.writeable``)."""
    if aliases == (slot,):
        return f"copy(s{slot})"
    value = f"unshared(s{slot}, " + ", ".join(f"s{alias}" for alias in aliases) + ")" \
        if aliases else f"s{slot}"
    return f"writeable({value})" if own else value


def _arena_lines(index: int, step, args: str):
    """The three lines of a step writing its results into the arena's buffers
    ``B[step.arena_buffers]`` where they are free and large enough (see the module
    docstring and arena.py), and its ``else:``."""
    shapes = "(" + "".join(f"s{i}.shape, " for i in step.inputs) + ")"
    target, buffers = _target(step.outputs), step.arena_buffers
    names = [f"b{k}" for k in range(len(buffers))]
    load = "    " + "; ".join(f"{name} = B[{buffer}]" for name, buffer in zip(names, buffers))
    load += f"; key = K[{index}]"
    # a buffer is free when 3 references to it remain: B's, the local name's and
    # getrefcount's own (a result carved from it, or any view of one, adds its own)
    free = " and ".join(f"refs({name}) == 3 and {name}.nbytes >= key[{3 * k + 3}]"
                        for k, name in enumerate(names))
    carved = ", ".join(f"ndarray(key[{3 * k + 1}], key[{3 * k + 2}], {name})"
                       for k, name in enumerate(names))
    if len(names) > 1:
        carved = f"({carved})"
    check = (f"    if key is not None and key[0] == {shapes} and {free}: {target} = "
             f"k{index}({args}, out={carved})")
    if len(names) == 1 and step.outputs[0] is not None:
        call = (f"else: {target} = k{index}({args}); K[{index}] = remember(B, "
                f"{tuple(buffers)!r}, {shapes}, ({target},))")
    else:  # r: the results, dropped at once (a reference to one keeps its buffer busy)
        call = (f"else: r = k{index}({args}); {target} = r; K[{index}] = remember(B, "
                f"{tuple(buffers)!r}, {shapes}, r if isinstance(r, tuple) else (r,)); del r")
    return load, check, call


def compile_plan(steps, num_feeds: int, fetch_slots, on_error: Callable,
                 passthrough=(), fetch_aliases=None, own_fetches: bool = True) -> Callable:
    """A function ``run(feed_values, ctx, buffers, keys) -> fetch values`` executing
    ``steps`` in order (``buffers``/``keys``: the arena, lists indexed by step).

    ``on_error(step, args, err)`` builds the exception raised when a kernel fails; errors of
    the ``passthrough`` types are re-raised as they are. ``fetch_aliases`` (from
    ``memory.fetch_aliases``) says which fetches must be copied so the caller owns them;
    ``own_fetches=False`` (a loop handing them to its next iteration) leaves read-only
    ones as they are.
    """
    namespace: dict = {"refs": sys.getrefcount, "copy": owned_copy, "unshared": unshared,
                       "writeable": writeable, "ndarray": np.ndarray, "remember": remember}
    lines = ["def run(feeds, ctx, B, K):"]
    if num_feeds:
        lines.append("    " + ", ".join(f"s{i}" for i in range(num_feeds))
                     + (", = feeds" if num_feeds == 1 else " = feeds"))
    line_to_step: dict = {}
    for index, step in enumerate(steps):
        namespace[f"k{index}"] = step.fn
        args = ", ".join(f"s{i}" for i in step.inputs)
        if step.constant and len(step.outputs) == 1:
            namespace[f"k{index}"] = step.fn()
            call = f"{_assign(step.outputs)}k{index}"
        elif step.needs_context:
            namespace[f"op{index}"] = step.op
            call = (f"ctx.op = op{index}; {_assign(step.outputs)}"
                    f"k{index}(ctx{', ' if args else ''}{args})")
        elif step.in_place is not None:
            reused = f"s{step.inputs[step.in_place]}"
            call = f"{_assign(step.outputs)}k{index}({args}, out={reused})"
        elif step.arena:
            load, check, call = _arena_lines(index, step, args)
            lines += [load, check]
            line_to_step[len(lines)] = index
        else:
            call = f"{_assign(step.outputs)}k{index}({args})"
        lines.append(f"    {call}")
        line_to_step[len(lines)] = index
        # the buffers' local names go with the step: they would count as references later
        dropped = [f"b{k}" for k in range(len(step.arena_buffers))] + ["key"] * step.arena
        if step.arena and len(step.outputs) > 1 and None in step.outputs:
            dropped.append("_")  # a result nobody reads, holding its buffer
        dropped += [f"s{i}" for i in step.frees]
        if dropped:
            lines.append("    del " + ", ".join(dropped))
    fetch_aliases = fetch_aliases or [()] * len(fetch_slots)
    fetched = ", ".join(_fetched(slot, aliases, own_fetches)
                        for slot, aliases in zip(fetch_slots, fetch_aliases))
    lines.append(f"    return [{fetched}]")
    code = compile("\n".join(lines) + "\n", "<graphc plan>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated above from the plan's own steps
    body = namespace["run"]

    def run(feed_values, ctx, buffers, keys):
        try:
            return body(feed_values, ctx, buffers, keys)
        except passthrough:
            raise
        except Exception as err:  # noqa: BLE001 - locate the step, then re-raise with context
            step_index, frame_locals = _failing_step(err.__traceback__, line_to_step)
            if step_index is None:
                raise
            step = steps[step_index]
            args = [frame_locals.get(f"s{i}") for i in step.inputs]
            raise on_error(step, args, err) from err

    run.source = "\n".join(lines)
    return run


def _failing_step(traceback, line_to_step):
    """The step whose line raised, and the generated frame's locals."""
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename == "<graphc plan>":
            return line_to_step.get(traceback.tb_lineno), frame.f_locals
        traceback = traceback.tb_next
    return None, {}

