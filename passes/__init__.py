"""Compiler passes (installed as ``graphc.passes``) and the pipeline that runs them.

``PIPELINE`` is the whole pipeline, in order: ``Pass`` stages and ``Repeat`` groups (run
again while any of their passes changed something, at most ``max_iterations`` times). Every
pass has ``run(graph, interface, options) -> PassResult``, which never changes its input;
all but ``prune`` also have ``edit``, the same pass changing the graph it is given in place.
The runner calls prune's ``run`` first, which builds the working copy (what the fetches
need, feeds as placeholders), then lets every later pass ``edit`` that copy: the user's
graph is never changed, and a pass costs what it changes instead of a copy of the graph.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from dataclasses import dataclass
from typing import Callable, Optional

from graphc.fetches import FetchStructure

from graphc import control_flow

from . import (algebraic, branch_folding, constant_folding, cse, dce, epilogue, fusion,
               loop_accumulations, loop_dead_values, loop_invariant_motion, pool_taps,
               prune, relu_bias_grads, scaled_updates, sibling_merge, stabilize, subgraphs,
               unused_columns, xent_pairs)
from .result import (DEFAULT_FOLD_LIMIT, SAFETY_CLASSES, Interface, PassError, PassOptions,
                     PassResult, strict_fields)
from .verify import VerificationError, verify

__all__ = ["PASSES", "PIPELINE", "Pass", "Repeat", "OptimizerConfig", "optimize",
           "optimize_interface", "Interface", "PassOptions", "PassResult", "PassError",
           "VerificationError"]


@dataclass(frozen=True)
class Pass:
    """One pipeline stage: ``run`` leaves its input alone, ``edit`` (None for a pass that
    builds a new graph) changes the graph it is given; ``always``: runs whatever the
    configuration selects; ``idempotent``: a second run right after the first finds nothing,
    so a ``Repeat`` group skips it until another pass changed the graph."""

    name: str
    run: Callable
    edit: Optional[Callable] = None
    always: bool = False
    idempotent: bool = False


@dataclass(frozen=True)
class Repeat:
    """Passes run in order, again and again while any of them changed the graph."""

    passes: tuple


PIPELINE = (
    # always: it makes the feeds placeholders, which every later pass relies on
    Pass("prune", prune.run, always=True),
    # folding, CSE and DCE finish their work in one topological sweep (each fold, merge
    # or removal is seen by the ops after it); rule tables may make ops a rule matches again
    Repeat((Pass("constant_folding", constant_folding.run, constant_folding.edit,
                 idempotent=True),
            Pass("algebraic", algebraic.run, algebraic.edit),
            Pass("stabilize", stabilize.run, stabilize.edit),
            # ops doing one thing to blocks of one tensor run as one (sibling convolutions);
            # before CSE, which shares the joins their gradients make alike
            Pass("sibling_merge", sibling_merge.run, sibling_merge.edit, idempotent=True),
            Pass("cse", cse.run, cse.edit, idempotent=True),
            Pass("dce", dce.run, dce.edit, idempotent=True),
            # a split product's columns nobody reads (a gradient nobody asked for)
            Pass("unused_columns", unused_columns.run, unused_columns.edit, idempotent=True),
            # DCE of what loops carry: loop variables and saved values nobody needs
            Pass("loop_dead_values", loop_dead_values.run, loop_dead_values.edit,
                 idempotent=True),
            # a cond on a constant becomes its branch; loop-invariant work moves out, where
            # the passes above fold and merge it with the rest of the graph
            Pass("branch_folding", branch_folding.run, branch_folding.edit,
                 idempotent=True),
            Pass("loop_invariant_motion", loop_invariant_motion.run,
                 loop_invariant_motion.edit, idempotent=True),
            # a sum over iterations of a product of per-iteration values becomes one
            # product of their stacks after the loop (a gradient loop's weight gradient)
            Pass("loop_accumulations", loop_accumulations.run, loop_accumulations.edit,
                 idempotent=True),
            # every branch, body and condition through this whole pipeline (fusion
            # included); what it hoists out of a nested loop, the next round hoists further
            Pass("subgraphs", subgraphs.run, subgraphs.edit, idempotent=True))),
    # a cross-entropy and its gradient's backprop of the same logits share one softmax
    Pass("xent_pairs", xent_pairs.run, xent_pairs.edit, idempotent=True),
    # a max pool with its gradient records each window's first-max tap for the gradient
    Pass("pool_taps", pool_taps.run, pool_taps.edit, idempotent=True),
    # an SGD step's v -= lr * grad as one op: no temporary product, one plan step
    Pass("scaled_updates", scaled_updates.run, scaled_updates.edit, idempotent=True),
    Pass("fusion", fusion.run, fusion.edit),
    # a fused group reading only a conv's result runs on its blocks inside the conv kernel
    Pass("epilogue", epilogue.run, epilogue.edit),
    # a fused ReLU gradient and the bias gradient summing it as one op: one pass, not two
    Pass("relu_bias_grads", relu_bias_grads.run, relu_bias_grads.edit, idempotent=True),
)

PASSES = {stage.name: stage for step in PIPELINE
          for stage in (step.passes if isinstance(step, Repeat) else (step,))}


@strict_fields
@dataclass(frozen=True)
class OptimizerConfig:
    """What the optimizer may do.

    Attributes:
        passes: pass names to run, in pipeline order (None: all of ``PIPELINE``; passes
            marked ``always`` run in any case).
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
    fold_limit: int = DEFAULT_FOLD_LIMIT

    def __post_init__(self):
        for name in tuple(self.passes or ()) + tuple(self.disabled):
            if name not in PASSES:
                raise ValueError(f"Unknown pass {name!r}; known passes: {sorted(PASSES)}")
        for name in self.disabled:
            if PASSES[name].always:
                raise ValueError(f"Pass {name!r} always runs: later passes rely on it")
        self.pass_options()  # checks the safety classes

    def enabled(self, stage: Pass) -> bool:
        chosen = self.passes is None or stage.name in self.passes
        return stage.always or (chosen and stage.name not in self.disabled)

    def pass_options(self, budget: Optional[int] = None) -> PassOptions:
        """The options every pass of this configuration gets."""
        chosen = None if self.passes is None and not self.disabled else tuple(
            name for name, stage in PASSES.items() if self.enabled(stage))
        return PassOptions(safety=tuple(self.safety), fold_limit=self.fold_limit, budget=budget,
                           passes=chosen)

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


def optimize_interface(graph, interface: Interface, config=None, snapshots: bool = False):
    """Run the pipeline; returns ``(optimized graph, mapped interface, records)``.

    With ``snapshots`` every record keeps a graph of its own (a copy after each pass that
    changed something); without, the records share the one working graph.
    """
    config = OptimizerConfig.coerce(config) or OptimizerConfig(passes=())  # the always-passes
    with collection_paused():
        records = [record for *_, record in _optimize_steps(graph, interface, config,
                                                            snapshots)]
    return records[-1].graph, records[-1].interface, records


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


def _optimize_steps(graph, interface, config, snapshots: bool = True):
    """Yield ``(pass name, input graph, input interface, PassResult)`` as the pipeline runs.

    The first pass that edits in place gets a copy unless an earlier pass (prune) already
    built the graph the pipeline works on."""
    records: list = []
    owned = False
    shown = (graph, interface)  # what the latest record shows (its snapshot)
    for stage in _schedule(config, records):
        before = shown if snapshots else (graph, interface)
        options = config.pass_options()
        try:
            if stage.edit is None:
                result = stage.run(graph, interface, options)
                owned = owned or result.graph is not graph
            else:
                if not owned:
                    graph, op_map = graph.copy()
                    interface, owned = interface.copied(op_map), True
                result = stage.edit(graph, interface, options)
        except PassError as err:
            err.before = tuple(r.name for r in records)
            raise
        except Exception as err:  # noqa: BLE001 - name the pass whatever went wrong
            raise PassError(stage.name, err, before=[r.name for r in records]) from err
        graph, interface = result.graph, result.interface
        if config.verifying and (result.changed or not records):
            verify(graph, interface, after=", ".join([r.name for r in records] + [stage.name]))
        if snapshots:
            if result.changed or not records:
                copied, op_map = graph.copy()
                shown = (copied, interface.copied(op_map))
            result = dataclasses.replace(result, graph=shown[0], interface=shown[1])
        records.append(result)
        yield stage.name, before[0], before[1], result


def _schedule(config, records):
    """The enabled passes in pipeline order; a Repeat group runs again while it changed,
    leaving out an idempotent pass that no other pass has given new work since it ran."""
    for step in PIPELINE:
        if not isinstance(step, Repeat):
            if config.enabled(step):
                yield step
            continue
        group = [stage for stage in step.passes if config.enabled(stage)]
        last_run: dict = {}
        for _ in range(config.max_iterations):
            start = len(records)
            for stage in group:
                since = last_run.get(stage.name)
                if (stage.idempotent and since is not None
                        and not any(r.changed for r in records[since + 1:])):
                    continue
                last_run[stage.name] = len(records)
                yield stage
            if not any(r.changed for r in records[start:]):
                break


def _optimize_subgraph(graph, interface: Interface, options: PassOptions):
    """The pipeline for a subgraph, with the enclosing run's passes and options."""
    config = OptimizerConfig(passes=options.passes, safety=options.safety,
                             fold_limit=options.fold_limit)
    return optimize_interface(graph, interface, config, snapshots=False)


control_flow.register_service("optimize", _optimize_subgraph)


def _as_interface(graph, fetches, feeds) -> Interface:
    structure = FetchStructure(graph, fetches)
    feed_tensors = [graph.as_graph_element(f, allow_operation=False) for f in (feeds or [])]
    return Interface(tuple(structure.tensors), tuple(structure.operations), tuple(feed_tensors))


def optimize(graph, fetches, feeds=None, config=None, snapshots: bool = True):
    """Optimize ``graph`` for computing ``fetches`` from ``feeds``.

    Args:
        graph: the user's graph (never modified).
        fetches: tensors, ops or names (any TF1 fetch structure).
        feeds: the tensors that will be fed (a list, or a feed_dict's keys).
        config: an OptimizerConfig, a list of pass names, True or False.
        snapshots: give every record the graph after its pass (for before/after reports);
            False skips those copies (each record then holds the final graph).

    Returns:
        ``(optimized_graph, records)``: a Graph, and one PassResult per pass run.

    Example:
        >>> opt, records = gc.optimize(g, [loss], feeds=[x, y])
        >>> [(r.name, r.nodes_before, r.nodes_after) for r in records]
    """
    graph_, interface, records = optimize_interface(graph, _as_interface(graph, fetches, feeds),
                                                    config, snapshots)
    return graph_, records
