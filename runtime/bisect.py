"""``bisect``: find the first pass, and in it the first rule application, after which the
optimized graph's results differ from the unoptimized graph's beyond tolerance.

It lives in the runtime, not in passes/, because it runs every intermediate graph."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from graphc.passes import PASSES, OptimizerConfig, _as_interface, _optimize_steps
from graphc.passes.result import Interface, Rewrite
from graphc.printing import graph_as_text

from .feeds import prepare_feeds
from .session import Session

__all__ = ["bisect", "BisectReport"]


@dataclass(frozen=True)
class BisectReport:
    """Where results first diverge: the pass, the rule application, and its before/after."""

    found: bool
    pass_name: Optional[str] = None
    pass_index: Optional[int] = None
    rewrite_index: Optional[int] = None
    rewrite: Optional[Rewrite] = None
    before: str = ""
    after: str = ""
    fetch: str = ""
    max_abs_diff: float = 0.0

    def __str__(self) -> str:
        if not self.found:
            return "bisect: the optimized graph matches the unoptimized one within tolerance"
        return (f"bisect: results first differ after pass #{self.pass_index} "
                f"'{self.pass_name}', rewrite #{self.rewrite_index}: {self.rewrite.describe()}\n"
                f"fetch {self.fetch!r} differs by up to {self.max_abs_diff:.3g}\n"
                f"before:\n{self.before}\nafter:\n{self.after}")


def _evaluate(graph, interface: Interface, feed_values: list, state):
    with Session(graph=graph, optimize=False) as sess:
        if state is not None:
            sess._state.variables.update(state.variables)
        feeds = dict(zip(interface.feeds, feed_values))
        return sess.run(list(interface.fetches), feeds)


def _worst(reference, values, interface, rtol, atol):
    """``(fetch name, max abs difference)`` of the first fetch out of tolerance, or None."""
    for tensor, want, got in zip(interface.fetches, reference, values):
        want, got = np.asarray(want), np.asarray(got)
        if want.shape != got.shape:
            return tensor.name, float("inf")
        if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            with np.errstate(invalid="ignore"):
                diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            return tensor.name, float(np.nanmax(np.where(np.isnan(diff), np.inf, diff)))
    return None


def bisect(graph, fetches, feeds: dict, config=None, rtol: float = 1e-5, atol: float = 1e-8,
           session=None) -> BisectReport:
    """Replay the pipeline pass by pass, comparing results with the unoptimized graph.

    Args:
        graph: the user's graph.
        fetches: what to compare (any fetch structure).
        feeds: a feed_dict giving the inputs.
        config: the optimizer configuration to bisect (default pipeline).
        rtol, atol: the tolerance (NaN equals NaN).
        session: a Session whose variable values to use.

    Returns:
        A BisectReport naming the pass and rule application, with before/after text.

    Example:
        >>> report = gc.bisect(g, [loss], {x: batch})
        >>> print(report)
    """
    prepared = prepare_feeds(graph, feeds)
    interface = _as_interface(graph, fetches, list(prepared))
    values = list(prepared.values())
    state = session._state if session is not None else None
    reference = _evaluate(graph, interface, values, state)
    config = OptimizerConfig.coerce(config) or OptimizerConfig(passes=())
    for index, (name, before_graph, before_iface, result) in enumerate(
            _optimize_steps(graph, interface, config)):
        bad = _worst(reference, _evaluate(result.graph, result.interface, values, state),
                     result.interface, rtol, atol)
        if bad is None:
            continue
        return _locate(name, index, before_graph, before_iface, result, config, reference,
                       values, state, rtol, atol, bad)
    return BisectReport(found=False)


def _locate(name, index, before_graph, before_iface, result, config, reference, values, state,
            rtol, atol, bad) -> BisectReport:
    """Binary search over the pass's rewrite budget for the first diverging application."""
    low, high = 1, max(1, len(result.rewrites))
    capped = result
    while low < high:
        middle = (low + high) // 2
        trial = PASSES[name].run(before_graph, before_iface, config.pass_options(budget=middle))
        if _worst(reference, _evaluate(trial.graph, trial.interface, values, state),
                  trial.interface, rtol, atol) is None:
            low = middle + 1
        else:
            high, capped = middle, trial
    if capped is result or len(capped.rewrites) < low:
        capped = PASSES[name].run(before_graph, before_iface, config.pass_options(budget=low))
    if not capped.rewrites:
        return BisectReport(True, name, index, None, None, "", "", bad[0], bad[1])
    rewrite = capped.rewrites[low - 1]
    old = _ops_named(before_graph, rewrite.old_nodes)
    new = _ops_named(capped.graph, rewrite.new_nodes)
    return BisectReport(True, name, index, low - 1, rewrite, graph_as_text(before_graph, old),
                        graph_as_text(capped.graph, new), bad[0], bad[1])


def _ops_named(graph, names) -> list:
    """The ops of ``graph`` with these names (names it lacks are left out)."""
    wanted = set(names)
    return [op for op in graph.get_operations() if op.name in wanted]
