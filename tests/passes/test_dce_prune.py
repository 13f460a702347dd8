"""Pruning and dead-code elimination keep exactly what the fetches and targets need."""
import graphc as gc
from graphc.passes import dce, prune
from graphc.passes.result import Interface

F = gc.float64


def _graph():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (2,), name="x")
        unused = gc.placeholder(F, (2,), name="unused")
        dead = gc.exp(unused, name="dead")
        v = gc.Variable([0.0, 0.0], dtype=F, name="v")
        bump = v.assign_add(x, name="bump")
        with gc.control_dependencies([bump]):
            out = gc.identity(x * 2.0, name="out")
        mid = gc.sin(x, name="mid")
        after = gc.cos(mid, name="after")
    return g, x, dead, bump, out, mid, after


def test_prune_keeps_control_dependencies_and_turns_feeds_into_placeholders():
    g, x, dead, bump, out, mid, after = _graph()
    result = prune.run(g, Interface(fetches=(out, after), feeds=(x, mid)))
    names = {op.name for op in result.graph.get_operations()}
    assert {"bump", "v", "out"} <= names  # the stateful op the fetch depends on survives
    assert "dead" not in names and "unused" not in names and "sin" not in names
    fed = result.interface.feeds[1]
    assert fed.op.type == "placeholder" and fed.op.name == "mid_fed"
    assert result.interface.fetches[1].op.inputs[0] is fed
    assert len(g.get_operations()) == len(_graph()[0].get_operations())  # source unchanged


def test_dce_removes_what_no_root_needs():
    g, x, dead, bump, out, mid, after = _graph()
    everything = Interface(fetches=(out, dead, after), feeds=(x,))
    pruned = prune.run(g, everything)
    narrower = Interface(fetches=(pruned.interface.fetches[0],), feeds=pruned.interface.feeds)
    result = dce.run(pruned.graph, narrower)
    names = {op.name for op in result.graph.get_operations()}
    assert "dead" not in names and "after" not in names and {"bump", "out", "x"} <= names
    assert "dead" in result.removed and not dce.run(result.graph, result.interface).changed
    targets = Interface(targets=(pruned.graph.get_operation_by_name("bump"),),
                        feeds=pruned.interface.feeds)
    assert "bump" in {op.name for op in dce.run(pruned.graph, targets).graph.get_operations()}
