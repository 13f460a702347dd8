"""graphc graphs exported as ONNX: checked by onnx.checker and run by onnxruntime with the
same results, variables with their session values, optimized (fused) graphs included."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import graphc as gc  # noqa: E402
from graphc.onnx import ExportError, export, import_model  # noqa: E402


def _ort(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _trained_cnn():
    rng = np.random.default_rng(0)
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, 8, 8, 1], name="images")
        labels = gc.placeholder(gc.int32, [None], name="labels")
        k1 = gc.Variable(rng.standard_normal((3, 3, 1, 4)).astype(np.float32) * 0.3, name="k1")
        k2 = gc.Variable(rng.standard_normal((1, 1, 4, 6)).astype(np.float32) * 0.3, name="k2")
        w = gc.Variable(rng.standard_normal((6, 3)).astype(np.float32) * 0.3, name="w")
        b = gc.Variable(np.zeros(3, np.float32), name="b")
        h = gc.nn.relu(gc.nn.conv2d(x, k1, [1, 1, 1, 1], "SAME"))
        h = gc.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        h = gc.tanh(gc.nn.conv2d(h, k2, [1, 1, 1, 1], "VALID") * 0.5 + 0.1)
        pooled = gc.reduce_mean(h, axis=[1, 2])
        logits = gc.matmul(pooled, w) + b
        probs = gc.nn.softmax(logits)
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        train = gc.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=graph)
    sess.run(init)
    data = rng.standard_normal((16, 8, 8, 1)).astype(np.float32)
    for _ in range(5):
        sess.run(train, {x: data, labels: rng.integers(0, 3, 16).astype(np.int32)})
    return sess, x, probs, data


@pytest.mark.parametrize("optimize", [False, True])
def test_a_trained_cnn_runs_in_onnxruntime_with_the_same_results(tmp_path, optimize):
    sess, x, probs, data = _trained_cnn()
    model = export(sess, [probs], [x], tmp_path / "cnn.onnx", optimize=optimize)
    onnx.checker.check_model(onnx.load(str(tmp_path / "cnn.onnx")))
    if optimize:
        assert len(model.graph.node) > 0
    [got] = _ort(model, {"images": data})
    np.testing.assert_allclose(got, sess.run(probs, {x: data}), rtol=1e-5, atol=1e-6)
    sess.close()


def test_import_export_round_trip_agrees_with_onnxruntime():
    from tests.test_onnx import _small_cnn
    original = _small_cnn()
    graph, inputs, outputs = import_model(original)
    exported = export(graph, list(outputs.values()), list(inputs.values()))
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)
    [want] = _ort(original, {"x": x})
    [got] = _ort(exported, {"x": x})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_ops_without_an_onnx_form_are_named():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [3])
        y = gc.py_func(lambda a: a * 2, [x], gc.float32)
    with pytest.raises(ExportError, match="py_func"):
        export(graph, [y], [x], optimize=False)


def test_each_ops_onnx_writer_is_declared_on_its_opdef():
    from graphc import registry
    from graphc.onnx import export_writers
    assert registry.get("add").exports["onnx"].__module__ == export_writers.__name__
    assert registry.get("conv2d").exports["onnx"] is export_writers._conv
    with pytest.raises(ValueError, match="'conv2d' already has a 'onnx' writer"):
        registry.declare_export("conv2d", "onnx", lambda w, op, ins: [])
    assert registry.get("conv2d").exports["onnx"] is export_writers._conv  # unchanged


@pytest.mark.parametrize("opset", [17, 18])
def test_splits_export_with_equal_parts_and_with_sizes_including_the_rest(opset):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, 6], name="x")
        halves = gc.split(x, 2, axis=1)
        pieces = gc.split(x, [1, -1, 2], axis=-1)
        out = gc.concat([halves[1] * 2.0, halves[0]], 1) + gc.concat(pieces[::-1], 1)
    data = np.arange(18, dtype=np.float32).reshape(3, 6)
    with gc.Session(graph=graph) as sess:
        want = sess.run(out, {x: data})
        model = export(sess, [out], [x], opset=opset, optimize=False)
    onnx.checker.check_model(model)
    np.testing.assert_allclose(_ort(model, {"x": data})[0], want)


def test_a_transpose_without_perm_exports_as_reversed_axes():
    """gc.transpose(x) leaves perm None (the axes reversed): the writer read it as a list."""
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [2, 3, 4], name="x")
        y = gc.transpose(x)
    value = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    (got,) = _ort(export(graph, [y], [x]), {"x": value})
    np.testing.assert_array_equal(got, value.transpose())
