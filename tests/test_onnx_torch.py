"""A small CNN exported by PyTorch (both of its exporters) imported and run, differentiated,
fine-tuned and exported again.

The fixtures in tests/data/torch_onnx were written by ``python -m
graphc.tools.export_torch_cnn tests/data/torch_onnx`` with torch 2.13.0 (CPU): the models,
their inputs, PyTorch's outputs and PyTorch's input gradients (torch is a benchmark peer,
not a dependency, so CI reads what it wrote).
"""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

import graphc as gc  # noqa: E402
from graphc.onnx import export, import_model  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "torch_onnx")
EXPORTERS = ["torchscript", "dynamo"]  # torch.onnx.export(dynamo=False) and (dynamo=True)


def _load(exporter):
    stored = np.load(os.path.join(FIXTURES, f"{exporter}.npz"))
    return os.path.join(FIXTURES, f"{exporter}.onnx"), stored


def _single(mapping):
    (name, tensor), = mapping.items()
    return name, tensor


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_pytorch_exported_cnn_gives_pytorchs_outputs_at_any_batch(exporter):
    path, stored = _load(exporter)
    graph, inputs, outputs = import_model(path)
    (_, image), (_, log_probs) = _single(inputs), _single(outputs)
    assert image.shape.as_list() == [None, 3, 16, 16]  # the exported dynamic batch
    with gc.Session(graph=graph) as sess:
        for batch in (2, 5):
            got = sess.run(log_probs, {image: stored[f"x{batch}"]})
            np.testing.assert_allclose(got, stored[f"y{batch}"], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_pytorch_exported_cnn_agrees_with_onnxruntime(exporter):
    ort = pytest.importorskip("onnxruntime")
    path, stored = _load(exporter)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    graph, inputs, outputs = import_model(path)
    (name, image), (_, log_probs) = _single(inputs), _single(outputs)
    x = stored["x5"]
    want = session.run(None, {name: x})[0]
    with gc.Session(graph=graph) as sess:
        np.testing.assert_allclose(sess.run(log_probs, {image: x}), want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_gradients_through_the_imported_cnn_match_pytorch_autograd(exporter):
    path, stored = _load(exporter)
    graph, inputs, outputs = import_model(path)
    (_, image), (_, log_probs) = _single(inputs), _single(outputs)
    with graph.as_default():
        labels = gc.placeholder(gc.int32, [None])
        picked = gc.reduce_sum(log_probs * gc.one_hot(labels, 10), axis=1)
        loss = -gc.reduce_mean(picked)
        grad_image, = gc.gradients(loss, [image])
    with gc.Session(graph=graph) as sess:
        for batch in (2, 5):
            got = sess.run(grad_image, {image: stored[f"x{batch}"],
                                        labels: stored[f"labels{batch}"]})
            np.testing.assert_allclose(got, stored[f"grad_x{batch}"], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_fine_tuned_pytorch_cnn_exports_and_onnxruntime_agrees(exporter, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path, stored = _load(exporter)
    graph, inputs, outputs = import_model(path, trainable=True)
    (_, image), (_, log_probs) = _single(inputs), _single(outputs)
    x, y = stored["x5"], stored["labels5"]
    with graph.as_default():
        loss = -gc.reduce_mean(gc.reduce_sum(log_probs * gc.one_hot(y, 10), axis=1))
        train = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = gc.global_variables_initializer()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        first = sess.run(loss, {image: x})
        for _ in range(10):
            sess.run(train, {image: x})
        tuned, last = sess.run([log_probs, loss], {image: x})
        assert last < first
        written = str(tmp_path / "tuned.onnx")
        export(sess, [log_probs], [image], written)
    onnx.checker.check_model(written)
    session = ort.InferenceSession(written, providers=["CPUExecutionProvider"])
    again = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(again, tuned, rtol=1e-5, atol=2e-6)
