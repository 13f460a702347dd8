"""What one dask task runs: a graphc kernel named by (op type, attrs), rebuilt wherever the
task lands, so graphs ship to ``dask.distributed`` workers by pickle (bound kernels and
thread-locals do not pickle). A failing kernel raises ``ChunkTaskError`` naming the user's
op and line; the Session turns it back into graphc's ``InvalidArgumentError``.
"""
from __future__ import annotations

import functools

import numpy as np

from graphc import registry

__all__ = ["blas_limited", "ChunkKernel", "ChunkTaskError", "Partial", "in_row_blocks",
           "partial_kind", "GeneratedChunk", "RowShaped"]


class ChunkTaskError(Exception):
    """A kernel failed inside a dask task; ``args`` are (op name, message)."""


@functools.lru_cache(maxsize=None)
def _blas_limiter():
    """threadpoolctl's controller when installed (None otherwise): tasks of dask's threads or
    workers run BLAS on one thread each, so thread pools do not multiply."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def blas_limited(function, *args):
    """``function(*args)`` with BLAS on one thread (when threadpoolctl is installed) and
    NaN/Inf as values, not errors (TF1)."""
    limiter = _blas_limiter()
    with np.errstate(all="ignore"):
        if limiter is None:
            return function(*args)
        with limiter.limit(limits=1):
            return function(*args)


class ChunkKernel:
    """``kernel(*arrays)`` of op type ``op_type`` with ``attrs``, on one chunk.

    Example:
        >>> ChunkKernel("matmul", {"transpose_a": False, "transpose_b": False},
        ...             "MatMul", "op 'MatMul' (matmul, defined at model.py:3)")(a, b)
    """

    def __init__(self, op_type: str, attrs: dict, op_name: str, description: str):
        self.op_type, self.attrs = op_type, dict(attrs)
        self.op_name, self.description = op_name, description
        self.__name__ = op_type  # how dask's task-graph pictures label the task

    def kernel(self):
        return registry.get(self.op_type).kernel

    def __call__(self, *arrays):
        try:
            return blas_limited(lambda: self.kernel()(*arrays, **self.attrs))
        except Exception as err:  # noqa: BLE001 - every kernel failure gets the op's context
            shapes = ", ".join(f"{getattr(a, 'shape', '?')} {getattr(a, 'dtype', type(a))}"
                               for a in arrays)
            raise ChunkTaskError(self.op_name, f"{self.description} failed at run time on a "
                                 f"chunk: {err} [inputs: {shapes}]") from None

    def __reduce__(self):
        return ChunkKernel, (self.op_type, self.attrs, self.op_name, self.description)


_JOIN = {"sum": np.add, "mean": np.add, "max": np.maximum, "min": np.minimum,
         "prod": np.multiply, "any": np.logical_or, "all": np.logical_and}


def partial_kind(combine: str, elements_per_row: int, accumulate: str, dtype) -> tuple:
    """How a task's partial result of a batch reduction is kept: ``(combine, elements a mean
    averages per row and result, dtype the partials are kept in)``: floating sums and means
    in ``accumulate`` (the ``Split``'s, float64 by default) when it is wider, so float32
    partials neither lose digits across a chunk's blocks nor in the tree combine."""
    dtype = np.dtype(dtype)
    wide = np.dtype(accumulate) if accumulate else dtype
    if combine == "mean":
        return "mean", elements_per_row, np.dtype(np.float64)
    if combine == "sum" and dtype.kind == "f" and wide.kind == "f" and wide.itemsize > \
            dtype.itemsize:
        return "sum", 1, wide
    return combine, 1, dtype


def in_row_blocks(run, arrays: list, chunked: list, block_rows: int, kinds: tuple) -> tuple:
    """``run(arrays)`` (a list of outputs) on blocks of ``block_rows`` rows of the
    ``chunked`` arrays (the others whole in every block); outputs of kind ``("rows",)`` are
    the blocks' rows joined, the others (``partial_kind``) partial results accumulated over
    the blocks, with a leading axis of one (the axis the tree combine reduces)."""
    rows = next(a.shape[0] for a, c in zip(arrays, chunked) if c)
    step = block_rows if 0 < block_rows < rows else max(rows, 1)
    joined: list = []
    for start in range(0, max(rows, 1), step):
        count = min(step, rows - start)
        block = [a[start:start + step] if c else a for a, c in zip(arrays, chunked)]
        outs = [np.asarray(v) for v in run(block)]
        for index, (value, kind) in enumerate(zip(outs, kinds)):
            if kind[0] == "mean":  # the block's sum, so means join by a sum
                value = np.zeros(value.shape) if count * kind[1] == 0 else \
                    value.astype(np.float64) * (count * kind[1])
            elif kind[0] != "rows":
                value = value.astype(kind[2], copy=False)
            if start == 0:
                joined.append([value] if kind[0] == "rows" else value)
            elif kind[0] == "rows":
                joined[index].append(value)
            else:
                joined[index] = _JOIN[kind[0]](joined[index], value)
    return tuple((np.concatenate(v) if len(v) > 1 else v[0]) if kind[0] == "rows" else v[None]
                 for v, kind in zip(joined, kinds))


class Partial:
    """One chunk's partial result of a batch reduction (``in_row_blocks``): the kernel on
    blocks of the rows of the inputs at ``chunked`` positions."""

    def __init__(self, kernel: ChunkKernel, chunked: tuple, block_rows: int, kind: tuple):
        self.kernel, self.chunked, self.block_rows, self.kind = \
            kernel, chunked, block_rows, kind
        self.__name__ = f"partial {kernel.op_type}"

    def __call__(self, *arrays):
        flags = [i in self.chunked for i in range(len(arrays))]
        return in_row_blocks(lambda block: [self.kernel(*block)], list(arrays), flags,
                             self.block_rows, (self.kind,))[0]


class RowShaped:
    """A rowwise kernel whose input ``shape_position`` is a shape led by the batch size: each
    chunk gets it led by its own row count (that of input ``rows_position``)."""

    def __init__(self, kernel: ChunkKernel, shape_position: int, rows_position: int):
        self.kernel, self.shape_position, self.rows_position = \
            kernel, shape_position, rows_position
        self.__name__ = kernel.op_type

    def __call__(self, *arrays):
        arrays = list(arrays)
        shape = np.array(arrays[self.shape_position], copy=True)
        shape[0] = arrays[self.rows_position].shape[0]
        arrays[self.shape_position] = shape
        return self.kernel(*arrays)


class _ChunkStream:
    """The ``ctx`` a random kernel sees in a task: ``rng()`` is the chunk's own stream."""

    def __init__(self, generator):
        self.generator, self.op = generator, None

    def rng(self):
        return self.generator


class GeneratedChunk:
    """Chunk ``index`` of a value made from a shape: the shape input led by the chunk's rows;
    a random op (``base`` not None) draws from ``default_rng([base, index])``."""

    def __init__(self, kernel: ChunkKernel, base, chunks: tuple, shape_position: int):
        self.kernel, self.base, self.chunks = kernel, base, tuple(chunks)
        self.shape_position = shape_position
        self.__name__ = kernel.op_type

    def __call__(self, index, *inputs):
        index = int(np.asarray(index).ravel()[0])
        inputs = list(inputs)
        shape = np.array(inputs[self.shape_position], copy=True)
        shape[0] = self.chunks[index]
        inputs[self.shape_position] = shape
        if self.base is None:
            return self.kernel(*inputs)
        return self.kernel(_ChunkStream(np.random.default_rng([self.base, index])), *inputs)
