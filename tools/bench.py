"""The benchmark suite: ``python -m graphc.tools.bench [--quick] [--only W1,W2] [--out DIR]``.

Writes ``DIR/results.json`` and ``DIR/results.md``. Every figure is the median of repeated
timing windows after a warm-up, and every implementation's result is checked against the
NumPy reference before it is timed. Implementations run in one process; W1's, W7's and
W8's take turns window by window (``bench_env.interleaved``), so that a host whose speed
drifts over seconds slows them alike and their ratios hold. Workloads (float32 unless
stated):

- W1 MLP training step (784-256-256-10, batch 128, ReLU, softmax cross-entropy, SGD 0.01),
  under the default malloc and with ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``
- W2 elementwise chain on 4,000,000 elements, and the np.copyto bandwidth floor
- W3 dispatch: 100 small elementwise ops on a (4,) input
- W3e the same ops run eagerly, op by op (graphc eager, gc.function, torch eager, JAX)
- W4 compile: random elementwise DAGs of 1k, 5k, 20k, 150k nodes, build + optimize + first
  run, and issue 10's 1.5-op-per-iteration chain of 30k and 150k ops (see bench_compile.py)
- W5 gradient: 200-layer chain h = tanh(W_i h + b_i), 64x64 weights, loss sum(h)
- W6 memory: 50 elementwise ops on an 8,000,000-element float64 array, peak RSS increase
- W8 LSTM training step (dynamic_rnn, 50 x 32 x 64 -> 128, SGD) and the empty while_loop's
  cost per iteration (see bench_rnn.py)
- W7 CNN training step (issue 14's small Inception network, two sizes; see bench_conv.py),
  and its micro-suite: each conv/pool kernel and gradient alone at W7's layer shapes

W1 and W7 are measured again under a concurrent 2-process CPU load, all implementations
interleaved under one load (``loaded_ms``, ``loaded_x`` = loaded over quiet time), and
graphc and hand NumPy again in a child process without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
(rows marked ``blas_env=unset``; see bench_env.py). ``--only W7`` runs W7 and its micro-suite alone.

Peers are measured only where installed (never project dependencies); this version covers
graphc, hand-written NumPy and numexpr.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import graphc as gc
from graphc.runtime.fused import EnginePolicy, wait_for_compiles
from graphc.runtime.threads import current_policy, kernel_threads

from . import bench_peers as peers
from .bench_compile import w4, w4_child
from .bench_conv import w7, w7_micro
from .bench_eager import w3_eager
from .bench_env import (BLAS_VARIABLES, SETTLE_SECONDS, blas_note, cpu_load, interleaved,
                        unset_blas_rows, users_blas)
from .bench_memory import w6
from .bench_rnn import w8
from .bench_table import markdown, row

TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


WINDOW_SECONDS = [0.1]  # shortened by --quick
# a window times at least this many calls: a 0.1 s window held one call of a W7 (b) step
# under load (40-70 ms), a median of three windows three calls
MIN_CALLS_PER_WINDOW = 3


def measure(fn, windows: int = 7, window_seconds=None, warm: bool = True) -> float:
    """Median seconds per call over ``windows`` timing windows, after warm-up calls that take
    graphc's fused nodes past their hot threshold, and their background compiles (steady
    state for every implementation); ``warm=False`` for a function measured already."""
    window_seconds = WINDOW_SECONDS[0] if window_seconds is None else window_seconds
    for _ in range(EnginePolicy.from_environment().hot_calls if warm else 0):
        fn()
    wait_for_compiles()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    calls = max(MIN_CALLS_PER_WINDOW, int(window_seconds / once))
    results = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        results.append((time.perf_counter() - start) / calls)
    return statistics.median(results)


# -- W1 -------------------------------------------------------------------------------------
def _mlp_params(rng):
    sizes = [784, 256, 256, 10]
    return [(rng.normal(0, math.sqrt(2 / n_in), (n_in, n_out)).astype(np.float32),
             np.zeros(n_out, np.float32)) for n_in, n_out in zip(sizes, sizes[1:])]


def _numpy_mlp_step(params, x, labels, lr=np.float32(0.01)):
    """One SGD step by hand: forward, backward, in-place updates; returns the loss."""
    (w1, b1), (w2, b2), (w3, b3) = params
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    logits = h2 @ w3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    d = np.exp(log_probs)
    d[np.arange(len(labels)), labels] -= 1
    d /= len(labels)
    grads3 = (h2.T @ d, d.sum(0))
    d = (d @ w3.T) * (h2 > 0)
    grads2 = (h1.T @ d, d.sum(0))
    d = (d @ w2.T) * (h1 > 0)
    grads1 = (x.T @ d, d.sum(0))
    for (w, b), (gw, gb) in zip(params, (grads1, grads2, grads3)):
        w -= lr * gw
        b -= lr * gb
    return loss


def w1(quick: bool):
    rng = np.random.default_rng(0)
    batch = 16 if quick else 128
    x = rng.normal(size=(batch, 784)).astype(np.float32)
    labels = rng.integers(0, 10, size=batch).astype(np.int32)
    params = _mlp_params(rng)
    g = gc.Graph()
    with g.as_default():
        xs = gc.placeholder(gc.float32, (None, 784))
        ys = gc.placeholder(gc.int32, (None,))
        h, variables = xs, []
        for i, (w, b) in enumerate(params):
            wv, bv = gc.Variable(w.copy()), gc.Variable(b.copy())
            variables += [wv, bv]
            h = gc.matmul(h, wv) + bv
            h = gc.nn.relu(h) if i < 2 else h
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(labels=ys, logits=h))
        train = gc.train.GradientDescentOptimizer(0.01).minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=g)
    sess.run(init)
    reference = [(w.copy(), b.copy()) for w, b in params]
    expected = _numpy_mlp_step(reference, x, labels)
    got = sess.run([loss, train], {xs: x, ys: labels})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    np.testing.assert_allclose(sess.run(variables[0]), reference[0][0], rtol=1e-4, atol=1e-6)
    malloc = "tuned" if os.environ.get("MALLOC_MMAP_THRESHOLD_") else "default"
    runs = {"graphc": lambda: sess.run(train, {xs: x, ys: labels}),
            "numpy (hand-written)": lambda: _numpy_mlp_step(reference, x, labels)}
    # hand NumPy runs with NumPy's own BLAS threads, not under graphc's policy's limit
    blas = {"numpy (hand-written)": users_blas}
    for name, run in peers.w1_peers(params, x, labels):
        np.testing.assert_allclose(run(), expected, rtol=1e-4, err_msg=name)
        runs[name] = run
    settle = 0.0 if quick else SETTLE_SECONDS
    quiet = interleaved(runs, measure, QUIET_WINDOWS, contexts=blas, settle=settle)
    # whether graphc's pool split the GEMMs (graphc.ops.gemm): only with idle cores
    gemm_threads = kernel_threads()
    loaded = {}
    if LOADED[0] and malloc == "default":
        with cpu_load():
            loaded = interleaved(runs, measure, LOADED_WINDOWS, contexts=blas, warm=False,
                                 settle=settle)
    rows = []
    for impl in runs:
        extra = {"gemm_threads": gemm_threads} if impl == "graphc" else {}
        if impl in loaded:
            extra.update(loaded_steps_s=1 / loaded[impl], loaded_x=loaded[impl] / quiet[impl])
        rows.append(row("W1", impl, "steps/s", 1 / quiet[impl], malloc=malloc, **extra))
    sess.close()
    return rows


# -- W2 -------------------------------------------------------------------------------------
def _chain_numpy(x):
    return np.tanh(0.5 * x + 1) * np.exp(-x * x) + np.sin(x) / (1 + x * x) - np.float32(0.1) * x


def w2(quick: bool):
    n = 40_000 if quick else 4_000_000
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    expected = _chain_numpy(x)
    g = gc.Graph()
    with g.as_default():
        xs = gc.placeholder(gc.float32, (n,))
        y = gc.tanh(0.5 * xs + 1.0) * gc.exp(-xs * xs) + gc.sin(xs) / (1.0 + xs * xs) - 0.1 * xs
    sess = gc.Session(graph=g)
    implementations = {"graphc": lambda: sess.run(y, {xs: x}),
                       "numpy (unfused)": lambda: _chain_numpy(x)}
    implementations.update(peers.w2_peers(x))
    rows = []
    floor_dst = np.empty_like(x)
    floor = measure(lambda: np.copyto(floor_dst, x)) * 1000
    for impl, fn in implementations.items():
        np.testing.assert_allclose(fn(), expected, rtol=1e-4, atol=1e-5)
        ms = measure(fn) * 1000
        rows.append(row("W2", impl, "ms", ms, x_bandwidth_floor=ms / floor))
    rows.append(row("W2", "np.copyto (bandwidth floor)", "ms", floor))
    sess.close()
    return rows


# -- W3 -------------------------------------------------------------------------------------
STEPS = [lambda v: v * 1.01, lambda v: v + 0.1, np.tanh, np.sin]


def w3(quick: bool):
    x = np.linspace(0.0, 1.0, 4).astype(np.float32)
    g = gc.Graph()
    with g.as_default():
        xs = gc.placeholder(gc.float32, (4,))
        h = xs
        for i in range(100):
            h = [lambda v: v * 1.01, lambda v: v + 0.1, gc.tanh, gc.sin][i % 4](h)

    def plain():
        v = x
        for i in range(100):
            v = STEPS[i % 4](v)
        return v
    sess = gc.Session(graph=g)
    np.testing.assert_allclose(sess.run(h, {xs: x}), plain(), rtol=1e-5)
    rows = [row("W3", "graphc", "us/run", measure(lambda: sess.run(h, {xs: x})) * 1e6),
            row("W3", "python calling numpy", "us/run", measure(plain) * 1e6)]
    for name, run in peers.w3_peers(x):
        np.testing.assert_allclose(run(), plain(), rtol=1e-5, err_msg=name)
        rows.append(row("W3", name, "us/run", measure(run) * 1e6))
    sess.close()
    return rows


# -- W5 -------------------------------------------------------------------------------------
def w5(quick: bool):
    layers = 20 if quick else 200
    rng = np.random.default_rng(2)
    weights = [rng.normal(0, 0.1, (64, 64)).astype(np.float32) for _ in range(layers)]
    biases = [rng.normal(0, 0.1, (64, 1)).astype(np.float32) for _ in range(layers)]
    x = rng.normal(size=(64, 1)).astype(np.float32)
    g = gc.Graph()
    with g.as_default():
        h = xs = gc.placeholder(gc.float32, (64, 1))
        params = [gc.constant(w) for w in weights] + [gc.constant(b) for b in biases]
        for w, b in zip(params[:layers], params[layers:]):
            h = gc.tanh(gc.matmul(w, h) + b)
        loss = gc.reduce_sum(h)
        build = time.perf_counter()
        grads = gc.gradients(loss, params)
    gradient_build = time.perf_counter() - build
    sess = gc.Session(graph=g)
    first = time.perf_counter()
    values = sess.run([loss] + grads, {xs: x})
    compile_seconds = time.perf_counter() - first

    def by_hand():
        hs = [x]
        for w, b in zip(weights, biases):
            hs.append(np.tanh(w @ hs[-1] + b))
        d = np.ones_like(hs[-1])
        gw, gb = [], []
        for w, h_in, h_out in zip(weights[::-1], hs[-2::-1], hs[:0:-1]):
            d = d * (1 - h_out * h_out)
            gw.append(d @ h_in.T)
            gb.append(d)
            d = w.T @ d
        return [hs[-1].sum()] + gw[::-1] + gb[::-1]
    expected = by_hand()
    for got, want in zip(values, expected):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
    rows = [row("W5", "graphc", "gradient build s", gradient_build),
            row("W5", "graphc", "compile + first run s", compile_seconds),
            row("W5", "graphc", "ms per loss+grads run",
                 measure(lambda: sess.run([loss] + grads, {xs: x})) * 1000),
            row("W5", "numpy (hand-written)", "ms per loss+grads run", measure(by_hand) * 1000)]
    for name, run in peers.w5_peers(weights, biases, x):
        for got, want in zip(run(), expected):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5, err_msg=name)
        rows.append(row("W5", name, "ms per loss+grads run", measure(run) * 1000))
    sess.close()
    return rows


def w7_and_micro(quick: bool):
    rows = w7(quick, measure, loaded=cpu_load if LOADED[0] else None,
              loaded_windows=LOADED_WINDOWS, quiet_windows=QUIET_WINDOWS)
    return rows + (w7_micro(quick) if MICRO[0] else [])


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W3e": lambda quick: w3_eager(quick, measure),
             "W4": w4, "W5": w5, "W6": w6, "W7": w7_and_micro,
             "W8": lambda quick: w8(quick, measure)}
LOADED = [True]  # --no-loaded: skip the loaded measurements
LOADED_WINDOWS = 3  # fewer windows under load: a peer that collapses there takes minutes
QUIET_WINDOWS = 7  # rounds of W1's and W7's interleaved windows (bench_env.interleaved)
MICRO = [True]  # --no-micro: W7 without its micro-suite


def main(argv=None) -> int:
    """Run the chosen workloads and write results.json and results.md."""
    parser = argparse.ArgumentParser(prog="python -m graphc.tools.bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W2,W3")
    parser.add_argument("--out", default="bench", help="output folder")
    parser.add_argument("--no-tuned-malloc", action="store_true",
                        help="skip the second W1 run with tuned malloc settings")
    parser.add_argument("--no-peers", action="store_true", help="graphc and NumPy only")
    parser.add_argument("--no-loaded", action="store_true",
                        help="skip the measurements under a concurrent CPU load")
    parser.add_argument("--no-micro", action="store_true", help="W7 without its micro-suite")
    parser.add_argument("--no-blas-unset", action="store_true",
                        help=f"skip the W1/W7 rerun without {', '.join(BLAS_VARIABLES)}")
    parser.add_argument("--w4-child", nargs=2, metavar=("IMPL", "SIZES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    peers.ENABLED[0], LOADED[0], MICRO[0] = not args.no_peers, not args.no_loaded, \
        not args.no_micro
    if args.w4_child:
        impl, sizes = args.w4_child
        print(json.dumps(w4_child(impl, [int(n) for n in sizes.split(",")])))
        return 0
    if args.quick:
        WINDOW_SECONDS[0] = 0.005
    chosen = args.only.split(",") if args.only else list(WORKLOADS)
    rows = []
    for name in chosen:
        rows += WORKLOADS[name](args.quick)
        print(markdown([r for r in rows if r["workload"].split()[0] == name], f"### {name}"),
              flush=True)
    if "W1" in chosen and not args.no_tuned_malloc and not os.environ.get(
            "MALLOC_MMAP_THRESHOLD_"):
        env = dict(os.environ, **TUNED_MALLOC)  # malloc reads these at process start
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, "-m", "graphc.tools.bench", "--only", "W1",
                            "--out", folder] + (["--quick"] if args.quick else []), env=env,
                           check=True, capture_output=True, text=True)
            rows += json.loads((Path(folder) / "results.json").read_text())["rows"]
    blas_workloads = [name for name in ("W1", "W7") if name in chosen]
    if blas_workloads and not args.no_blas_unset and any(v in os.environ
                                                         for v in BLAS_VARIABLES):
        for entry in rows:
            if entry["workload"] in blas_workloads and entry.get("malloc") != "tuned":
                entry.setdefault("blas_env", "as set")
        rows += unset_blas_rows(blas_workloads, args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}; BLAS: {blas_note()}; threads: "
               f"{current_policy().describe()}")
    stamp = datetime.date.today().isoformat()
    (out / "results.json").write_text(json.dumps({"date": stamp, "machine": machine,
                                                  "quick": args.quick, "rows": rows}, indent=1))
    (out / "results.md").write_text(markdown(rows, f"Benchmarks, {stamp}, {machine}"))
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
