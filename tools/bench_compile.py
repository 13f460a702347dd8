"""W4 of the benchmark suite: compile times, each implementation in a fresh process
(``bench.py --w4-child``).

- Random elementwise DAGs of 1k, 5k, 20k and 150k nodes: build + optimize + first run for
  graphc and its peers, graphc's build time per node, and the growth exponent (first to last
  size, and 20k to 150k).
- The long elementwise chain of issue 10, graphc alone: ``y * 1.0001`` and ``sin(y)`` in
  turn (1.5 ops per iteration, the constant included), 20k and 100k iterations (30k and 150k
  ops): build (and per op), the first unoptimized run, and build + optimize + first run.

Every time is wall time, with the process CPU time beside it (``cpu_s``): on a shared machine
the CPU time is the steadier of the two.
"""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time

import numpy as np

import graphc as gc

from . import bench_peers as peers
from .bench_table import row

__all__ = ["dag_recipe", "random_dag", "chain_graph", "w4", "w4_child", "DAG_SIZES",
           "CHAIN_ITERATIONS"]

DAG_SIZES, DAG_QUICK = (1000, 5000, 20000, 150000), (200, 1000)
CHAIN_ITERATIONS, CHAIN_QUICK = (20000, 100000), (300, 1000)


def dag_recipe(n: int, seed: int = 0) -> list:
    """A random elementwise DAG of ``n`` ops as data: ``(kind, a, b)`` rows reading earlier
    values by index (0 is the input; ``b`` is None for unary ops)."""
    rng = random.Random(seed)
    recipe = []
    for i in range(n):
        available = i + 1
        a = rng.randrange(max(0, available - 50), available)
        kind = rng.random()
        if kind < 0.4:
            recipe.append(("tanh" if i % 2 else "sin", a, None))
        else:
            b = rng.randrange(max(0, available - 50), available)
            recipe.append(("mul" if kind < 0.7 else "add", a, b))
    return recipe


def random_dag(n: int, seed: int = 0, recipe=None):
    """The DAG of ``dag_recipe(n, seed)`` over one (8,) float64 input: (graph, x, out)."""
    recipe = dag_recipe(n, seed) if recipe is None else recipe
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (8,), name="x")
        values = [x]
        for kind, a, b in recipe:
            if b is None:
                values.append(getattr(gc, kind)(values[a]))
            else:
                values.append(values[a] * values[b] if kind == "mul" else values[a] + values[b])
        out = gc.add_n(values[-10:])
    return g, x, out


def chain_graph(iterations: int):
    """Issue 10's chain: ``y * 1.0001`` and ``sin(y)`` in turn over one (8,) float64 input
    (each multiply brings its constant: 1.5 ops per iteration): (graph, x, y)."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (8,), name="x")
        y = x
        for i in range(iterations):
            y = gc.sin(y) if i % 2 else y * 1.0001
    return g, x, y


W4_X = np.linspace(-0.5, 0.5, 8)  # small inputs keep the long product chains well
# conditioned, so that implementations rounding differently still agree to 1e-6


class _Clock:
    """Wall and CPU seconds since the last ``lap``."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple:
        wall, cpu = time.perf_counter(), time.process_time()
        seconds = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return seconds


def _dag_child(impl: str, sizes) -> dict:
    """Build + compile + first run of ``impl`` for each DAG size (graphc: build apart)."""
    found: dict = {"seconds": [], "cpu": [], "build": [], "values": []}
    for n in sizes:
        recipe = dag_recipe(n)
        sessions: list = []
        clock = _Clock()
        if impl == "graphc":
            g, xs, out = random_dag(n, recipe=recipe)
            build = clock.lap()
            sessions.append(gc.Session(graph=g))  # closed after the timing, as every peer's
            value = sessions[-1].run(out, {xs: W4_X})
            run = clock.lap()
            found["build"].append(build)
            seconds = (build[0] + run[0], build[1] + run[1])
        else:
            [(_, build_and_run)] = peers.w4_peers(recipe, W4_X, only=impl, sessions=sessions)
            clock = _Clock()
            value = build_and_run()
            seconds = clock.lap()
        found["seconds"].append(seconds[0])
        found["cpu"].append(seconds[1])
        found["values"].append(np.asarray(value).tolist())
        for session in sessions:
            session.close()
    return found


def _chain_child(iterations) -> dict:
    """Build, first unoptimized run and first optimized run of the chain, per length."""
    found = []
    for n in iterations:
        clock = _Clock()
        g, x, y = chain_graph(n)
        build = clock.lap()
        with gc.Session(graph=g, optimize=False) as sess:
            plain_value = sess.run(y, {x: W4_X})
            plain = clock.lap()
        with gc.Session(graph=g) as sess:
            value = sess.run(y, {x: W4_X})
            optimized = clock.lap()
        np.testing.assert_allclose(value, plain_value, rtol=1e-9, err_msg=f"chain {n}")
        found.append({"ops": len(g), "build": build, "plain": plain, "optimized": optimized})
    return {"chains": found}


def w4_child(impl: str, sizes: list) -> dict:
    """In a fresh process: the DAG figures of ``impl``, or (``graphc-chain``) the chain's."""
    return _chain_child(sizes) if impl == "graphc-chain" else _dag_child(impl, sizes)


def _child(impl: str, sizes) -> dict:
    result = subprocess.run([sys.executable, "-m", "graphc.tools.bench", "--w4-child", impl,
                             ",".join(map(str, sizes))], capture_output=True, text=True)
    if result.returncode:
        if impl.startswith("graphc"):
            raise RuntimeError(f"W4 {impl} failed: {result.stderr[-2000:]}")
        return {}  # the peer is not installed (or broke): left out of the table
    return json.loads(result.stdout.strip().splitlines()[-1])


def _exponent(sizes, seconds, low, high) -> float:
    return math.log(seconds[high] / seconds[low]) / math.log(sizes[high] / sizes[low])


def w4(quick: bool):
    """Each implementation in a fresh process of its own, so that no other framework's
    objects (TensorFlow alone brings a million) are walked by Python's garbage collector
    while it builds its graphs."""
    sizes = DAG_QUICK if quick else DAG_SIZES
    rows, expected = [], None
    for impl in ("graphc",) + peers.W4_PEERS:
        found = _child(impl, sizes)
        if not found:
            continue
        expected = expected or found["values"]
        for n, seconds, cpu, value, want in zip(sizes, found["seconds"], found["cpu"],
                                                found["values"], expected):
            np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-12, err_msg=impl)
            rows.append(row("W4", impl, "s (build+optimize+first run)", seconds, nodes=n,
                            cpu_s=cpu))
        for n, (wall, cpu) in zip(sizes, found.get("build", ())):
            rows.append(row("W4", impl, "build us/node", wall / n * 1e6, nodes=n,
                            cpu_us=cpu / n * 1e6))
        rows.append(row("W4", impl, "growth exponent", _exponent(sizes, found["seconds"], 0, -1),
                        sizes=f"{sizes[0]}-{sizes[-1]}"))
        if 20000 in sizes and sizes[-1] > 20000:
            rows.append(row("W4", impl, "growth exponent", _exponent(
                sizes, found["seconds"], sizes.index(20000), -1), sizes=f"20000-{sizes[-1]}"))
    lengths = CHAIN_QUICK if quick else CHAIN_ITERATIONS
    for n, chain in zip(lengths, _child("graphc-chain", lengths)["chains"]):
        (build, build_cpu), ops = chain["build"], chain["ops"]
        impl = "graphc (chain)"
        rows += [row("W4", impl, "build s", build, ops=ops, cpu_s=build_cpu),
                 row("W4", impl, "build us/op", build / ops * 1e6, ops=ops,
                     cpu_us=build_cpu / ops * 1e6),
                 row("W4", impl, "first unoptimized run s", chain["plain"][0], ops=ops,
                     cpu_s=chain["plain"][1]),
                 row("W4", impl, "s (build+optimize+first run)", build + chain["optimized"][0],
                     ops=ops, cpu_s=build_cpu + chain["optimized"][1])]
    return rows
