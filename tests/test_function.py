"""gc.function: Python functions traced once per input signature into optimized graphs,
run from their cached plans, with TF2's retracing and variable rules."""
import numpy as np
import pytest

import graphc as gc
from graphc.graph import required_ops


def test_traced_once_per_signature_and_same_results_as_eager():
    @gc.function
    def f(x, scale):
        return gc.reduce_sum(gc.tanh(x) * scale), x * 2.0

    x32 = np.linspace(-2, 2, 6, dtype=np.float32)
    with gc.eager():
        total, doubled = f(x32, 3.0)
        assert isinstance(total, gc.Tensor)
        np.testing.assert_allclose(total.numpy(), np.sum(np.tanh(x32) * 3.0), rtol=1e-6)
        np.testing.assert_array_equal(doubled.numpy(), x32 * 2)
        f(x32 + 1, 3.0)                       # same signature: no new trace
        assert f.experimental_get_tracing_count() == 1
        f(x32, 4.0)                           # a new Python value: a new trace
        f(x32[:3], 4.0)                       # a new shape
        f(x32.astype(np.float64), 4.0)        # a new dtype
        assert f.experimental_get_tracing_count() == 4
        eager_total = gc.reduce_sum(gc.tanh(gc.constant(x32)) * 3.0)
        assert float(eager_total) == float(f(x32, 3.0)[0])


def test_input_signature_generalizes_dims_and_rejects_others():
    @gc.function(input_signature=[gc.TensorSpec([None, 2], gc.float32)])
    def row_sums(x):
        return gc.reduce_sum(x, axis=1)

    with gc.eager():
        np.testing.assert_array_equal(row_sums(np.ones((3, 2), np.float32)).numpy(), [2] * 3)
        np.testing.assert_array_equal(row_sums(np.ones((5, 2), np.float32)).numpy(), [2] * 5)
        assert row_sums.experimental_get_tracing_count() == 1
        with pytest.raises(TypeError, match="does not match"):
            row_sums(np.ones((3, 3), np.float32))
    concrete = row_sums.get_concrete_function()
    assert concrete.inputs[0].shape.as_list() == [None, 2]


def test_variables_are_shared_with_eager_code_and_updates_run_every_call():
    with gc.eager():
        counter = gc.Variable(0.0, name="fn_counter")
        total = gc.Variable([0.0, 0.0], name="fn_total")

        @gc.function
        def step(x):
            counter.assign_add(1.0)          # not returned: still runs on every call
            total.assign_add(x)
            return total.read_value() * 1.0  # reads see the assignment before them

        for _ in range(3):
            last = step(np.ones(2, np.float32))
        np.testing.assert_array_equal(last.numpy(), [3.0, 3.0])
        assert float(gc.convert_to_tensor(counter)) == 3.0
        total.assign([10.0, 10.0])           # eager writes are what the function reads
        np.testing.assert_array_equal(step(np.zeros(2, np.float32)).numpy(), [10.0, 10.0])


def test_variables_only_on_the_first_trace():
    made = {}

    @gc.function
    def layer(x):
        if "w" not in made:
            made["w"] = gc.Variable(gc.ones([2]) * 2.0, name="fn_lifted")
        return x * made["w"]

    with gc.eager():
        np.testing.assert_array_equal(layer(np.ones(2, np.float32)).numpy(), [2.0, 2.0])
        made["w"].assign([3.0, 3.0])          # a lifted variable is an eager one
        np.testing.assert_array_equal(layer(np.ones(2, np.float32)).numpy(), [3.0, 3.0])
        made.clear()
        with pytest.raises(ValueError, match="first trace"):
            layer(np.ones(3, np.float32))     # retrace that creates a variable again


def test_concrete_function_graph_is_optimized_and_inspectable(tmp_path):
    @gc.function
    def g(x):
        return gc.log(gc.nn.softmax(x)) * 1.0 + 0.0

    with gc.eager():
        concrete = g.get_concrete_function(gc.TensorSpec([4], gc.float32))
        types = {op.type for op in concrete.graph.get_operations()}
        assert {"softmax", "log"} <= types
        table = concrete.pass_table()
        assert "stabilize" in table and "algebraic" in table
        records = concrete.optimization_records()
        assert any(r.rewrites for r in records)
        assert "softmax" in str(concrete.graph)
        path = gc.render(concrete.outputs, str(tmp_path / "f.dot"))
        assert path.exists()
        value = g(np.array([1.0, 2.0, 3.0, 4.0], np.float32)).numpy()
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(value, x - np.log(np.sum(np.exp(x))), rtol=1e-6)


def test_python_control_flow_runs_at_trace_time_and_tensor_branches_are_refused():
    @gc.function
    def power(x, n):
        result = x
        for _ in range(n - 1):
            result = result * x
        return result

    @gc.function
    def branchy(x):
        if gc.reduce_sum(x) > 0:
            return x
        return -x

    with gc.eager():
        assert float(power(np.float32(2.0), 5)) == 32.0
        with pytest.raises(TypeError, match="Python bool"):
            branchy(np.ones(2, np.float32))


def test_tape_inside_a_function_and_errors_name_the_line():
    with gc.eager():
        w = gc.Variable([1.0, -1.0], name="fn_w")

        @gc.function
        def train(x):
            with gc.GradientTape() as tape:
                loss = gc.reduce_sum(gc.square(x * w))
            grad = tape.gradient(loss, w)
            w.assign_sub(0.1 * grad)
            return loss

        first = float(train(np.ones(2, np.float32)))
        assert float(train(np.ones(2, np.float32))) < first

        @gc.function
        def bad(x):
            return gc.matmul(x, x)

        with pytest.raises(ValueError, match="test_function.py"):
            bad(np.ones(3, np.float32))


def test_in_graph_mode_a_function_is_inlined():
    @gc.function
    def f(x):
        return x * 3.0

    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [])
        y = f(x)
    assert y.graph is graph and any(op.type == "multiply" for op in required_ops([y]))
    with gc.Session(graph=graph) as sess:
        assert sess.run(y, {x: 2.0}) == 6.0


def test_seed_example_runs_and_graphc_inspects_its_function(tmp_path, capsys):
    import runpy
    from graphc.tools import cli
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    example = str(root / "tools" / "examples" / "seed_example.py")
    seed_example = runpy.run_path(example)
    assert seed_example["main"](str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "yhat.data = -0.0100" in out and "yhat.partial(theta[0]) = 0.1000" in out
    assert (tmp_path / "seed_eager_tree.png").stat().st_size > 0
    assert cli.main(["inspect", example]) == 0
    assert "fusion" in capsys.readouterr().out


def test_cond_and_while_loop_inside_a_traced_function_and_under_a_tape():
    @gc.function
    def repeated(x):
        y = gc.cond(gc.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)
        _, total = gc.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc + y),
                                 (gc.constant(0), gc.zeros_like(x)))
        return total
    with gc.eager():
        np.testing.assert_array_equal(repeated(np.array([1.0, 2.0], np.float32)).numpy(),
                                      [6.0, 12.0])
        np.testing.assert_array_equal(repeated(np.array([-5.0, 1.0], np.float32)).numpy(),
                                      [-18.0, 0.0])
        x = gc.constant([1.0, 2.0])
        with gc.GradientTape() as tape:
            tape.watch(x)
            total = gc.reduce_sum(repeated(x))
        np.testing.assert_array_equal(tape.gradient(total, x).numpy(), [6.0, 6.0])
