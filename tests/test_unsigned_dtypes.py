"""uint32 and uint64 as TF1 has them: creation, casts (out-of-range values included),
arithmetic that wraps, the signed-only ops refusing them, files and ONNX round trips."""
import numpy as np
import pytest

import graphc as gc

UNSIGNED = [gc.uint32, gc.uint64]


def _run(fetches, feeds, graph):
    with gc.Session(graph=graph) as sess:
        return sess.run(fetches, feed_dict=feeds)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_names_ranges_and_properties_follow_tf(dtype):
    bits = dtype.size * 8
    assert gc.as_dtype(dtype.name) is dtype and gc.as_dtype(dtype.np) is dtype
    assert gc.as_dtype(f"{dtype.name}_ref") is dtype
    assert dtype.is_unsigned and dtype.is_integer and dtype.is_numeric
    assert not dtype.is_floating and dtype.min == 0 and dtype.max == 2 ** bits - 1
    assert dtype.as_numpy_dtype is {32: np.uint32, 64: np.uint64}[bits]


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_placeholders_constants_and_variables_hold_the_full_range(dtype):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(dtype, [3], name="x")
        top = gc.constant(dtype.max, dtype)
        v = gc.Variable(np.array([0, 1, dtype.max], dtype.np), name="v")
        assert (x.dtype, top.dtype, v.dtype.base_dtype) == (dtype, dtype, dtype)
        init = gc.global_variables_initializer()
        with gc.Session() as sess:
            sess.run(init)
            got_x, got_top, got_v = sess.run([x, top, v], {x: np.array([7, 0, 5], dtype.np)})
    assert got_x.dtype == dtype.np and got_x.tolist() == [7, 0, 5]
    assert int(got_top) == dtype.max and got_v.tolist() == [0, 1, dtype.max]


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_python_values_outside_the_range_are_refused(dtype):
    with gc.Graph().as_default():
        for value in (-1, dtype.max + 1, 1.5):
            with pytest.raises(TypeError, match=f"Cannot convert {value}"):
                gc.constant(value, dtype)


def test_integer_casts_wrap_modulo_two_to_the_bits():
    values = np.array([-1, -2 ** 31, 2 ** 31 - 1, 5], np.int32)
    big = np.array([2 ** 64 - 1, 2 ** 63, 5], np.uint64)
    with gc.Graph().as_default():
        x, u = gc.constant(values), gc.constant(big)
        got = _run([gc.cast(x, gc.uint32), gc.cast(x, gc.uint64), gc.cast(u, gc.int64),
                    gc.cast(u, gc.uint32), gc.cast(u, gc.float64)], None, x.graph)
    assert got[0].tolist() == [2 ** 32 - 1, 2 ** 31, 2 ** 31 - 1, 5]
    assert got[1].tolist() == [2 ** 64 - 1, 2 ** 64 - 2 ** 31, 2 ** 31 - 1, 5]
    assert got[2].tolist() == [-1, -2 ** 63, 5] and got[3].tolist() == [2 ** 32 - 1, 0, 5]
    assert got[4].tolist() == [2.0 ** 64, 2.0 ** 63, 5.0]


@pytest.mark.parametrize("source", [np.float32, np.float64])
def test_float_casts_out_of_range_follow_tf1s_scalar_conversion(source):
    """Measured on TF 2.21 CPU (one-element tensors: its scalar loop): truncation toward
    zero, negatives wrap, what int64 cannot hold becomes int64's minimum (0 / 2**63)."""
    values = np.array([-1.5, -0.5, 2.9, 3e9, 5e9, -5e9, 1.25 * 2 ** 63, 1e30, np.inf, -np.inf,
                       np.nan], source)  # each exact in float32 too
    want32 = [2 ** 32 - 1, 0, 2, 3_000_000_000, 705_032_704, 3_589_934_592, 0, 0, 0, 0, 0]
    want64 = [2 ** 64 - 1, 0, 2, 3_000_000_000, 5_000_000_000, 2 ** 64 - 5_000_000_000,
              5 * 2 ** 61, 2 ** 63, 2 ** 63, 2 ** 63, 2 ** 63]
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.as_dtype(source), [None])
        got32, got64 = _run([gc.cast(x, gc.uint32), gc.cast(x, gc.uint64)], {x: values}, graph)
    assert got32.dtype == np.uint32 and got32.tolist() == want32
    assert got64.dtype == np.uint64 and got64.tolist() == want64


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_arithmetic_wraps_around_like_numpy(dtype):
    rng = np.random.default_rng(5)
    a = rng.integers(0, dtype.max, size=50, dtype=dtype.np, endpoint=True)
    b = rng.integers(1, dtype.max, size=50, dtype=dtype.np, endpoint=True)
    graph = gc.Graph()
    with graph.as_default():
        x, y = gc.placeholder(dtype, [None]), gc.placeholder(dtype, [None])
        fetches = [x + y, x - y, x * y, x // y, x % y, gc.maximum(x, y), x < y, gc.equal(x, y),
                   gc.reduce_sum(x), gc.reduce_max(x), gc.cumsum(x), gc.square(x), x / y]
        got = _run(fetches, {x: a, y: b}, graph)
    with np.errstate(over="ignore"):
        want = [a + b, a - b, a * b, a // b, a % b, np.maximum(a, b), a < b, a == b,
                np.sum(a, dtype=dtype.np), a.max(), np.cumsum(a, dtype=dtype.np), a * a,
                a / b]
    for fetched, expected in zip(got, want):
        assert fetched.dtype == expected.dtype
        np.testing.assert_array_equal(fetched, expected)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_shape_and_indexing_ops_take_them(dtype):
    data = np.arange(12, dtype=dtype.np).reshape(3, 4) * np.array(dtype.max // 16, dtype.np)
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(dtype, [3, 4])
        fetches = [gc.reshape(x, [4, 3]), gc.transpose(x), gc.concat([x, x], 0),
                   gc.gather(x, [2, 0]), x[1:, ::2], gc.where(x > 5, x, gc.zeros_like(x)),
                   gc.tile(x, [1, 2]), gc.pad(x, [[1, 0], [0, 1]])]
        got = _run(fetches, {x: data}, graph)
    want = [data.reshape(4, 3), data.T, np.concatenate([data, data]), data[[2, 0]],
            data[1:, ::2], np.where(data > 5, data, 0), np.tile(data, [1, 2]),
            np.pad(data, [[1, 0], [0, 1]])]
    for fetched, expected in zip(got, want):
        assert fetched.dtype == dtype.np
        np.testing.assert_array_equal(fetched, expected)


@pytest.mark.parametrize("op", [gc.negative, gc.abs, gc.sign, gc.pow, gc.squared_difference])
@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_tfs_signed_only_ops_refuse_them_naming_op_and_dtype(op, dtype):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(dtype, [2], name="u")
        before = len(graph.get_operations())
        args = (x,) if op in (gc.negative, gc.abs, gc.sign) else (x, x)
        with pytest.raises(TypeError, match=f"{op.__name__} requires a signed numeric input, "
                                            f"got {dtype.name}"):
            op(*args)
        assert len(graph.get_operations()) == before


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_a_graph_of_them_survives_a_file_round_trip(dtype, tmp_path):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(dtype, [None], name="x")
        top = gc.constant(np.array([dtype.max, 1], dtype.np), name="top")
        gc.identity(x * 3 + top[0], name="out")
    path = str(tmp_path / "graph.pb")
    gc.train.write_graph(graph, str(tmp_path), "graph.pb", as_text=False)
    again = gc.Graph()
    with again.as_default():
        with open(path, "rb") as handle:
            gc.import_graph_def(gc.GraphDef.FromString(handle.read()), name="")
    values = np.array([0, 5, dtype.max], dtype.np)
    feeds = {again.get_tensor_by_name("x:0"): values}
    got = _run(again.get_tensor_by_name("out:0"), feeds, again)
    assert again.get_tensor_by_name("top:0").dtype is dtype
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, values * dtype.np.type(3) + dtype.np.type(dtype.max))


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_onnx_export_and_import_agree_with_onnxruntime(dtype):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from graphc.onnx import export, import_model
    rng = np.random.default_rng(11)
    a = rng.integers(0, dtype.max, size=(3, 4), dtype=dtype.np, endpoint=True)
    b = rng.integers(1, 1000, size=(3, 4), dtype=dtype.np)
    graph = gc.Graph()
    with graph.as_default():
        x, y = gc.placeholder(dtype, [None, 4], name="x"), gc.placeholder(dtype, [None, 4],
                                                                       name="y")
        outs = [x + y * 7, y - x, gc.cast(x, gc.float64), gc.maximum(x, y), x < y,
                gc.reshape(gc.transpose(x), [-1])]
    model = export(graph, outs, [x, y])
    assert model.graph.input[0].type.tensor_type.elem_type == \
        {32: 12, 64: 13}[dtype.size * 8]  # TensorProto.UINT32 / UINT64
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    want = _run(outs, {x: a, y: b}, graph)
    for got, expected in zip(session.run(None, {"x": a, "y": b}), want):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    imported, inputs, outputs = import_model(model)
    assert [p.dtype for p in inputs.values()] == [dtype, dtype]
    again = _run(list(outputs.values()), dict(zip(inputs.values(), (a, b))), imported)
    for got, expected in zip(again, want):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_bitwise_ops_and_shifts_act_on_all_the_bits(dtype):
    bits = dtype.size * 8
    top = np.array([1, 2 ** (bits - 1), dtype.max], dtype.np)
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(dtype, [3])
        amounts = gc.constant(np.array([bits - 1, bits - 1, 4], dtype.np))
        got = _run([gc.bitwise.left_shift(x, amounts), gc.bitwise.right_shift(x, amounts),
                    gc.bitwise.invert(x), gc.bitwise.bitwise_xor(x, gc.constant(top[::-1])),
                    gc.bitwise.bitwise_and(x, 6), gc.bitwise.bitwise_or(x, 6)], {x: top}, graph)
    assert got[0].tolist() == [2 ** (bits - 1), 0, (dtype.max << 4) & dtype.max]
    assert got[1].tolist() == [0, 1, dtype.max >> 4]
    assert got[2].tolist() == [dtype.max - 1, 2 ** (bits - 1) - 1, 0]
    assert got[3].tolist() == [dtype.max - 1, 0, dtype.max - 1]
    assert got[4].tolist() == [0, 0, 6] and got[5].tolist() == [7, 2 ** (bits - 1) + 6,
                                                                  dtype.max]


def test_bitwise_ops_export_at_opset_18_and_agree_with_onnxruntime():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from graphc.onnx import ExportError, export
    rng = np.random.default_rng(3)
    a, b = (rng.integers(0, 2 ** 32, size=(2, 5), dtype=np.uint32) for _ in range(2))
    graph = gc.Graph()
    with graph.as_default():
        x, y = gc.placeholder(gc.uint32, [None, 5], name="x"), gc.placeholder(gc.uint32, [None, 5],
                                                                           name="y")
        outs = [gc.bitwise.bitwise_and(x, y), gc.bitwise.bitwise_or(x, y),
                gc.bitwise.bitwise_xor(x, y), gc.bitwise.invert(x)]
    with pytest.raises(ExportError, match="bitwise ops need opset 18"):
        export(graph, outs, [x, y], opset=17)
    session = ort.InferenceSession(export(graph, outs, [x, y], opset=18).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    for got, want in zip(session.run(None, {"x": a, "y": b}), [a & b, a | b, a ^ b, ~a]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda d: d.name)
def test_onnx_abs_and_sign_of_unsigned_tensors_import(dtype):
    """ONNX's Abs and Sign take unsigned types, graphc's abs and sign (TF's) refuse them."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import helper
    from graphc.onnx import import_model
    elem = helper.np_dtype_to_tensor_dtype(dtype.np)
    nodes = [helper.make_node("Abs", ["x"], ["a"]), helper.make_node("Sign", ["x"], ["s"])]
    model = helper.make_model(helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", elem, [4])],
        [helper.make_tensor_value_info(name, elem, [4]) for name in "as"]),
        opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    value = np.array([0, 1, 7, dtype.max], dtype.np)
    want = ort.InferenceSession(model.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, {"x": value})
    graph, inputs, outputs = import_model(model)
    got = _run(list(outputs.values()), {inputs["x"]: value}, graph)
    for fetched, expected in zip(got, want):
        assert fetched.dtype == expected.dtype
        np.testing.assert_array_equal(fetched, expected)
