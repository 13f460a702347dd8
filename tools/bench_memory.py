"""W6 of the benchmark suite: peak RSS increase of 50 elementwise ops on an 8,000,000-element
float64 array, each implementation in a fresh process."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from .bench_table import row

__all__ = ["w6"]


W6_PROGRAM = """
import sys, numpy as np


def peak_mb():
    # VmHWM: this process's peak resident set; reset below so the parent's peak (which
    # Linux carries into a forked child's ru_maxrss) does not count
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def reset_peak():
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


n = int(sys.argv[1]); impl = sys.argv[2]
x = np.empty(n)
np.random.default_rng(3).standard_normal(out=x)
# imports and graph building are not counted, only the run
SETUP
reset_peak()
base = peak_mb()
result = run()
assert result.shape == x.shape
print(peak_mb() - base)
"""

# Each W6 implementation as (setup, run) source for the child process; 50 ops alternate
# h * 1.001 and tanh(h).
W6_IMPLEMENTATIONS = {
    "graphc": ("graphc", """
import graphc as gc
g = gc.Graph()
with g.as_default():
    h = xs = gc.placeholder(gc.float64, (n,))
    for i in range(50):
        h = gc.tanh(h) if i % 2 else h * 1.001
session = gc.Session(graph=g)
run = lambda: session.run(h, {xs: x})"""),
    "numpy (keeping every intermediate)": (None, """
def run():
    values = [x]
    for i in range(50):
        values.append(np.tanh(values[-1]) if i % 2 else values[-1] * 1.001)
    return values[-1]"""),
    "numpy (rebinding one name)": (None, """
def run():
    h = x
    for i in range(50):
        h = np.tanh(h) if i % 2 else h * 1.001
    return h"""),
    "numpy (fully in place)": (None, """
def run():
    h = x * 1.001
    for i in range(1, 50):
        np.tanh(h, out=h) if i % 2 else np.multiply(h, 1.001, out=h)
    return h"""),
    "pytensor": ("pytensor", """
import pytensor, pytensor.tensor as pt
v = pt.dvector()
h = v
for i in range(50):
    h = pt.tanh(h) if i % 2 else h * 1.001
compiled = pytensor.function([v], h)
run = lambda: compiled(x)"""),
    "tensorflow tf.compat.v1": ("tensorflow", """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
g = tf1.Graph()
with g.as_default():
    v = tf1.placeholder(tf1.float64, (n,))
    h = v
    for i in range(50):
        h = tf1.tanh(h) if i % 2 else h * 1.001
session = tf1.Session(graph=g)
run = lambda: session.run(h, {v: x})"""),
    "jax jit": ("jax", """
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
def chain(h):
    for i in range(50):
        h = jnp.tanh(h) if i % 2 else h * 1.001
    return h
compiled = jax.jit(chain)  # not warmed up: a warm-up's freed buffers would hide the output
run = lambda: np.asarray(compiled(jnp.asarray(x)).block_until_ready())"""),
    "torch eager": ("torch", """
import torch
def run():
    h = torch.from_numpy(x)
    for i in range(50):
        h = torch.tanh(h) if i % 2 else h * 1.001
    return h.numpy()"""),
}


def _w6_child(impl: str) -> str:
    """The child program for ``impl``: its setup (not counted) where SETUP stands."""
    return W6_PROGRAM.replace("SETUP\n", W6_IMPLEMENTATIONS[impl][1].strip("\n") + "\n")


def w6(quick: bool):
    n = 80_000 if quick else 8_000_000
    rows = []
    for impl, (module, _) in W6_IMPLEMENTATIONS.items():
        if module and importlib.util.find_spec(module) is None:
            continue
        result = subprocess.run([sys.executable, "-c", _w6_child(impl), str(n), impl],
                                capture_output=True, text=True)
        if result.returncode:
            print(f"W6 {impl} failed: {result.stderr[-500:]}", file=sys.stderr)
            continue
        rows.append(row("W6", impl, "MB peak RSS increase", float(result.stdout.split()[-1]),
                         input_mb=n * 8 / 2 ** 20))
    return rows


