"""Acceptance benchmark of graphc.dask (issue 16): a 256-128-64-10 MLP's loss and all six
gradients over a float32 batch bigger than memory, generated lazily by ``dask.array``'s
random generator (nothing is allocated up front).

Measures, per mode, the peak RSS of every process (this one and its cluster workers,
sampled every 20 ms), the time, and the largest relative difference of loss and gradients
from a chunked float64-accumulated NumPy reference; and the time of a serial chunked
float32 NumPy loop over the same chunks (generating each chunk counts in both).

    python -m graphc.tools.bench_dask                      # 2^22 x 256 (4.29 GB), all modes
    python -m graphc.tools.bench_dask --rows-log2 16 --modes threads   # a quick check
    python -m graphc.tools.bench_dask --picture docs/dask_task_graph.png
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

import graphc as gc
import graphc.dask as gd

__all__ = ["main"]

SIZES = (256, 128, 64, 10)


class PeakRSS:
    """The largest total RSS of this process and its children while the block runs."""

    def __init__(self):
        import psutil  # a dependency of distributed, which this benchmark needs anyway
        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()

    def _total(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # noqa: BLE001 - a child that just exited counts nothing
                pass
        return total

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def weights():
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32) if kind == "W" else
            np.full(b, 0.01, np.float32) for a, b in zip(SIZES, SIZES[1:]) for kind in "Wb"]


def build():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, SIZES[0]], name="x")
        y = gc.placeholder(gc.int32, [None], name="y")
        h, variables = x, []
        for i, value in enumerate(weights()):
            variables.append(gc.Variable(value, name=f"v{i}"))
        for layer in range(3):
            h = gc.matmul(h, variables[2 * layer]) + variables[2 * layer + 1]
            if layer < 2:
                h = gc.nn.relu(h)
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        fetches = [loss] + gc.gradients(loss, variables)
        init = gc.global_variables_initializer()
    return graph, x, y, fetches, init


def dataset(rows: int, chunk_rows: int):
    import dask.array as da
    rng = da.random.default_rng(0)
    X = rng.random((rows, SIZES[0]), dtype=np.float32, chunks=(chunk_rows, SIZES[0])) - 0.5
    Y = rng.integers(0, SIZES[-1], rows, dtype=np.int32, chunks=chunk_rows)
    return X, Y


def numpy_loop(X, Y, dtype):
    """Loss and gradients by hand, one chunk at a time, accumulated in ``dtype``."""
    W0, b0, W1, b1, W2, b2 = [w.astype(dtype) for w in weights()]
    total = [np.zeros((), dtype)] + [np.zeros(w.shape, dtype) for w in weights()]
    rows = X.shape[0]
    for xb, yb in zip(X.blocks, Y.blocks):
        xs, ys = xb.compute().astype(dtype), yb.compute()
        h1 = np.maximum(xs @ W0 + b0, 0)
        h2 = np.maximum(h1 @ W1 + b1, 0)
        z = h2 @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(z).sum(axis=1))
        total[0] += (log_sum - z[np.arange(len(ys)), ys]).sum()
        dz = np.exp(z - log_sum[:, None])
        dz[np.arange(len(ys)), ys] -= 1
        dz /= rows
        dh2 = (dz @ W2.T) * (h2 > 0)
        dh1 = (dh2 @ W1.T) * (h1 > 0)
        for i, part in enumerate([xs.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0),
                                  h2.T @ dz, dz.sum(0)]):
            total[i + 1] += part
    total[0] /= rows
    return total


def relative_error(values, reference) -> float:
    return max(float(np.max(np.abs(v - r)) / max(np.max(np.abs(r)), 1e-30))
               for v, r in zip(values, reference))


def in_fresh_process(mode: str, rows: int, chunk_rows: int, reference) -> dict:
    """``run_mode`` in a new interpreter, so its peak RSS starts from a clean process (the
    reference loops of this one leave freed memory in the allocator)."""
    import json
    import subprocess
    import sys
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/values.npz"
        output = subprocess.run(
            [sys.executable, "-m", "graphc.tools.bench_dask", "--one", mode, "--rows",
             str(rows), "--chunk-rows", str(chunk_rows), "--values", path],
            check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        if reference is not None:
            stored = np.load(path)
            result["max_rel_error"] = relative_error(
                [stored[f"v{i}"] for i in range(len(stored.files))], reference)
    return result


def run_mode(mode: str, rows: int, chunk_rows: int, values_path=None) -> dict:
    import dask
    graph, x, y, fetches, init = build()
    X, Y = dataset(rows, chunk_rows)
    cluster = client = None
    if mode == "cluster":
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB",
                               dashboard_address=None)
        client = Client(cluster)
    try:
        with dask.config.set(num_workers=2), gd.Session(graph=graph, client=client) as sess:
            sess.run(init)
            with PeakRSS() as peak:
                start = time.perf_counter()
                values = sess.run(fetches, {x: X, y: Y})
                seconds = time.perf_counter() - start
    finally:
        if client is not None:
            client.close()
            cluster.close()
    if values_path:
        np.savez(values_path, **{f"v{i}": v for i, v in enumerate(values)})
    return {"mode": mode, "rows": rows, "seconds": seconds, "peak_rss_gb": peak.peak / 1e9}


def picture(path: str) -> None:
    """dask's own drawing (through graphviz) of the chunked task graph of the loss and
    gradients on two chunks: one task per chunk and op, partial sums joined in a tree."""
    import dask
    graph, x, y, fetches, init = build()
    X, Y = dataset(2 * 64, 64)
    with gd.Session(graph=graph) as sess:
        sess.run(init)
        lazy = sess.run(fetches, {x: X, y: Y}, compute=False)
    dask.visualize(*[v for v in lazy if hasattr(v, "dask")], filename=path, rankdir="LR",
                   size="16,9",
                   optimize_graph=False)


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-log2", type=int, default=22)
    parser.add_argument("--chunk-mb", type=int, default=128)
    parser.add_argument("--modes", default="threads,threads-double,cluster,numpy")
    parser.add_argument("--picture", help="only draw the chunked task graph into this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one mode
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--chunk-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--values", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        import json
        print(json.dumps(run_mode(args.one, args.rows, args.chunk_rows, args.values)))
        return []
    if args.picture:
        picture(args.picture)
        return []
    rows = 1 << args.rows_log2
    chunk_rows = max((args.chunk_mb << 20) // (4 * SIZES[0]), 1)
    modes = args.modes.split(",")
    X, Y = dataset(rows, chunk_rows)
    print(f"data: {rows} x {SIZES[0]} float32 = {rows * SIZES[0] * 4 / 1e9:.2f} GB in "
          f"{len(X.chunks[0])} chunks of {args.chunk_mb} MB", flush=True)
    reference = numpy_loop(X, Y, np.float64)
    results = []
    if "numpy" in modes:
        start = time.perf_counter()
        single = numpy_loop(X, Y, np.float32)
        results.append({"mode": "numpy serial chunked float32", "rows": rows,
                        "seconds": time.perf_counter() - start,
                        "max_rel_error": relative_error(single, reference)})
        print(results[-1], flush=True)
    for mode in ("threads", "cluster"):
        if mode in modes:
            results.append(in_fresh_process(mode, rows, chunk_rows, reference))
            print(results[-1], flush=True)
    if "threads-double" in modes:
        results.append(in_fresh_process("threads", 2 * rows, chunk_rows, None))
        print(results[-1], flush=True)
    return results


if __name__ == "__main__":
    main()
