"""The one-frame eager calls (graphc/eager/fast_calls.py): ``gc.tanh(x)`` and ``x * 1.01`` of a
planned kind give what the general path gives: values (bitwise), dtypes, the recorded op with
its name, inputs and user's line, gradients and errors; and they step aside where it must
decide (tapes, variables, names, scopes, traces)."""
import inspect
import math

import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.eager import EagerTensor
from graphc.ops import elementwise
from tests.registry_cases import build, is_array, run, sample_cases


@pytest.fixture
def only_fast_calls(monkeypatch):
    """A call that leaves the fast calls fails: the general path's entry, made to raise."""
    def general_path(*args, **kwargs):
        raise AssertionError("the call left the fast path")
    return lambda: monkeypatch.setattr(elementwise, "apply_elementwise", general_path)


def _unary_cases():
    """Every sample of a table-made unary op function (the ones asking ``run_unary``)."""
    table_api = elementwise.tanh.__code__
    cases, ids = [], []
    for (opdef, sample), case_id in zip(*sample_cases()):
        api = registry.api_for(opdef.name)
        if getattr(api, "__code__", None) is table_api and len(sample.args) == 1 and \
                is_array(sample.args[0]) and not sample.kwargs:
            cases.append((opdef, sample))
            ids.append(case_id)
    return cases, ids


UNARY_CASES, UNARY_IDS = _unary_cases()


def _same_bits(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()  # bitwise: NaN payloads and -0.0 included


@pytest.mark.parametrize("opdef,sample", UNARY_CASES, ids=UNARY_IDS)
def test_a_fast_unary_call_is_the_general_call(opdef, sample, only_fast_calls):
    graph, outputs, feeds = build(opdef, sample)
    expected = run(graph, outputs, feeds)[0]
    api = registry.api_for(opdef.name)
    with gc.eager():
        x = gc.constant(np.asarray(sample.args[0]))
        general = api(x)  # plans the call (the graph mode's build)
        only_fast_calls()
        fast = api(x)
        _same_bits(fast.numpy(), general.numpy())
        _same_bits(fast.numpy(), expected)
        assert (fast.dtype, fast.shape.as_list()) == (general.dtype, general.shape.as_list())
        assert fast.op.type == opdef.name and fast.op.inputs == (x,)
        assert fast.name == fast.op.name + ":0" == general.name


NUMBERS = [2, -3, 0, 2.5, -0.0, 0.0, 1e-45, 3.0e38, math.inf, -math.inf, math.nan, True, False]
ARRAYS = [np.array([1.5, -0.0, np.inf, np.nan, -2.0, 3.0e38], np.float32),
          np.array([0.25, -7.0, np.nan], np.float64), np.array([3, -4, 0, 7], np.int32),
          np.array([True, False]), np.zeros((0, 2), np.float32), np.float32(4.5)]
OPERATORS = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"]


def _apply(operator, left, right):
    method = getattr(left, f"__{operator}__", None)
    result = NotImplemented if method is None else method(right)
    if result is NotImplemented:
        result = getattr(right, f"__r{operator}__")(left)
    return result


def _graph_answer(operator, array, number, reflected):
    """The value of the call in a graph Session, or the type of the error building or
    running it."""
    graph = gc.Graph()
    with graph.as_default():
        x = gc.constant(array)
        try:
            y = _apply(operator, number, x) if reflected else _apply(operator, x, number)
            with gc.Session() as session:
                return session.run(y)
        except Exception as err:  # noqa: BLE001 - the answer is the kind of error
            return type(err)


@pytest.mark.parametrize("operator", OPERATORS)
def test_fast_operators_with_python_numbers_answer_as_graph_mode(operator):
    """Every operator taken straight, each way round, with numbers of each Python type
    (signed zeros, NaN, overflow, bools) on arrays of each kind: the value bitwise and its
    dtype, or the graph mode's error, on the first (planned) call and on the fast ones."""
    with gc.eager():
        for array in ARRAYS:
            x = gc.constant(array)
            for number in NUMBERS:
                for reflected in (False, True):
                    want = _graph_answer(operator, array, number, reflected)
                    for _ in range(2):  # the first call plans, the second runs fast
                        if isinstance(want, type):
                            with pytest.raises(want):
                                _apply(operator, number, x) if reflected else \
                                    _apply(operator, x, number)
                            continue
                        got = _apply(operator, number, x) if reflected else \
                            _apply(operator, x, number)
                        _same_bits(got.numpy(), want)


def test_fast_records_are_the_ops_building_would_have_made(only_fast_calls):
    with gc.eager():
        x = gc.constant([0.5, -1.0])
        gc.tanh(x), x * 2.5, 2.5 - x
        only_fast_calls()
        with gc.name_scope("layer"):
            line = inspect.currentframe().f_lineno + 1
            y, z, w = gc.tanh(x), x * 2.5, 2.5 - x
        for tensor, op_type in ((y, "tanh"), (z, "multiply"), (w, "subtract")):
            name = tensor.name
            op = tensor.op
            assert op.type == op_type and op.name.startswith("layer/") and name == op.name + ":0"
            assert op.location.endswith(f"test_eager_fast_calls.py:{line}")
            assert op in x.consumers() and op.outputs == (tensor,)
        assert z.op.inputs[0] is x and w.op.inputs[1] is x
        for constant in (z.op.inputs[1], w.op.inputs[0]):
            assert constant.op.type == "const" and constant.numpy() == np.float32(2.5)
            assert constant.name.startswith("layer/")


def test_gradients_reach_through_fast_records():
    with gc.eager():
        x = gc.constant([0.3, -0.2, 1.5], dtype=gc.float64)
        for _ in range(2):  # the second chain: fast calls only
            y = gc.sin(gc.tanh(x) * 2.0) + 1.0
        want = np.cos(2.0 * np.tanh(x.numpy())) * 2.0 * (1.0 - np.tanh(x.numpy()) ** 2)
        np.testing.assert_allclose(y.partial(x).numpy(), want, rtol=1e-12)
        with gc.GradientTape() as tape:  # a tape sees ordinary ops: the fast calls step aside
            tape.watch(x)
            y = gc.sin(gc.tanh(x) * 2.0) + 1.0
            assert y._producer is None
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-12)


def test_errors_of_calls_the_plans_do_not_fit_name_the_op_and_the_line():
    with gc.eager():
        floats, ints = gc.constant([1.0, 2.0]), gc.constant([1, 2])
        gc.tanh(floats), ints + 1, ints // 2
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(TypeError) as info:
            gc.tanh(ints)
        assert "tanh" in str(info.value) and f"test_eager_fast_calls.py:{line}" in str(info.value)
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(Exception) as info:
            ints // 0  # planned kind, failing kernel: built again, the graph mode's error
        assert "floordiv" in str(info.value) and "division by zero" in str(info.value)
        assert f"test_eager_fast_calls.py:{line}" in str(info.value)


def test_fast_calls_step_aside_for_names_variables_and_traces():
    with gc.eager():
        x = gc.constant([1.0, 2.0])
        gc.exp(x), x * 3.0
        assert gc.exp(x, name="e").op.name == "e"
        v = gc.Variable([1.0, 2.0])
        first = gc.exp(v) * 3.0
        v.assign([0.0, 0.0])
        np.testing.assert_array_equal((gc.exp(v) * 3.0).numpy(), [3.0, 3.0])  # read anew
        assert not np.array_equal(first.numpy(), [3.0, 3.0])
        with gc.control_dependencies([first.op]):
            assert first.op in (x * 3.0).op.control_inputs

        @gc.function
        def traced(y):
            return gc.exp(x) * 3.0 + y  # x captured: these ops are built in the trace

        np.testing.assert_allclose(traced(np.float32(1.0)).numpy(), np.exp([1.0, 2.0]) * 3 + 1,
                                   rtol=1e-6)
        graph = traced.get_concrete_function(np.float32(1.0)).graph
        assert {"exp", "multiply"} <= {op.type for op in graph.get_operations()}


def test_a_constant_from_an_array_is_the_op_building_would_have_made():
    with gc.eager():
        array = np.arange(6.0, dtype=np.float32).reshape(2, 3)
        with gc.name_scope("inputs"):
            line = inspect.currentframe().f_lineno + 1
            c = gc.constant(array, name="c")
        assert c.op.type == "const" and c.op.name == "inputs/c" and c.name == "inputs/c:0"
        assert c.op.location.endswith(f"test_eager_fast_calls.py:{line}")
        assert (c.dtype, c.shape.as_list()) == (gc.float32, [2, 3])
        np.testing.assert_array_equal(c.numpy(), array)
        assert not c.numpy().flags.writeable and c.op.attrs["dtype"] == gc.float32
        attrs = {"value": c.numpy(), "dtype": gc.float32, "size": 1}
        with pytest.raises(ValueError) as info:  # a source op the fast way does not take
            c.graph.create_op("const", [], attrs)
        with pytest.raises(ValueError) as graph_mode:
            gc.Graph().create_op("const", [], attrs)
        assert "Unknown attr 'size'" in str(info.value) and str(info.value) == str(graph_mode.value)


def test_the_unary_hook_answers_only_planned_calls_of_eager_tensors():
    assert getattr(gc.Tensor, "run_unary", None) is None  # graph tensors: the general path
    with gc.eager():
        x = gc.constant(np.ones((1, 1, 1, 7), np.float16))
        assert EagerTensor.run_unary("tanh", x) is None  # no plan yet: the general path plans
        gc.tanh(x)
        np.testing.assert_array_equal(EagerTensor.run_unary("tanh", x).numpy(),
                                      np.tanh(x.numpy()))
