"""ONNX converters whose operands are static (initializers, Constant nodes): they build
graphc's own ops (top_k, cumsum, gather_nd, scatters, conv2d_transpose), and agree with
onnxruntime. The official node tests feed the same operands as run-time inputs instead."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import graphc as gc  # noqa: E402
from graphc.onnx import import_model  # noqa: E402

RNG = np.random.default_rng(7)


def _agree_with_onnxruntime(nodes, x, initializers, outputs, forbidden_ops=("onnx_",)):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))]
    graph = helper.make_graph(nodes, "g", inputs, [],
                              [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    model.graph.output.extend(inferred[name] for name in outputs)  # the outputs' own types
    want = ort.InferenceSession(model.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, {"x": x})
    imported, placeholders, tensors = import_model(model)
    op_types = {op.type for op in imported.get_operations()}
    assert not [t for t in op_types if t.startswith(forbidden_ops)], sorted(op_types)
    with gc.Session(graph=imported) as sess:
        got = sess.run(list(tensors.values()), {placeholders["x"]: x})
    for name, a, b in zip(outputs, got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)
    return op_types


def test_indexing_ordering_and_running_sums_with_static_operands():
    x = RNG.standard_normal((3, 5)).astype(np.float32)
    consts = {"k": np.array([2], np.int64), "axis": np.array(0, np.int64),
              "gidx": np.array([[0, -1, 2, 1, 0], [2, 2, -3, 0, 1]], np.int64),
              "nd_idx": np.array([[0, 1], [2, -1], [0, 1]], np.int64),
              "upd": np.array([2.0, 3.0, 4.0], np.float32),
              "sidx": np.array([[1, 0, 2, 0, 1]], np.int64),
              "supd": np.ones((1, 5), np.float32)}
    nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=0, largest=0),
             helper.make_node("CumSum", ["x", "axis"], ["c"], exclusive=1, reverse=1),
             helper.make_node("GatherElements", ["x", "gidx"], ["g"], axis=0),
             helper.make_node("ScatterND", ["x", "nd_idx", "upd"], ["s"], reduction="mul"),
             helper.make_node("ScatterElements", ["x", "sidx", "supd"], ["e"], axis=0,
                              reduction="add")]
    op_types = _agree_with_onnxruntime(nodes, x, consts, ["v", "i", "c", "g", "s", "e"],
                                       forbidden_ops=("onnx_top_k", "onnx_cumsum"))
    assert {"top_k", "cumsum", "gather_nd", "tensor_scatter_nd_add"} <= op_types


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2]},
    {"strides": [3, 2], "pads": [1, 2, 0, 1], "output_padding": [1, 0]},
    {"strides": [2, 1], "auto_pad": "SAME_LOWER"},
    {"dilations": [2, 1], "group": 2},
], ids=["strided", "pads_and_output_padding", "same_lower", "dilated_groups"])
def test_conv_transpose_agrees_with_onnxruntime(attrs):
    groups = attrs.get("group", 1)
    x = RNG.standard_normal((2, 2 * groups, 4, 5)).astype(np.float32)
    weights = {"w": RNG.standard_normal((2 * groups, 3, 3, 2)).astype(np.float32),
               "b": RNG.standard_normal(3 * groups).astype(np.float32)}
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)
    assert "conv2d_backprop_input" in _agree_with_onnxruntime([node], x, weights, ["y"])


def test_one_dimensional_convolutions_and_ceil_mode_pools_agree_with_onnxruntime():
    x = RNG.standard_normal((2, 3, 9)).astype(np.float32)
    weights = {"w": RNG.standard_normal((4, 3, 3)).astype(np.float32),
               "wt": RNG.standard_normal((4, 2, 3)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], auto_pad="SAME_LOWER", strides=[2]),
             helper.make_node("ConvTranspose", ["c", "wt"], ["t"], strides=[2]),
             helper.make_node("MaxPool", ["x"], ["m"], kernel_shape=[2], strides=[2],
                              ceil_mode=1),
             helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3], strides=[2],
                              pads=[1, 1], ceil_mode=1, count_include_pad=1)]
    _agree_with_onnxruntime(nodes, x, weights, ["c", "t", "m", "a"])


def test_static_pads_split_and_one_hot_agree_with_onnxruntime():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    consts = {"pads": np.array([1, 0, 0, 2], np.int64), "crop": np.array([0, -1, 1, 0], np.int64),
              "sizes": np.array([1, 3], np.int64), "depth": np.array(4, np.int64),
              "hot": np.array([-1.0, 1.0], np.float32),
              "idx": np.array([[0, 3], [-1, 5]], np.int64)}
    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], mode="reflect"),
             helper.make_node("Pad", ["x", "crop"], ["q"], mode="edge"),
             helper.make_node("Split", ["x", "sizes"], ["s0", "s1"], axis=1),
             helper.make_node("Cast", ["idx"], ["fidx"], to=TensorProto.FLOAT),
             helper.make_node("OneHot", ["idx", "depth", "hot"], ["h"], axis=1)]
    _agree_with_onnxruntime(nodes, x, consts, ["p", "q", "s0", "s1", "h"],
                            forbidden_ops=("onnx_slice", "onnx_tile"))


# -- control flow ------------------------------------------------------------------------------
def _graph(name, nodes, inputs, outputs):
    info = helper.make_tensor_value_info
    return helper.make_graph(nodes, name, [info(n, t, s) for n, t, s in inputs],
                             [info(n, t, s) for n, t, s in outputs])


F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def test_if_loop_and_scan_agree_with_onnxruntime():
    """If branches read an outer value; the Loop carries a sum and collects a scan output
    (stopping on its trip count); Scan runs backwards over axis 1 and stacks along axis 1."""
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    then_branch = _graph("then", [helper.make_node("Mul", ["x", "x"], ["t"])], [],
                         [("t", F, [3, 4])])
    else_branch = _graph("else", [helper.make_node("Neg", ["x"], ["e"])], [],
                         [("e", F, [3, 4])])
    loop_body = _graph("body", [
        helper.make_node("Identity", ["going"], ["going_out"]),
        helper.make_node("Cast", ["i"], ["fi"], to=F),
        helper.make_node("Add", ["acc", "fi"], ["acc_out"]),
        helper.make_node("Mul", ["acc_out", "x"], ["step_out"])],
        [("i", I64, []), ("going", B, []), ("acc", F, [])],
        [("going_out", B, []), ("acc_out", F, []), ("step_out", F, [3, 4])])
    scan_body = _graph("scan", [
        helper.make_node("Add", ["state", "column"], ["state_out"]),
        helper.make_node("Relu", ["state_out"], ["column_out"])],
        [("state", F, [3]), ("column", F, [3])], [("state_out", F, [3]),
                                                  ("column_out", F, [3])])
    consts = {"trips": np.array(3, np.int64), "yes": np.array(True),
              "zero": np.array(0.5, np.float32), "state0": np.zeros(3, np.float32)}
    nodes = [helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
             helper.make_node("Greater", ["total", "zero"], ["positive"]),
             helper.make_node("If", ["positive"], ["chosen"], then_branch=then_branch,
                              else_branch=else_branch),
             helper.make_node("Loop", ["trips", "yes", "zero"], ["acc", "steps"],
                              body=loop_body),
             helper.make_node("Scan", ["state0", "x"], ["state", "columns"], body=scan_body,
                              num_scan_inputs=1, scan_input_axes=[1],
                              scan_input_directions=[1], scan_output_axes=[1])]
    outputs = ["chosen", "acc", "steps", "state", "columns"]
    op_types = _agree_with_onnxruntime(nodes, x, consts, outputs, forbidden_ops=())
    assert {"cond", "while_loop"} <= op_types
    _agree_with_onnxruntime(nodes, -np.abs(x), consts, outputs, forbidden_ops=())  # else


def test_a_subgraph_reading_a_value_nothing_produces_is_refused():
    from graphc.onnx import UnsafeModelError  # noqa: PLC0415
    branch = _graph("b", [helper.make_node("Neg", ["nowhere"], ["o"])], [], [("o", F, [2])])
    node = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
    graph = _graph("g", [node], [("c", B, [])], [("y", F, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(UnsafeModelError, match="'nowhere', which nothing produces"):
        import_model(model)


def test_pools_graphc_has_no_op_for_agree_with_onnxruntime():
    """3-D pools, dilated pools and MaxPool's Indices (row- and column-major) gather their
    windows; 2-D pools without dilations keep graphc's own max_pool/avg_pool."""
    x = RNG.standard_normal((2, 3, 5, 6, 4)).astype(np.float32)
    nodes = [helper.make_node("MaxPool", ["x"], ["m"], kernel_shape=[2, 3, 2],
                              strides=[2, 1, 2], pads=[1, 0, 1, 0, 1, 1], ceil_mode=1),
             helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3, 2, 2],
                              dilations=[1, 2, 1], pads=[1, 1, 0, 1, 0, 1],
                              count_include_pad=1),
             helper.make_node("AveragePool", ["x"], ["b"], kernel_shape=[2, 2, 3],
                              auto_pad="SAME_LOWER")]
    op_types = _agree_with_onnxruntime(nodes, x, {}, ["m", "a", "b"])
    assert "gather" in op_types and "max_pool" not in op_types
    images = RNG.standard_normal((2, 3, 6, 5)).astype(np.float32)
    nodes = [helper.make_node("MaxPool", ["x"], ["m", "i"], kernel_shape=[3, 2],
                              strides=[2, 1], pads=[1, 0, 1, 1]),
             helper.make_node("MaxPool", ["x"], ["mc", "ic"], kernel_shape=[2, 2],
                              dilations=[2, 1], storage_order=1),
             helper.make_node("MaxPool", ["x"], ["plain"], kernel_shape=[2, 2])]
    assert "max_pool" in _agree_with_onnxruntime(nodes, images, {},
                                                 ["m", "i", "mc", "ic", "plain"])


def test_einsum_ellipses_are_spelled_out():
    x = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    consts = {"w": RNG.standard_normal((3, 4)).astype(np.float32)}
    nodes = [helper.make_node("Einsum", ["x"], ["d"], equation="...ii->...i"),
             helper.make_node("Einsum", ["x", "w"], ["p"], equation="...j,jk"),
             helper.make_node("Einsum", ["w", "x"], ["q"], equation="jk,...ij->...ik")]
    _agree_with_onnxruntime(nodes, x, consts, ["d", "p", "q"])


def test_a_run_time_k_beyond_the_axis_is_an_error_naming_it():
    graph = _graph("g", [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1)],
                   [("x", F, [2, 3]), ("k", I64, [1])], [("v", F, None), ("i", I64, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    imported, inputs, outputs = import_model(model)
    with gc.Session(graph=imported) as sess, pytest.raises(Exception, match=r"K=4 .*\[0, 3\]"):
        sess.run(outputs["v"], {inputs["x"]: np.zeros((2, 3), np.float32),
                                inputs["k"]: np.array([4], np.int64)})


@pytest.mark.parametrize("multiplier, attrs", [
    (1, {"pads": [1, 1, 1, 1]}), (2, {"strides": [2, 2]}), (1, {"dilations": [2, 2]})],
    ids=["same_size", "strided_multiplier_2", "dilated"])
def test_a_conv_with_a_group_per_channel_runs_as_one_depthwise_kernel(multiplier, attrs):
    """ShuffleNet's grouped convolutions ran as one conv per group (56x onnxruntime)."""
    x = RNG.standard_normal((2, 4, 9, 9)).astype(np.float32)
    weights = {"W": RNG.standard_normal((4 * multiplier, 1, 3, 3)).astype(np.float32),
               "B": RNG.standard_normal(4 * multiplier).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["y"], group=4, **attrs)]
    op_types = _agree_with_onnxruntime(nodes, x, weights, ["y"])
    assert "depthwise_conv2d_native" in op_types and "conv2d" not in op_types
