"""W4 of the benchmark suite: build + optimize + first run of random elementwise DAGs of
1k, 5k and 20k nodes, each implementation in a fresh process (``bench.py --w4-child``)."""
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

__all__ = ["dag_recipe", "random_dag", "w4", "w4_child"]


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


W4_X = np.linspace(-0.5, 0.5, 8)  # small inputs keep the long product chains well
# conditioned, so that implementations rounding differently still agree to 1e-6


def _w4_graphc(recipe, sessions: list):
    def run():
        g, xs, out = random_dag(len(recipe), recipe=recipe)
        sessions.append(gc.Session(graph=g))  # closed after the timing, as every peer's
        return sessions[-1].run(out, {xs: W4_X})
    return run


def w4_child(impl: str, sizes: list) -> dict:
    """In a fresh process: build + compile + first run of ``impl`` for each size."""
    seconds, values, sessions = [], [], []
    for n in sizes:
        recipe = dag_recipe(n)
        if impl == "graphc":
            run = _w4_graphc(recipe, sessions)
        else:
            [(_, run)] = peers.w4_peers(recipe, W4_X, only=impl, sessions=sessions)
        start = time.perf_counter()
        value = run()
        seconds.append(time.perf_counter() - start)
        values.append(np.asarray(value).tolist())
        for session in sessions:
            session.close()
        sessions.clear()
    return {"seconds": seconds, "values": values}


def w4(quick: bool):
    """Each implementation in a fresh process of its own, so that no other framework's
    objects (TensorFlow alone brings a million) are walked by Python's garbage collector
    while it builds its graphs."""
    sizes = [200, 1000] if quick else [1000, 5000, 20000]
    rows, expected = [], None
    for impl in ("graphc",) + peers.W4_PEERS:
        result = subprocess.run([sys.executable, "-m", "graphc.tools.bench", "--w4-child", impl,
                                 ",".join(map(str, sizes))], capture_output=True, text=True)
        if result.returncode:
            if impl == "graphc":
                raise RuntimeError(f"W4 graphc failed: {result.stderr[-2000:]}")
            continue  # the peer is not installed (or broke): left out of the table
        found = json.loads(result.stdout.strip().splitlines()[-1])
        expected = expected or found["values"]
        for n, seconds, value, want in zip(sizes, found["seconds"], found["values"], expected):
            np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-12, err_msg=impl)
            rows.append(row("W4", impl, "s (build+optimize+first run)", seconds, nodes=n))
        exponent = (math.log(found["seconds"][-1] / found["seconds"][0])
                    / math.log(sizes[-1] / sizes[0]))
        rows.append(row("W4", impl, "growth exponent", exponent))
    return rows


