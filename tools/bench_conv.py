"""W7 of the benchmark suite: one SGD step of issue 14's small CNN, and its conv micro-suite.

The network: 3x3 conv (C->32) + ReLU; an Inception block (1x1:16; 1x1:16 -> 3x3:24;
1x1:8 -> 5x5:8; 3x3 max-pool stride 1 SAME -> 1x1:8; concatenated to 56 channels); 2x2
max-pool; global average pool; dense to 10; softmax cross-entropy; SGD. Two sizes: (a) batch
64 of 8x8x1 (the digits demo), (b) batch 32 of 32x32x3. Every implementation starts from the
same seeded weights; the losses of its first two steps (the second shows the update was
right) must agree with graphc's to rtol 1e-3 before anything is timed.

The micro-suite times each conv/pool kernel and gradient alone, at the layer shapes of W7
(b), through the registry's bound kernels (given their last result as ``out=``, as a plan's
arena does), so each kernel's progress is visible.
"""
from __future__ import annotations

import functools
import importlib
import math
import statistics
import time

import numpy as np

import graphc as gc
from graphc import registry

from . import bench_conv_peers as peers
from .bench_env import SETTLE_SECONDS, interleaved
from .bench_table import row

__all__ = ["SIZES", "cnn_params", "graphc_step", "w7", "w7_micro", "conv_layers",
           "micro_cases", "measure_interleaved"]

SIZES = {"a": (64, 8, 8, 1), "b": (32, 32, 32, 3)}
QUICK_SIZES = {"a": (8, 8, 8, 1), "b": (4, 16, 16, 3)}
LEARNING_RATE = 0.05

# name -> (kernel height, kernel width, input name, output channels), in the order built;
# "x" is the image, "pool3" the stride-1 3x3 max pool of conv1's output
CONVS = {"conv1": (3, 3, "x", 32), "b1": (1, 1, "conv1", 16), "b2a": (1, 1, "conv1", 16),
         "b2b": (3, 3, "b2a", 24), "b3a": (1, 1, "conv1", 8), "b3b": (5, 5, "b3a", 8),
         "b4": (1, 1, "pool3", 8)}
BRANCHES = ("b1", "b2b", "b3b", "b4")  # concatenated in this order: 16 + 24 + 8 + 8 = 56


def cnn_params(channels: int, seed: int = 0) -> dict:
    """Seeded He-normal HWIO filters and small biases by layer name, plus the dense layer."""
    rng = np.random.default_rng(seed)
    c_out = {"x": channels, "pool3": 32}
    params = {}
    for name, (kh, kw, src, out) in CONVS.items():
        c_in = c_out[src] if src in c_out else CONVS[src][3]
        c_out[name] = out
        fan_in = kh * kw * c_in
        params[name] = (rng.normal(0, math.sqrt(2 / fan_in), (kh, kw, c_in, out)).astype(
            np.float32), rng.normal(0, 0.01, out).astype(np.float32))
    params["dense"] = (rng.normal(0, math.sqrt(1 / 56), (56, 10)).astype(np.float32),
                       np.zeros(10, np.float32))
    return params


def batch(size, seed: int = 1):
    """Images and labels of one size (see SIZES)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=size).astype(np.float32)
    return x, rng.integers(0, 10, size=size[0]).astype(np.int32)


def graphc_step(params, size):
    """``(run, close)``: ``run(x, labels)`` does one training step and returns its loss."""
    g = gc.Graph()
    with g.as_default():
        xs = gc.placeholder(gc.float32, (None,) + tuple(size[1:]))
        ys = gc.placeholder(gc.int32, (None,))
        values = {"x": xs}
        for name, (_, _, src, _) in CONVS.items():
            if src == "pool3":
                values["pool3"] = gc.nn.max_pool(values["conv1"], 3, 1, "SAME")
            w, b = (gc.Variable(p) for p in params[name])
            conv = gc.nn.conv2d(values[src], w, strides=1, padding="SAME")
            values[name] = gc.nn.relu(gc.nn.bias_add(conv, b))
        block = gc.concat([values[name] for name in BRANCHES], axis=3)
        pooled = gc.nn.max_pool(block, 2, 2, "VALID")
        features = gc.reduce_mean(pooled, axis=[1, 2])
        w, b = (gc.Variable(p) for p in params["dense"])
        logits = gc.matmul(features, w) + b
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=ys, logits=logits))
        train = gc.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=g)
    sess.run(init)
    return (lambda x, labels: float(sess.run([loss, train], {xs: x, ys: labels})[0]),
            sess.close)


def _checked(implementations, x, labels):
    """Run two steps of each; their losses must match the first implementation's."""
    expected = None
    for name, (run, _) in implementations.items():
        losses = np.array([run(x, labels), run(x, labels)])
        if expected is None:
            expected = losses
        np.testing.assert_allclose(losses, expected, rtol=1e-3, err_msg=f"W7: {name}")


def w7(quick: bool, measure, loaded=None, loaded_windows=3, quiet_windows=7):
    """Rows of W7: ms per training step of each implementation at both sizes, their timing
    windows interleaved (``bench_env.interleaved``); with ``loaded`` (a context manager
    running a CPU load), also the step time under it (``measure(fn, windows=, warm=)`` is
    the suite's timer)."""
    rows = []
    for label, size in (QUICK_SIZES if quick else SIZES).items():
        params = cnn_params(size[3])
        x, labels = batch(size)
        implementations = {"graphc": graphc_step(params, size)}
        implementations.update(peers.w7_peers(params, size, LEARNING_RATE, (CONVS, BRANCHES)))
        _checked(implementations, x, labels)
        steps = {name: functools.partial(run, x, labels)
                 for name, (run, _) in implementations.items()}
        settle = 0.0 if quick else SETTLE_SECONDS
        quiet = interleaved(steps, measure, quiet_windows, settle=settle)
        found = {}
        if loaded is not None:
            with loaded():
                found = interleaved(steps, measure, loaded_windows, warm=False, settle=settle)
        for name, (_, close) in implementations.items():
            extra = {"size": label, "batch": size[0], "image": "x".join(map(str, size[1:]))}
            if name in found:
                extra.update(loaded_ms=found[name] * 1000, loaded_x=found[name] / quiet[name])
            rows.append(row("W7", name, "ms/step", quiet[name] * 1000, **extra))
            if close is not None:
                close()
    return rows


def conv_layers(size):
    """``(layer name, x shape, filter shape)`` of every convolution of W7 at ``size``."""
    n, h, w, c = size
    shapes = {"x": c, "pool3": 32}
    layers = []
    for name, (kh, kw, src, out) in CONVS.items():
        c_in = shapes[src] if src in shapes else CONVS[src][3]
        shapes[name] = out
        layers.append((name, (n, h, w, c_in), (kh, kw, c_in, out)))
    return layers


def _baseline():
    """The kernels before issue 14 (tests/conv_baseline.py) when run from a checkout, for
    the micro-suite's "before" rows; None where the tests are not there."""
    try:
        return importlib.import_module("tests.conv_baseline")  # a checkout's tests/, by name
    except ImportError:
        return None


def micro_cases(size):
    """``(case, {"now": kernel, "before": kernel}, arrays)`` for each conv/pool kernel and
    gradient at W7's shapes ("before" only where tests/conv_baseline.py can be imported)."""
    rng = np.random.default_rng(3)
    old = _baseline()
    geometry = {"strides": (1, 1), "padding": "SAME", "dilations": (1, 1)}
    cases = []

    def case(name, op_type, old_name, arrays, old_arrays=None, **attrs):
        """``old_arrays``: the "before" kernel's own operands, where they differ."""
        opdef = registry.get(op_type)
        kernels = {"now": _bound(opdef.kernel, opdef.takes_out, **attrs)}
        if old is not None:
            before = _bound(getattr(old, old_name), **attrs)
            kernels["before"] = before if old_arrays is None else (
                lambda *_: before(*old_arrays))
        cases.append((name, kernels, arrays))
    for name, x_shape, w_shape in conv_layers(size):
        x = rng.normal(size=x_shape).astype(np.float32)
        w = rng.normal(size=w_shape).astype(np.float32)
        dy = rng.normal(size=x_shape[:3] + (w_shape[3],)).astype(np.float32)
        tag = f"{name} {w_shape[0]}x{w_shape[1]} {w_shape[2]}->{w_shape[3]}"
        case(f"conv2d {tag}", "conv2d", "conv_kernel", (x, w), **geometry)
        if name != "conv1":  # the image gets no gradient
            case(f"conv2d_backprop_input {tag}", "conv2d_backprop_input",
                 "backprop_input_kernel", (np.array(x_shape, np.int32), w, dy), **geometry)
        case(f"conv2d_backprop_filter {tag}", "conv2d_backprop_filter", "backprop_filter_kernel",
             (x, np.array(w_shape, np.int32), dy), **geometry)
    n, h, w, _ = size
    for tag, shape, ksize, strides, padding in (
            ("3x3 s1 SAME", (n, h, w, 32), (3, 3), (1, 1), "SAME"),
            ("2x2 s2 VALID", (n, h, w, 56), (2, 2), (2, 2), "VALID")):
        pool = dict(ksize=ksize, strides=strides, padding=padding)
        x = rng.normal(size=shape).astype(np.float32)
        y = registry.get("max_pool").kernel(x, **pool)
        dy = rng.normal(size=y.shape).astype(np.float32)
        case(f"max_pool {tag}", "max_pool", "max_pool_kernel", (x,), **pool)
        case(f"max_pool_grad {tag}", "max_pool_grad", "max_pool_grad_kernel", (x, y, dy), **pool)
        # the pair the pool_taps pass makes of them in a training step (passes/pool_taps.py)
        taps = registry.get("max_pool_taps").kernel(x, **pool)[1]
        case(f"max_pool_taps {tag}", "max_pool_taps", "max_pool_kernel", (x,), **pool)
        case(f"max_pool_grad_taps {tag}", "max_pool_grad_taps", "max_pool_grad_kernel",
             (taps, dy, np.array(shape, np.int32)), old_arrays=(x, y, dy), **pool)
    return cases


def _bound(kernel, takes_out=False, **attrs):
    """``kernel`` with its attributes; one that ``takes_out`` writes into the buffer its first
    call returned, as a plan's arena gives it from run to run."""
    if not takes_out:
        return lambda *arrays: kernel(*arrays, **attrs)
    kept: list = []

    def run(*arrays):
        if not kept:
            kept.append(kernel(*arrays, **attrs))
            return kept[0]
        return kernel(*arrays, **attrs, out=kept[0])
    return run


def measure_interleaved(kernels: dict, arrays, rounds: int = 7) -> dict:
    """``{name: (median wall ms, median process-CPU ms)}`` per call, the kernels' calls
    interleaved round by round (so a noisy machine slows all of them alike)."""
    for kernel in kernels.values():
        kernel(*arrays)  # warm-up (and numba's compile)
    wall: dict = {name: [] for name in kernels}
    cpu: dict = {name: [] for name in kernels}
    for _ in range(rounds):
        for name, kernel in kernels.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            kernel(*arrays)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000)
            for name in kernels}


def w7_micro(quick: bool):
    """Rows of the conv micro-suite: ms per call of each kernel at W7 (b)'s layer shapes,
    now and before issue 14, interleaved; ``cpu_ms`` is the process CPU time per call."""
    size = QUICK_SIZES["b"] if quick else SIZES["b"]
    rows = []
    for name, kernels, arrays in micro_cases(size):
        for impl, (wall, cpu) in measure_interleaved(kernels, arrays).items():
            rows.append(row("W7 micro", f"{name} ({impl})", "ms", wall, cpu_ms=cpu,
                            batch=size[0], image=f"{size[1]}x{size[2]}"))
    return rows
