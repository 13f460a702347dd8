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
import os
import threading
import time
from types import SimpleNamespace

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
        grads = gc.gradients(loss, variables)
        step = gc.train.GradientDescentOptimizer(0.5).apply_gradients(zip(grads, variables))
        init = gc.global_variables_initializer()
    return SimpleNamespace(graph=graph, x=x, y=y, fetches=[loss] + grads, step=step,
                           variables=variables, init=init)


def dataset(rows: int, chunk_rows: int):
    import dask.array as da
    rng = da.random.default_rng(0)
    X = rng.random((rows, SIZES[0]), dtype=np.float32, chunks=(chunk_rows, SIZES[0])) - 0.5
    Y = rng.integers(0, SIZES[-1], rows, dtype=np.int32, chunks=chunk_rows)
    return X, Y


def numpy_loop(X, Y, forward, accumulate=None):
    """Loss and gradients by hand, one chunk at a time: the forward and backward of each
    chunk in dtype ``forward``, its sums and contractions over the batch rows, and their sum
    over the chunks, in ``accumulate`` (default: ``forward``).

    ``numpy_loop(X, Y, np.float32, np.float64)`` is the issue's float64-accumulated reference
    of the float32 model; ``numpy_loop(X, Y, np.float64)`` is a different function at these
    sizes: a ReLU input within float32 rounding of zero flips its mask (measured: one flip in
    2^25 units moves the first layer's weight gradient by 4e-4 relative)."""
    accumulate = accumulate or forward
    W0, b0, W1, b1, W2, b2 = [w.astype(forward) for w in weights()]
    total = [np.zeros((), accumulate)] + [np.zeros(w.shape, accumulate) for w in weights()]
    rows = X.shape[0]
    for xb, yb in zip(X.blocks, Y.blocks):
        xs, ys = xb.compute().astype(forward), yb.compute()
        h1 = np.maximum(xs @ W0 + b0, 0)
        h2 = np.maximum(h1 @ W1 + b1, 0)
        z = h2 @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(z).sum(axis=1))
        dz = np.exp(z - log_sum[:, None])
        dz[np.arange(len(ys)), ys] -= 1
        dz /= rows
        dh2 = (dz @ W2.T) * (h2 > 0)
        dh1 = (dh2 @ W1.T) * (h1 > 0)
        wide = [a.astype(accumulate, copy=False) for a in (xs, h1, dh1, h2, dh2, dz)]
        xs, h1, dh1, h2, dh2, dz = wide
        losses = (log_sum - z[np.arange(len(ys)), ys]).astype(accumulate)
        for i, part in enumerate([losses.sum(), xs.T @ dh1, dh1.sum(0), h1.T @ dh2,
                                  dh2.sum(0), h2.T @ dz, dz.sum(0)]):
            total[i] += part
    total[0] /= rows
    return total


def references_of(X, Y, cache=None, f64_forward=False) -> dict:
    """The float64-accumulated NumPy results (and with ``f64_forward`` the float64-forward
    ones), from ``cache`` (a folder) when an earlier run of the same data stored them."""
    names = ("error", "error_f64_forward") if f64_forward else ("error",)
    path = cache and os.path.join(
        cache, f"references-{X.shape[0]}-{X.chunks[0][0]}-{len(names)}.npz")
    if path and os.path.exists(path):
        stored = np.load(path)
        return {name: [stored[f"{name}{i}"] for i in range(7)] for name in names}
    references = {"error": numpy_loop(X, Y, np.float32, np.float64)}
    if f64_forward:
        references["error_f64_forward"] = numpy_loop(X, Y, np.float64)
    if path:
        os.makedirs(cache, exist_ok=True)
        np.savez(path, **{f"{name}{i}": v for name, values in references.items()
                          for i, v in enumerate(values)})
    return references


def relative_error(values, reference) -> float:
    return max(float(np.max(np.abs(v - r)) / max(np.max(np.abs(r)), 1e-30))
               for v, r in zip(values, reference))


def in_fresh_process(mode: str, rows: int, chunk_rows: int, references: dict) -> dict:
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
        stored = np.load(path)
        values = [stored[f"v{i}"] for i in range(len(stored.files))]
        for name, reference in references.items():
            result[name] = relative_error(values, reference)
    return result


def run_mode(mode: str, rows: int, chunk_rows: int, values_path=None) -> dict:
    """One timed run of the loss and gradients; ``mode``: ``threads`` or ``cluster``, with
    ``-unfused`` for one task per op and chunk (no row-wise regions)."""
    import dask
    model = build()
    X, Y = dataset(rows, chunk_rows)
    cluster = client = None
    if mode.startswith("cluster"):
        from distributed import Client, LocalCluster
        for name in ("CONNECT", "TCP"):  # a busy machine's workers answer late (inherited)
            os.environ[f"DASK_DISTRIBUTED__COMM__TIMEOUTS__{name}"] = "600s"
        dask.config.refresh()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB",
                               dashboard_address=None)
        client = Client(cluster)
    feeds = {model.x: X, model.y: Y}
    try:
        with dask.config.set(num_workers=2), \
                gd.Session(graph=model.graph, client=client,
                           fuse_rows=not mode.endswith("-unfused")) as sess:
            sess.run(model.init)
            lazy = sess.run(model.fetches, feeds, compute=False)
            tasks = len(dask.base.collections_to_expr(lazy, optimize_graph=True)
                        .optimize().__dask_graph__())  # as dask.compute runs them
            with PeakRSS() as peak:
                start = time.perf_counter()
                values = sess.run(model.fetches, feeds)
                seconds = time.perf_counter() - start
    finally:
        if client is not None:
            client.close()
            cluster.close()
    if values_path:
        np.savez(values_path, **{f"v{i}": v for i, v in enumerate(values)})
    return {"mode": mode, "rows": rows, "chunks": len(X.chunks[0]), "tasks": tasks,
            "seconds": seconds, "peak_rss_gb": peak.peak / 1e9, "load": os.getloadavg()[0]}


def sgd_step_difference(rows: int, chunk_rows: int) -> float:
    """The largest difference of the weights after one full-batch SGD step of the dask
    Session and of the NumPy Session, on data that fits in memory."""
    X, Y = dataset(rows, chunk_rows)
    after = []
    for session in (gc.Session, gd.Session):
        model = build()
        with session(graph=model.graph) as sess:
            sess.run(model.init)
            feeds = {model.x: X, model.y: Y} if session is gd.Session else \
                {model.x: X.compute(), model.y: Y.compute()}
            sess.run(model.step, feeds)
            after.append(sess.run(model.variables))
    return max(float(np.max(np.abs(a - b))) for a, b in zip(*after))


def picture(path: str) -> None:
    """dask's own drawing (through graphviz) of the chunked task graph of the loss and
    gradients on two chunks: one region task per chunk (the forward, the backward and the
    partial results of the loss and all six gradients), partial results joined in a tree."""
    import dask
    model = build()
    X, Y = dataset(2 * 64, 64)
    with gd.Session(graph=model.graph) as sess:
        sess.run(model.init)
        lazy = sess.run(model.fetches, {model.x: X, model.y: Y}, compute=False)
    dask.visualize(*[v for v in lazy if hasattr(v, "dask")], filename=path, rankdir="LR",
                   size="16,9", optimize_graph=False)


def machine() -> str:
    import datetime
    import platform
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now}; {cpu}, {os.cpu_count()} cores"


PEAK_LIMIT_GB = {"threads": 1.5, "cluster": 2.5}  # the limits, by scheduler


def table(results: list, sgd: float, load: tuple) -> str:
    """The acceptance figures as a Markdown table (times also as a ratio to the serial NumPy
    loop over as many rows, the first result), then each check against its limit."""
    baseline = results[0]
    lines = [f"machine: {machine()}; load average (1 min) {load[0]:.1f} at start, "
             f"{os.getloadavg()[0]:.1f} at end", "",
             "| run | rows | chunks | tasks | time | / serial NumPy | peak RSS | "
             "rel. error vs float64-accumulated | vs float64 forward | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    checks = [("one SGD step (2^16 rows): max abs weight difference from the NumPy Session",
               sgd, 1e-6)]
    for r in results:
        ratio = r["seconds"] / (baseline["seconds"] * r["rows"] / baseline["rows"])
        peak = f"{r['peak_rss_gb']:.2f} GB" if "peak_rss_gb" in r else ""
        errors = [f"{r[k]:.1e}" if k in r else "" for k in ("error", "error_f64_forward")]
        lines.append(f"| {r['mode']} | {r['rows']} | {r.get('chunks', '')} | "
                     f"{r.get('tasks', '')} | {r['seconds']:.1f} s | {ratio:.2f}x | {peak} | "
                     f"{' | '.join(errors)} | {r.get('load', 0):.1f} |")
        if r is not baseline:
            scheduler = r["mode"].split("-")[0]
            checks += [(f"{r['mode']}: peak RSS (GB)", r["peak_rss_gb"],
                        PEAK_LIMIT_GB[scheduler]),
                       (f"{r['mode']}: time / serial NumPy loop", ratio, 2.0)]
        if "error" in r:
            checks.append((f"{r['mode']}: relative error vs float64-accumulated", r["error"],
                           1e-4))
    peaks = {r["mode"]: r["peak_rss_gb"] for r in results if "peak_rss_gb" in r}
    if "threads" in peaks and "threads-double" in peaks:
        checks.append(("doubling the data: peak RSS growth",
                       peaks["threads-double"] / peaks["threads"] - 1, 0.2))
    lines += [""] + [f"- {name}: {value:.3g} (limit {limit:g}): "
                     f"{'pass' if value <= limit else 'FAIL'}" for name, value, limit in checks]
    return "\n".join(lines)


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-log2", type=int, default=22)
    parser.add_argument("--chunk-mb", type=int, default=128)
    parser.add_argument("--modes", default="numpy,threads,cluster,threads-double,"
                                           "threads-unfused")
    parser.add_argument("--cache", help="a folder keeping the NumPy references between runs "
                                        "(they do not depend on graphc)")
    parser.add_argument("--f64-forward", action="store_true",
                        help="also compare with a NumPy loop computing everything in float64")
    parser.add_argument("--only-references", action="store_true",
                        help="compute (and cache) the NumPy references only")
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
    load = os.getloadavg()
    rows = 1 << args.rows_log2
    chunk_rows = max((args.chunk_mb << 20) // (4 * SIZES[0]), 1)
    modes = args.modes.split(",")
    X, Y = dataset(rows, chunk_rows)
    print(f"data: {rows} x {SIZES[0]} float32 = {rows * SIZES[0] * 4 / 1e9:.2f} GB in "
          f"{len(X.chunks[0])} chunks of {args.chunk_mb} MB", flush=True)
    sgd = sgd_step_difference(1 << 16, 1 << 13)
    references = references_of(X, Y, args.cache, args.f64_forward)
    if args.only_references:
        return []
    start = time.perf_counter()
    single = numpy_loop(X, Y, np.float32)
    results = [{"mode": "numpy serial chunked float32", "rows": rows, "chunks": len(X.chunks[0]),
                "seconds": time.perf_counter() - start, "load": os.getloadavg()[0],
                **{name: relative_error(single, ref) for name, ref in references.items()}}]
    print(results[-1], flush=True)
    for mode in modes:
        if mode != "numpy":
            double = mode.endswith("-double")
            results.append(dict(in_fresh_process(mode.replace("-double", ""),
                                            2 * rows if double else rows, chunk_rows,
                                            {} if double else references), mode=mode))
            print(results[-1], flush=True)
    print(table(results, sgd, load))
    return results


if __name__ == "__main__":
    main()
