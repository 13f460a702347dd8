"""The light real models the onnx wheel ships (AlexNet, Inception v1/v2, ResNet-50,
DenseNet-121, VGG-19, SqueezeNet, ShuffleNet, ZFNet-512): imported, run through an optimizing
Session, checked against their stored outputs and onnxruntime, and timed next to it.

    python -m graphc.tools.onnx_real_models [--runs 5] [--only resnet50]

Inputs are the onnx test runner's deterministic dummy data (``arange / n``), the data its
stored outputs were computed from. Times are medians of ``--runs`` calls after one warm-up.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time

import numpy as np

import graphc as gc
from graphc.onnx import import_model


def light_models() -> list:
    """``(name, model path, stored output path)`` of every light model in the onnx wheel."""
    import onnx  # noqa: PLC0415 - the optional extra
    folder = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "light_*.onnx"))):
        name = os.path.basename(path)[len("light_"):-len(".onnx")]
        found.append((name, path, path[:-len(".onnx")] + "_output_0.pb"))
    return found


def dummy_inputs(model) -> dict:
    from onnx.backend.test.runner import Runner  # noqa: PLC0415
    initialized = {t.name for t in model.graph.initializer}
    return {value.name: Runner.generate_dummy_data(value, seed=0, random=False)
            for value in model.graph.input if value.name not in initialized}


def stored_output(path) -> np.ndarray:
    import onnx  # noqa: PLC0415
    tensor = onnx.TensorProto()
    with open(path, "rb") as file:
        tensor.ParseFromString(file.read())
    return onnx.numpy_helper.to_array(tensor)


def check_model(path, stored_path, runs: int = 0) -> dict:
    """Import, run, compare (stored outputs, onnxruntime); time when ``runs`` > 0."""
    import onnx  # noqa: PLC0415
    model = onnx.load(path)
    feeds = dummy_inputs(model)
    started = time.perf_counter()
    graph, inputs, outputs = import_model(model)
    imported = time.perf_counter() - started
    fetch = list(outputs.values())[0]
    graphc_feeds = {inputs[name]: value for name, value in feeds.items()}
    with gc.Session(graph=graph) as sess:
        started = time.perf_counter()
        got = sess.run(fetch, graphc_feeds)
        first = time.perf_counter() - started
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            sess.run(fetch, graphc_feeds)
            times.append(time.perf_counter() - started)
    want = stored_output(stored_path)
    result = {"import_s": imported, "first_s": first,
              "max_abs_vs_stored": float(np.max(np.abs(got - want))),
              "agrees_with_stored": bool(np.allclose(got, want, rtol=1e-3, atol=1e-5)),
              "graphc_ms": 1000 * statistics.median(times) if times else None}
    try:
        import onnxruntime as ort  # noqa: PLC0415
    except ImportError:
        return result
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    reference = session.run(None, feeds)[0]
    result["max_abs_vs_onnxruntime"] = float(np.max(np.abs(got - reference)))
    if not result["agrees_with_stored"]:
        result["softmax_logits_agree"] = softmax_logits_agree(model, feeds, ort)
    ort_times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feeds)
        ort_times.append(time.perf_counter() - started)
    result["onnxruntime_ms"] = 1000 * statistics.median(ort_times) if ort_times else None
    return result


def softmax_logits_agree(model, feeds, ort) -> bool | None:
    """Whether a model ending in Softmax gives onnxruntime's logits (rtol 1e-5); None when
    it does not end in Softmax.

    Why: the onnx test data's dummy inputs drive SqueezeNet's 1000 logits to ~9.5e9, all
    equal but for rounding: one float32 ulp there is 1024, so the softmax turns a last-bit
    difference of the final GEMM (OpenBLAS's Haswell edge kernels round some columns
    differently from onnxruntime's MLAS) into entirely different probabilities, and the
    stored output cannot tell a right import from a wrong one. The logits can."""
    import onnx  # noqa: PLC0415
    last = model.graph.node[-1]
    if last.op_type != "Softmax":
        return None
    with_logits = onnx.ModelProto()
    with_logits.CopyFrom(model)
    with_logits.graph.output.append(
        onnx.helper.make_tensor_value_info(last.input[0], onnx.TensorProto.FLOAT, None))
    want = ort.InferenceSession(with_logits.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, feeds)[1]
    graph, inputs, outputs = import_model(with_logits)
    with gc.Session(graph=graph) as sess:
        got = sess.run(outputs[last.input[0]], {inputs[k]: v for k, v in feeds.items()})
    return bool(np.allclose(got, want, rtol=1e-5, atol=0))


def _agreement(result) -> str:
    """The table's verdict: the stored output's, or the logits' where only those compare."""
    if result["agrees_with_stored"] or not result.get("softmax_logits_agree"):
        return str(result["agrees_with_stored"])
    return "logits (softmax ill-conditioned)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphc.tools.onnx_real_models",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model")
    parser.add_argument("--only", help="one model, e.g. resnet50")
    args = parser.parse_args(argv)
    print("| model | agrees with stored | max abs vs stored | max abs vs onnxruntime | "
          "graphc ms | onnxruntime ms | import s | first run s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, path, stored in light_models():
        if args.only and args.only != name:
            continue
        r = check_model(path, stored, args.runs)
        print(f"| {name} | {_agreement(r)} | {r['max_abs_vs_stored']:.2e} | "
              f"{r.get('max_abs_vs_onnxruntime', float('nan')):.2e} | "
              f"{r['graphc_ms'] or 0:.1f} | {r.get('onnxruntime_ms') or 0:.1f} | "
              f"{r['import_s']:.2f} | {r['first_s']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
