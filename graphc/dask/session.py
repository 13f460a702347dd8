"""``graphc.dask.Session``: the NumPy Session's interface, running each signature's optimized
graph as dask arrays chunked along the batch axis (threads, processes or a
``dask.distributed`` cluster). Variables stay NumPy values on the host, in the same
``SessionState`` as the NumPy Session's; a run's fetches and its variable writes come from
one ``dask.compute``, and writes are committed only after it succeeded.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Optional

import numpy as np

from graphc import registry
from graphc.errors import InvalidArgumentError, OpError
from graphc.fetches import FetchStructure
from graphc.graph import Graph, required_ops
from graphc.ops.state import VariableHandle
from graphc.passes import (Interface, OptimizerConfig, collection_paused,
                            optimize_interface)
from graphc.runtime.feeds import prepare_feeds
from graphc.runtime.plan import Plan
from graphc.runtime.session import Session as NumpySession
from graphc.runtime.state import RunContext

from .lowering import Lowering, run_on_host
from .tasks import ChunkTaskError

__all__ = ["Session", "import_dask"]

DEFAULT_CHUNK_BYTES = 128 << 20
DEFAULT_FETCH_BYTES = 64 << 20


def import_dask():
    """``(dask, dask.array)``, or ImportError naming the optional extra that provides them."""
    try:
        import dask
        import dask.array as da
    except ImportError as err:
        raise ImportError("graphc.dask needs dask: install graphc's optional extra "
                          "`pip install graphc[dask]` (dask[array] and distributed)") from err
    return dask, da


class Session(NumpySession):
    """Runs fetches of a graph on dask arrays, chunked along the batch axis; also made by
    ``gc.Session(graph=g, backend="dask", ...)``.

    ``chunks``: rows per chunk of NumPy feeds (an int) or a size per chunk (``"128MiB"``);
    dask feeds keep their own batch chunks. ``client``: a ``dask.distributed.Client`` to run
    on (default: dask's current scheduler). Fetches of more than ``fetch_limit`` bytes, and
    every fetch with ``compute=False``, come back as lazy dask arrays. ``fuse_rows``: run
    each connected region of elementwise and rowwise ops (with the batch reductions it
    feeds) as one task per chunk, a compiled graphc plan; False: one task per op and chunk.
    ``row_block``: inside a task, regions and batch reductions run on blocks of this many
    bytes of their widest input's rows (or rows, an int; 0: the whole chunk), and floating
    partial sums are accumulated across blocks and chunks in the dtype their ``Split``
    declares (float64): smaller intermediates, and float32 sums that stay accurate.

    Example:
        >>> X = dask.array.random.random((1 << 20, 256), chunks=(1 << 17, 256))
        >>> with graphc.dask.Session(graph=g) as sess:
        ...     sess.run(gc.global_variables_initializer())
        ...     loss_value, grads = sess.run([loss, grads], {x: X, y: Y})
    """

    def __init__(self, target: str = "", graph: Optional[Graph] = None, config=None,
                 optimize=True, *, chunks="128MiB", client=None, fetch_limit="64MiB",
                 fuse_rows: bool = True, row_block="8MiB", backend: str = "dask"):
        if backend != "dask":
            raise ValueError(f"graphc.dask.Session is the 'dask' backend, not {backend!r}")
        self._dask, self._da = import_dask()
        super().__init__(target, graph, config, _single_output_passes(optimize))
        parse = self._dask.utils.parse_bytes
        self._chunks = chunks if isinstance(chunks, int) else parse(chunks)
        self._chunk_rows = isinstance(chunks, int)
        self._client, self._fuse_rows = client, fuse_rows
        self._row_block = (True, row_block) if isinstance(row_block, int) else \
            (False, parse(row_block))
        self._fetch_limit = parse(fetch_limit) if isinstance(fetch_limit, str) else fetch_limit
        self._graphs: dict = {}
        self._graphs_lock = threading.Lock()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None, compute=True):
        """Compute ``fetches`` (as ``graphc.Session.run``); feeds may be dask arrays.

        Raises:
            graphc.errors.InvalidArgumentError: an op reached by chunked values declares no
                distribution, or a kernel failed in a task (naming the user's op and line);
                no variable is changed.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        structure = FetchStructure(self._graph, fetches)
        feeds = self._feeds(feed_dict)
        graph, interface = self._optimized(structure, tuple(feeds))
        ctx = RunContext(self._state)
        locks = self._state.update_locks(self._updated(graph, interface))
        for lock in locks:
            lock.acquire()
        try:
            needed = required_ops(list(interface.fetches), list(interface.targets),
                                  frozenset(interface.feeds))
            lowering = Lowering(self._da, ctx, self._user_op, self._fetch_limit,
                                self._fuse_rows, frozenset(needed), frozenset(interface.fetches),
                                self._row_block)
            lowering.values.update(zip(interface.feeds, feeds.values()))
            lowering.batch_chunks.update((v.shape[0], v.chunks[0]) for v in feeds.values()
                                         if hasattr(v, "chunks") and v.ndim)
            try:
                self._lower(lowering, graph, interface, needed)
                results = self._compute(lowering, list(interface.fetches), compute)
            except OpError as err:
                err.op = self._user_op(err.op)
                raise
            ctx.commit()
        finally:
            for lock in locks:
                lock.release()
        results = [ctx.read_variable(v.op).copy() if isinstance(v, VariableHandle) else v
                   for v in results]
        return structure.rebuild(dict(zip(structure.tensors, results)))

    def _feeds(self, feed_dict) -> dict:
        chunked = {k: v for k, v in (feed_dict or {}).items() if hasattr(v, "dask")}
        feeds = prepare_feeds(self._graph, {k: v for k, v in (feed_dict or {}).items()
                                            if k not in chunked})
        for tensor, array in list(feeds.items()):
            if array.ndim and array.nbytes > 0:
                feeds[tensor] = self._da.from_array(array, chunks=self._rows(array))
        for key, value in chunked.items():
            # the key and shape checks of NumPy feeds, on a stand-in of no memory of the
            # tensor's own dtype (so no conversion copies it); the dtype is checked below
            tensor = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
            prepare_feeds(self._graph, {key: np.broadcast_to(np.zeros((), tensor.dtype.np),
                                                             value.shape)})
            if value.dtype != tensor.dtype.np:
                if not np.can_cast(value.dtype, tensor.dtype.np, "same_kind"):
                    raise TypeError(f"Cannot feed a dask array of dtype {value.dtype} for "
                                    f"tensor '{tensor.name}' ({tensor.dtype.name})")
                value = value.astype(tensor.dtype.np)
            feeds[tensor] = value.rechunk({axis: -1 for axis in range(1, value.ndim)})
        return feeds

    def _rows(self, array) -> tuple:
        row_bytes = max(array.nbytes // max(array.shape[0], 1), 1)
        rows = self._chunks if self._chunk_rows else max(self._chunks // row_bytes, 1)
        return (rows,) + array.shape[1:]

    def _optimized(self, structure: FetchStructure, feeds: tuple):
        key = (tuple(structure.elements), feeds)
        found = self._graphs.get(key)
        if found is None:
            fetches, targets = structure.tensors, structure.operations
            Plan.check_feeds(required_ops(fetches, targets, frozenset(feeds)),
                             frozenset(feeds), fetches, targets)
            interface = Interface(tuple(fetches), tuple(targets), feeds)
            if self._optimizer is None:
                found = self._graph, interface
            else:
                with collection_paused():
                    graph, interface, _ = optimize_interface(self._graph, interface,
                                                             self._optimizer)
                found = graph, interface
            with self._graphs_lock:
                self._graphs[key] = found
        return found

    @staticmethod
    def _updated(graph, interface) -> tuple:
        needed = required_ops(list(interface.fetches), list(interface.targets),
                              frozenset(interface.feeds))
        return tuple(sorted({op.inputs[0].op.name for op in needed
                             if registry.get(op.type).updates_variable}))

    @staticmethod
    def _lower(lowering: Lowering, graph, interface, needed) -> None:
        fed = frozenset(interface.feeds)
        for op in graph.topological_order(needed):
            if not all(t in fed for t in op.outputs):
                lowering.lower(op)
        lowering.close_region()

    def _compute(self, lowering: Lowering, fetches: list, compute: bool) -> list:
        """Every chunked value the run needs on the host, from one compute; then the
        deferred host ops. Returns the fetch values."""
        values = lowering.values
        wanted = [values[t] for t in fetches]
        lazy = [hasattr(v, "dask") and (not compute or v.nbytes > self._fetch_limit)
                for v in wanted]
        if lowering.deferred and not compute:
            raise ValueError("compute=False cannot stage variable writes: run the update "
                             "with compute=True")
        needed = {id(v): v for v, keep_lazy in zip(wanted, lazy)
                  if hasattr(v, "dask") and not keep_lazy}
        for op in lowering.deferred:
            needed.update({id(values[t]): values[t] for t in op.inputs
                           if hasattr(values[t], "dask")})
        computed = dict(zip(needed, self._run_tasks(list(needed.values()))))
        host = {t: computed.get(id(v), v) for t, v in values.items()}
        for op in lowering.deferred:
            result = run_on_host(op, registry.get(op.type),
                                 [host[t] for t in op.inputs], lowering.ctx)
            for index, tensor in enumerate(op.outputs):
                host[tensor] = result if len(op.outputs) == 1 else result[index]
        out = []
        for tensor, value, keep_lazy in zip(fetches, wanted, lazy):
            out.append(value if keep_lazy or isinstance(value, VariableHandle)
                       else np.array(host[tensor]))  # the caller's own array
        return out

    def _run_tasks(self, arrays: list) -> list:
        if not arrays:
            return []
        try:
            if self._client is not None:
                return self._client.compute(arrays, sync=True)
            return list(self._dask.compute(*arrays))
        except ChunkTaskError as err:
            name, message = err.args
            raise InvalidArgumentError(None, self._graph._by_name.get(name), message) from None


# the passes making ops of several outputs, which chunked lowering does not run
SEVERAL_OUTPUTS = ("xent_pairs", "relu_bias_grads", "pool_taps")


def _single_output_passes(optimize):
    """The Session's optimizer without the passes making ops of two outputs: chunked
    lowering runs ops of one output only, and ``xent_pairs`` makes the pair op (the loss and
    its backprop), ``relu_bias_grads`` relu_bias_grad (a ReLU's gradient and its bias's),
    ``pool_taps`` max_pool_taps (a pool's result and its first-max taps)."""
    config = OptimizerConfig.coerce(optimize)
    if config is None:
        return config
    missing = tuple(name for name in SEVERAL_OUTPUTS if name not in config.disabled)
    return dataclasses.replace(config, disabled=tuple(config.disabled) + missing) \
        if missing else config
