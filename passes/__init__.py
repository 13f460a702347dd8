"""Compiler passes (installed as ``graphc.passes``) and the pipeline that runs them.

Each pass is one module with ``run(graph, interface, **options) -> PassResult`` that never
mutates its input. ``PIPELINE`` is the default order; a tuple inside it is a group repeated
until nothing changes (at most ``max_iterations`` times).
"""
from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass
from typing import Optional

from graphc.fetches import FetchStructure

from . import algebraic, constant_folding, cse, dce, fusion, prune, stabilize
from .result import SAFETY_CLASSES, Interface, PassResult
from .verify import VerificationError, verify

__all__ = ["PASSES", "PIPELINE", "OptimizerConfig", "optimize", "optimize_interface",
           "Interface", "PassResult", "VerificationError"]

PASSES = {
    "prune": prune.run,
    "constant_folding": constant_folding.run,
    "algebraic": algebraic.run,
    "stabilize": stabilize.run,
    "cse": cse.run,
    "dce": dce.run,
    "fusion": fusion.run,
}

PIPELINE = ("prune", ("constant_folding", "algebraic", "stabilize", "cse", "dce"), "fusion")


@dataclass(frozen=True)
class OptimizerConfig:
    """What the optimizer may do.

    Attributes:
        passes: pass names to run, in pipeline order (None: all of ``PIPELINE``).
        disabled: pass names to skip.
        safety: rule safety classes allowed (e.g. ``("exact",)`` for bit-identical results).
        verify: check the graph after every pass (default: env ``GRAPHC_VERIFY=1``).
        max_iterations: cap for repeating a fixed-point group.
        fold_limit: largest constant (in elements) that folding may create.

    Example:
        >>> gc.Session(graph=g, optimize=OptimizerConfig(disabled=("fusion",)))
    """

    passes: Optional[tuple] = None
    disabled: tuple = ()
    safety: tuple = SAFETY_CLASSES
    verify: Optional[bool] = None
    max_iterations: int = 8
    fold_limit: int = constant_folding.DEFAULT_FOLD_LIMIT

    def __post_init__(self):
        for name in tuple(self.passes or ()) + tuple(self.disabled):
            if name not in PASSES:
                raise ValueError(f"Unknown pass {name!r}; known passes: {sorted(PASSES)}")
        for safety in self.safety:
            if safety not in SAFETY_CLASSES:
                raise ValueError(f"Unknown safety class {safety!r}; known: {SAFETY_CLASSES}")

    def enabled(self, name: str) -> bool:
        chosen = self.passes is None or name in self.passes
        return chosen and name not in self.disabled

    @property
    def verifying(self) -> bool:
        return self.verify if self.verify is not None else os.environ.get("GRAPHC_VERIFY") == "1"

    @staticmethod
    def coerce(value) -> Optional["OptimizerConfig"]:
        """None for ``False``; the default for ``True``/None; a config for a list of names."""
        if value is False:
            return None
        if value is True or value is None:
            return OptimizerConfig()
        if isinstance(value, OptimizerConfig):
            return value
        return OptimizerConfig(passes=tuple(value))


def _run_pass(name, graph, interface, config, records, budget=None):
    result = PASSES[name](graph, interface, allowed_safety=config.safety,
                          fold_limit=config.fold_limit, budget=budget)
    records.append(result)
    if config.verifying and result.graph is not graph:
        verify(result.graph, result.interface, after=", ".join(r.name for r in records))
    return result.graph, result.interface


def optimize_interface(graph, interface: Interface, config=None):
    """Run the pipeline; returns ``(optimized graph, mapped interface, records)``.

    Pruning always runs (it makes the feeds placeholders), whatever the config says.
    """
    config = OptimizerConfig.coerce(config) or OptimizerConfig(passes=("prune",))
    with collection_paused():
        return _optimize(graph, interface, config)


@contextlib.contextmanager
def collection_paused():
    """Pause Python's cyclic garbage collector: compiling allocates millions of small,
    long-lived objects, and each full collection would walk all of them (and the whole heap)
    again. Nothing compiled here is cyclic garbage.

    Example:
        >>> with collection_paused():
        ...     plan = Plan(graph, fetches, [], feeds)
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _optimize(graph, interface, config):
    records = [result for *_, result in _optimize_steps(graph, interface, config)]
    return records[-1].graph, records[-1].interface, records


def _optimize_steps(graph, interface, config):
    """Yield ``(pass name, input graph, input interface, PassResult)`` as the pipeline runs."""
    records: list = []
    for name in _schedule(config, records):
        before_graph, before_interface = graph, interface
        graph, interface = _run_pass(name, graph, interface, config, records)
        yield name, before_graph, before_interface, records[-1]


def _schedule(config, records):
    """Pass names in pipeline order; a group repeats while any of its passes changed."""
    yield "prune"
    for step in PIPELINE[1:]:
        group = step if isinstance(step, tuple) else (step,)
        group = tuple(name for name in group if config.enabled(name))
        for _ in range(config.max_iterations if isinstance(step, tuple) else 1):
            start = len(records)
            yield from group
            if not any(r.changed for r in records[start:]):
                break


def _as_interface(graph, fetches, feeds) -> Interface:
    structure = FetchStructure(graph, fetches)
    feed_tensors = [graph.as_graph_element(f, allow_operation=False) for f in (feeds or [])]
    return Interface(tuple(structure.tensors), tuple(structure.operations), tuple(feed_tensors))


def optimize(graph, fetches, feeds=None, config=None):
    """Optimize ``graph`` for computing ``fetches`` from ``feeds``.

    Args:
        graph: the user's graph (never modified).
        fetches: tensors, ops or names (any TF1 fetch structure).
        feeds: the tensors that will be fed (a list, or a feed_dict's keys).
        config: an OptimizerConfig, a list of pass names, True or False.

    Returns:
        ``(optimized_graph, records)``: a Graph, and one PassResult per pass run.

    Example:
        >>> opt, records = gc.optimize(g, [loss], feeds=[x, y])
        >>> [(r.name, r.nodes_before, r.nodes_after) for r in records]
    """
    graph_, interface, records = optimize_interface(graph, _as_interface(graph, fetches, feeds),
                                                    config)
    return graph_, records
