"""control_dependencies: nesting and clearing (TF1 semantics), and variable reads made inside a
block, which must see the block's updates in optimized and unoptimized sessions."""
import numpy as np
import pytest

import graphc as gc

MODES = [pytest.param(True, id="optimized"), pytest.param(False, id="unoptimized")]


def test_nested_blocks_accumulate_and_none_clears(graph):
    """An op inside two blocks depends on both; ``None`` clears both until it ends."""
    a, b = gc.no_op(name="a"), gc.no_op(name="b")
    x = gc.constant(1.0)
    with gc.control_dependencies([a]):
        only_a = gc.identity(x, name="only_a")
        with gc.control_dependencies([b]):
            both = gc.identity(x, name="both")
            with gc.control_dependencies(None):
                cleared = gc.identity(x, name="cleared")
                with gc.control_dependencies([b]):
                    only_b = gc.identity(x, name="only_b")
            after_none = gc.identity(x, name="after_none")
        back_to_a = gc.identity(x, name="back_to_a")
    outside = gc.identity(x, name="outside")
    names = {t.op.name: {c.name for c in t.op.control_inputs}
             for t in (only_a, both, cleared, only_b, after_none, back_to_a, outside)}
    assert names == {"only_a": {"a"}, "both": {"a", "b"}, "cleared": set(), "only_b": {"b"},
                     "after_none": {"a", "b"}, "back_to_a": {"a"}, "outside": set()}


@pytest.mark.parametrize("optimize", MODES)
def test_nested_blocks_order_both_updates_before_the_read(optimize):
    g = gc.Graph()
    with g.as_default():
        a, b = gc.Variable(0, name="a"), gc.Variable(0, name="b")
        inc_a, inc_b = gc.assign_add(a, 1), gc.assign_add(b, 10)
        with gc.control_dependencies([inc_a]):
            with gc.control_dependencies([inc_b]):
                total = a + b
        init = gc.global_variables_initializer()
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        assert [int(sess.run(total)) for _ in range(3)] == [11, 22, 33]


@pytest.mark.parametrize("optimize", MODES)
def test_identity_of_a_variable_after_its_update_reads_the_new_value(optimize):
    """TF1's counter idiom: the read made inside the block runs after ``inc``."""
    g = gc.Graph()
    with g.as_default():
        counter = gc.Variable(0, name="counter")
        inc = gc.assign_add(counter, 1)
        with gc.control_dependencies([inc]):
            read = gc.identity(counter)
            doubled = counter * 2
        init = gc.global_variables_initializer()
    assert {op.name for op in read.op.inputs[0].op.control_inputs} == {inc.op.name}
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        assert [int(sess.run(read)) for _ in range(3)] == [1, 2, 3]
        assert [int(v) for v in sess.run([read, doubled])] == [4, 8]
        assert int(sess.run(counter)) == 4


@pytest.mark.parametrize("optimize", MODES)
def test_reads_before_and_after_an_update_are_never_merged(optimize):
    """Two reads of one variable in one run, on either side of its update: CSE must keep
    them apart, and the pipeline must keep both orderings."""
    g = gc.Graph()
    with g.as_default():
        counter = gc.Variable(10, name="counter")
        before = counter.value()
        with gc.control_dependencies([before.op]):
            inc = gc.assign_add(counter, 1)
        with gc.control_dependencies([inc]):
            after = gc.identity(counter)
            after_too = counter.read_value()
        init = gc.global_variables_initializer()
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        assert [int(v) for v in sess.run([before, after, after_too])] == [10, 11, 11]
        assert [int(v) for v in sess.run([after, before])] == [12, 11]


@pytest.mark.parametrize("optimize", MODES)
def test_moving_average_update_then_read(optimize):
    """Batch-norm style: update the moving mean, then normalize with the updated value."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (None, 2), name="x")
        mean = gc.Variable(np.zeros(2), trainable=False, name="moving_mean")
        update = gc.assign(mean, 0.5 * mean + 0.5 * gc.reduce_mean(x, axis=0))
        with gc.control_dependencies([update]):
            centered = x - mean
        init = gc.global_variables_initializer()
    batch = np.array([[2.0, 4.0], [6.0, 8.0]])
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        np.testing.assert_allclose(sess.run(centered, {x: batch}), batch - [2.0, 3.0])
        np.testing.assert_allclose(sess.run(centered, {x: batch}), batch - [3.0, 4.5])
        np.testing.assert_allclose(sess.run(mean), [3.0, 4.5])


@pytest.mark.parametrize("optimize", MODES)
def test_read_value_is_a_new_read_ordered_after_the_block(optimize):
    g = gc.Graph()
    with g.as_default():
        v = gc.Variable(1.0, name="v")
        outside = v.read_value()
        bump = v.assign_add(1.0)
        with gc.control_dependencies([bump]):
            inside = v.read_value()
        init = gc.global_variables_initializer()
    assert outside.op.type == inside.op.type == "read_variable"
    assert outside is not v.value() and inside is not outside
    assert not outside.op.control_inputs and list(inside.op.control_inputs) == [bump.op]
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        assert sess.run(outside) == 1.0
        assert sess.run(inside) == 2.0 and sess.run(inside) == 3.0
        assert sess.run(outside) == 3.0 and sess.run(v.value()) == 3.0


def test_reads_outside_blocks_still_share_the_snapshot(graph):
    """Outside any block a Variable converts to its one snapshot (no extra ops)."""
    v = gc.Variable(1.0, name="v")
    assert gc.identity(v).op.inputs[0] is v.value()
    before = len(graph.get_operations())
    _ = v * 2.0
    assert len(graph.get_operations()) == before + 2  # the constant 2.0 and the mul
