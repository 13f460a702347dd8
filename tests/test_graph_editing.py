"""The copying and in-place editing API of Graph (graphc/editing.py) that passes are built on,
and the compact representations behind it (interned shapes, single-reader consumer lists)."""
import copy
import pickle

import networkx as nx
import numpy as np
import pytest

import graphc as gc
from graphc.algorithms import control_sources
from graphc.shapes import TensorShape

F = gc.float64


def _chain():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        a = gc.exp(x, name="a")
        b = gc.tanh(a, name="b")
        c = gc.add(b, a, name="c")
    return g, x, a, b, c


def _run(graph, fetch, feed):
    with gc.Session(graph=graph, optimize=False) as sess:
        return sess.run(fetch, feed)


def test_copy_keeps_names_specs_and_edges_and_leaves_the_source_alone():
    g, x, a, b, c = _chain()
    work, op_map = g.copy()
    assert [op.name for op in work.get_operations()] == [op.name for op in g.get_operations()]
    copied = op_map[c.op]
    assert copied.graph is work and copied is not c.op
    assert [t.op.name for t in copied.inputs] == ["b", "a"]
    assert copied.outputs[0].shape == c.shape and copied.outputs[0].dtype is c.dtype
    assert {op.name for op in a.consumers()} == {"b", "c"}  # the source's readers only
    with work.as_default():
        fresh = gc.exp(op_map[x.op].outputs[0], name="a")
    assert fresh.op.name == "a_1"  # a copy's new ops never take a name of the source


def test_copy_op_checks_its_inputs():
    g, x, a, b, c = _chain()
    target = g.empty_like()
    with target.as_default():
        wrong = gc.placeholder(gc.float32, (3,), name="x")
    with pytest.raises(ValueError, match=r"copy_op: input .* of 'a' \(exp\) must be a tensor "
                                         r"of this graph like 'x:0' float64"):
        target.copy_op(a.op, [wrong])
    with pytest.raises(ValueError, match="takes 1 inputs, got 0"):
        target.copy_op(a.op, [])


def test_replacing_an_op_in_place_keeps_the_order_topological():
    """The replacement is built where the old op stood; readers move over; the old op goes."""
    g, x, a, b, c = _chain()
    with g.as_default(), g.inserting_before(b.op):
        replacement = gc.sigmoid(gc.negative(a, name="n"), name="s")
    g.replace_uses(b, replacement)
    g.remove_ops([b.op])
    assert [op.name for op in g.get_operations()] == ["x", "a", "n", "s", "c"]
    assert g.topological_order() == g.get_operations()
    with pytest.raises(KeyError):
        g.get_operation_by_name("b")
    assert list(c.op.inputs) == [replacement, a] and replacement.consumers() == [c.op]
    value = np.array([0.1, -0.2, 0.3])
    want = 1 / (1 + np.exp(np.exp(value))) + np.exp(value)
    np.testing.assert_allclose(_run(g, c, {x: value}), want)
    with g.as_default():
        assert gc.identity(x, name="b").op.name == "b_1"  # a removed op's name stays taken


def test_edits_refuse_what_would_break_the_graph():
    g, x, a, b, c = _chain()
    with pytest.raises(ValueError, match="'c' still reads 'b:0'"):
        g.remove_ops([b.op])
    with g.as_default():
        other = gc.cast(x, gc.float32)
    with pytest.raises(ValueError, match="cannot stand for 'b:0' float64"):
        g.replace_uses(b, other)
    with g.as_default(), gc.control_dependencies([a]):
        gc.identity(x, name="after_a")
    with pytest.raises(ValueError, match="'after_a' has a control input"):
        g.remove_ops([a.op, b.op, c.op])
    elsewhere = _chain()[2]
    with pytest.raises(ValueError, match="not a tensor of this graph"):
        g.replace_uses(b, elsewhere)
    assert [op.name for op in g.get_operations()] == ["x", "a", "b", "c", "Cast", "after_a"]
    g.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        g.replace_uses(c, b)


def test_a_failed_build_inside_inserting_before_is_undone():
    g, x, a, b, c = _chain()
    with pytest.raises(ValueError, match="Incompatible shapes"):
        with g.as_default(), g.inserting_before(b.op), g.atomic():
            gc.exp(a, name="e") + gc.zeros([4], F)
    assert [op.name for op in g.get_operations()] == ["x", "a", "b", "c"]
    with g.as_default(), g.atomic() as created:
        gc.exp(a, name="e")
    assert [op.name for op in created] == ["e"]  # the name was free again


def test_a_backward_edit_is_put_in_order():
    """Rewiring a reader to a later op is allowed: the order is recomputed (Kahn) instead of
    trusting creation order."""
    g, x, a, b, c = _chain()
    with g.as_default():
        late = gc.exp(x, name="late")
    g.replace_uses(a, late)
    order = [op.name for op in g.topological_order()]
    assert order.index("late") < order.index("b") and order.index("late") < order.index("c")
    with g.as_default():
        ring = gc.identity(x, name="ring")
    ring.op._add_control_input(late.op)
    late.op._control_inputs += (ring.op,)  # a cycle only a bug could make
    with pytest.raises(nx.NetworkXUnfeasible):
        g.topological_order()


def test_consumer_lists_hold_one_reader_without_a_list():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (2,), name="x")
        assert x.consumers() == []
        first = gc.exp(x)
        assert x.consumers() == [first.op] and x._consumers is first.op
        square = x * x
        assert x.consumers() == [first.op, square.op, square.op]


def test_equal_shapes_are_one_object_and_stay_values():
    assert TensorShape([3, None]) is TensorShape((3, None)) is TensorShape(
        TensorShape([3, None]))
    assert TensorShape([np.int64(3)]) is TensorShape([3])
    for bad in ([True], [2.0], (1.5,)):
        with pytest.raises(TypeError, match="integers or None"):
            TensorShape(bad)
    shape = TensorShape([None, 784])
    assert pickle.loads(pickle.dumps(shape)) is shape and copy.deepcopy(shape) is shape
    assert TensorShape(None) is TensorShape(None) and TensorShape(None).rank is None


def test_a_control_input_added_later_still_protects_its_source():
    """``_add_control_input`` edges count as creation-time ones do: the second ``exp`` is a
    control source, so it cannot be removed, and CSE does not merge it away."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (2,), name="x")
        first, second = gc.exp(x, name="first"), gc.exp(x, name="second")
        out = gc.identity(first, name="out")
    out.op._add_control_input(second.op)
    assert control_sources(g) == {second.op}
    with pytest.raises(ValueError, match="'out' has a control input"):
        g.remove_ops([second.op])
    optimized, records = gc.optimize(g, [out], feeds=[x])
    [copied_out] = [op for op in optimized.get_operations() if op.name == "out"]
    assert [c.name for c in copied_out.control_inputs] == ["second"]


def test_a_copy_of_a_graph_subclass_is_a_plain_graph():
    """Dataset functions trace into a Graph subclass that takes arguments; its copies (and
    the optimizer's working graphs) are plain graphs."""
    class Traced(gc.Graph):
        def __init__(self, outer):
            super().__init__()
            self.outer = outer
    g = Traced(outer=None)
    with g.as_default():
        x = gc.placeholder(F, (2,), name="x")
        y = gc.exp(x)
    work, op_map = g.copy()
    assert type(work) is gc.Graph and op_map[y.op].name == y.op.name
