"""graphc as a backend for the official ONNX backend node tests.

    python -m graphc.tools.onnx_conformance [--all] [--op Relu] [--failures]

Each case the ``onnx`` package generates (``onnx.backend.test.loader.load_model_tests``) is
imported, run through a Session with the full default optimization pipeline, and compared
with the case's expected outputs at the case's own tolerances. Cases are counted per op:
``pass``, ``fail`` (wrong results or an error from a supported op: a bug, or an entry of
``EXCLUDED`` with its reason), ``skip`` (an op or form the importer does not support, with the
importer's reason). Nothing is ever counted as passed without running. By default only the
op families issue 15 names (single-node cases); ``--all`` takes every case.
"""
from __future__ import annotations

import argparse
import collections
import sys
import warnings

import numpy as np

import graphc as gc
from graphc.onnx import UnsupportedOpError, import_model

FAMILIES = {
    "elementwise": "Abs Neg Exp Log Sqrt Reciprocal Floor Ceil Sin Cos Tan Tanh Sigmoid Relu Erf "
                   "Sign Round Add Sub Mul Div Pow Mod Max Min Sum Mean Elu Selu LeakyRelu "
                   "HardSigmoid Softplus Softsign Gelu Celu HardSwish Mish ThresholdedRelu PRelu",
    "logic": "Equal Less Greater LessOrEqual GreaterOrEqual And Or Xor Not Where IsNaN IsInf",
    "linear": "MatMul Gemm Einsum",
    "reductions": "ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 "
                  "ReduceLogSumExp ReduceSumSquare ReduceLogSum ArgMax ArgMin",
    "shapes": "Reshape Flatten Transpose Squeeze Unsqueeze Concat Split Slice Gather "
              "GatherElements Expand Pad Tile ScatterND ScatterElements OneHot",
    "softmax": "Softmax LogSoftmax Hardmax",
    "conv": "Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool",
    "normalization": "BatchNormalization LayerNormalization InstanceNormalization",
    "misc": "Cast CastLike Clip Dropout Identity Constant ConstantOfShape Shape Size Range TopK "
            "CumSum",
    "control flow": "If Loop Scan",
}
FAMILY_OPS = {op for names in FAMILIES.values() for op in names.split()}

# Supported ops' cases that fail for a known reason, in one place: case name -> reason.
_RANDOM_MASK = ("training-mode Dropout with ratio > 0: the expected output holds the mask "
                "of the generator's own NumPy RNG draws, which no other RNG reproduces")
EXCLUDED: dict = {name: _RANDOM_MASK for name in (
    "test_training_dropout", "test_training_dropout_mask", "test_training_dropout_default",
    "test_training_dropout_default_mask")}


def _cases(all_cases: bool, only_op=None):
    from onnx.backend.test.loader import load_model_tests  # noqa: PLC0415
    with warnings.catch_warnings():  # the generators' own NumPy overflow warnings
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    for case in cases:
        ops = [node.op_type for node in case.model.graph.node]
        if only_op and only_op not in ops:
            continue
        if not all_cases and (len(ops) != 1 or ops[0] not in FAMILY_OPS):
            continue
        yield case, ops[0] if len(ops) == 1 else "+".join(sorted(set(ops)))


def run_case(case):
    """``("pass" | "fail" | "skip", detail)`` for one generated node test case."""
    if case.name in EXCLUDED:
        return "fail", f"excluded: {EXCLUDED[case.name]}"
    try:
        graph, inputs, outputs = import_model(case.model)
    except (UnsupportedOpError, NotImplementedError) as err:
        return "skip", str(err)
    except Exception as err:  # noqa: BLE001 - a supported op failing to import is a failure
        return "fail", f"import: {type(err).__name__}: {err}"
    for inputs_values, expected in case.data_sets or []:
        inputs_values, expected = _arrays(inputs_values), _arrays(expected)
        feeds = {placeholder: value for placeholder, value in zip(inputs.values(),
                                                                    inputs_values)}
        try:
            with gc.Session(graph=graph) as sess, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = sess.run(list(outputs.values()), feeds)
        except Exception as err:  # noqa: BLE001
            return "fail", f"run: {type(err).__name__}: {str(err)[:300]}"
        for name, value, want in zip(outputs, got, expected):
            problem = _compare(np.asarray(value), np.asarray(want), case.rtol, case.atol)
            if problem:
                return "fail", f"output {name!r}: {problem}"
    return "pass", ""


def _arrays(values) -> list:
    from onnx import numpy_helper  # noqa: PLC0415
    return [numpy_helper.to_array(v) if hasattr(v, "raw_data") else np.asarray(v)
            for v in values]


def _compare(got, want, rtol, atol):
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if want.dtype.kind in "OSU":
        return None if np.array_equal(got.astype(want.dtype), want) else "values differ"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    try:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as err:
        return " ".join(str(err).split())[:300]
    return None


def run_case_onnxruntime(case):
    """``("pass" | "fail", detail)`` for one case run by onnxruntime (the peer), compared
    the same way as graphc's results."""
    import onnxruntime  # noqa: PLC0415 - the optional extra
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # its logged warnings and errors: failures are counted
    try:
        session = onnxruntime.InferenceSession(case.model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - a model it refuses is a case it fails
        return "fail", f"load: {type(err).__name__}: {str(err)[:200]}"
    names = [i.name for i in session.get_inputs()]
    for inputs_values, expected in case.data_sets or []:
        try:
            got = session.run(None, dict(zip(names, _peer_values(inputs_values))))
        except Exception as err:  # noqa: BLE001
            return "fail", f"run: {type(err).__name__}: {str(err)[:200]}"
        for value, want in zip(got, _peer_values(expected)):
            problem = _compare_nested(value, want, case.rtol, case.atol)
            if problem:
                return "fail", problem
    return "pass", ""


def _compare_nested(got, want, rtol, atol):
    """``_compare`` for a tensor, element by element for a sequence (onnxruntime's lists)."""
    if isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            return "sequence lengths differ"
        problems = [_compare_nested(g, w, rtol, atol) for g, w in zip(got, want)]
        return next((p for p in problems if p), None)
    return _compare(np.asarray(got), np.asarray(want), rtol, atol)


def _peer_values(values) -> list:
    from onnx import numpy_helper  # noqa: PLC0415
    return [numpy_helper.to_array(v) if hasattr(v, "raw_data") else
            v if isinstance(v, (list, tuple)) else np.asarray(v) for v in values]


def numpy_native(case) -> bool:
    """Every graph input and output is a tensor of a NumPy built-in dtype (not an ml_dtypes
    extension such as bfloat16, float8 or int4, not a sequence or an optional)."""
    from onnx import helper  # noqa: PLC0415
    for value in list(case.model.graph.input) + list(case.model.graph.output):
        if value.type.WhichOneof("value") != "tensor_type":
            return False
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type))
        if dtype.type.__module__ != "numpy":  # ml_dtypes' bfloat16, float8_*, int4, ...
            return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphc.tools.onnx_conformance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every node test, not the families")
    parser.add_argument("--op", help="only cases using this ONNX op")
    parser.add_argument("--failures", action="store_true", help="print each failure")
    parser.add_argument("--no-peer", action="store_true", help="do not run onnxruntime too")
    args = parser.parse_args(argv)
    peer = not args.no_peer
    counts = collections.defaultdict(collections.Counter)
    for case, op in _cases(args.all, args.op):
        verdict, detail = run_case(case)
        counts[op][verdict] += 1
        native = numpy_native(case)
        counts[op]["native"] += native
        counts[op]["native " + verdict] += native
        if args.failures and verdict == "fail":
            print(f"FAIL {case.name}: {detail}")
        if peer:
            peer_verdict, peer_detail = run_case_onnxruntime(case)
            counts[op]["peer " + peer_verdict] += 1
            counts[op]["native peer " + peer_verdict] += native
            if args.failures and peer_verdict == "fail":
                print(f"ONNXRUNTIME FAIL {case.name}: {peer_detail}")
    _print_table(counts, peer)
    return 0


def _print_table(counts, peer: bool) -> None:
    total = collections.Counter()
    peer_head = (" onnxruntime pass |", "---|") if peer else ("", "")
    print(f"| op | pass | fail | skip |{peer_head[0]}\n|---|---|---|---|{peer_head[1]}")
    for op in sorted(counts):
        c = counts[op]
        total.update(c)
        print(f"| {op} | {c['pass']} | {c['fail']} | {c['skip']} |" +
              (f" {c['peer pass']} |" if peer else ""))
    print(f"| **total** | **{total['pass']}** | **{total['fail']}** | **{total['skip']}** |" +
          (f" **{total['peer pass']}** |" if peer else ""))
    families = collections.defaultdict(collections.Counter)
    for op, c in counts.items():
        families[next((f for f, names in FAMILIES.items() if op in names.split()), "other")] \
            .update(c)
    print(f"\n| family | pass | fail | skip |{peer_head[0]}\n|---|---|---|---|{peer_head[1]}")
    for family in [f for f in [*FAMILIES, "other"] if f in families]:
        c = families[family]
        print(f"| {family} | {c['pass']} | {c['fail']} | {c['skip']} |" +
              (f" {c['peer pass']} |" if peer else ""))
    cases = total["pass"] + total["fail"] + total["skip"]
    print(f"\ngraphc passes {total['pass']} of {cases} cases" +
          (f"; onnxruntime {total['peer pass']} of the same {cases}" if peer else "") + ".")
    print(f"NumPy-native cases (every input and output a tensor of a NumPy dtype): graphc "
          f"passes {total['native pass']} of {total['native']}" +
          (f"; onnxruntime {total['native peer pass']}" if peer else "") + ".")


if __name__ == "__main__":
    sys.exit(main())
