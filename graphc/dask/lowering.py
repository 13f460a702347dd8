"""Lowering an optimized graph to dask arrays, op by op, as each op's ``distribution``
declares (``graphc.registry.Split``). Values are NumPy arrays (small, on the host) or dask
arrays split along axis 0 (the batch) only.

- An op none of whose inputs is chunked runs its kernel on the host, at once.
- An op with a chunked input is split as declared: elementwise and rowwise ops become one
  task per chunk running graphc's own kernel, batch reductions a task per chunk for the
  partial result plus a tree combine. An op that declares nothing is an error naming it:
  nothing is ever materialized behind the user's back.
- With ``fuse_rows``, connected elementwise and rowwise ops over the same batch chunks, and
  the batch reductions they feed, form a region (``regions.py``): one task per chunk runs
  their compiled graphc plan.
- Stateful ops (variable writes) reached by small chunked values are deferred: they run on
  the host after the run's single ``dask.compute``.
"""
from __future__ import annotations

import functools
import string

import numpy as np

from graphc import registry
from graphc.errors import InvalidArgumentError, describe_op

from .regions import Region, RegionValue
from .tasks import ChunkKernel, GeneratedChunk, Partial, RowShaped, partial_kind

__all__ = ["Lowering", "Deferred", "split_of"]

_COMBINE = {"sum": "sum", "max": "max", "min": "min", "prod": "prod", "any": "any",
            "all": "all", "mean": "sum"}


class Deferred:
    """The value of an op that runs on the host after the run's compute."""

    def __init__(self, op, index: int):
        self.op, self.index = op, index


def split_of(opdef, op, inputs):
    """The op's declared ``Split`` for its attributes, or None when it declares none."""
    if not callable(opdef.distribution):
        return registry.declared_split(opdef, op, ())
    return registry.declared_split(opdef, op, tuple(
        None if _is_chunked(v) or isinstance(v, RegionValue) else v for v in inputs))


def _is_chunked(value) -> bool:
    return hasattr(value, "dask") and hasattr(value, "chunks")


def _static(dims) -> bool:
    return dims is not None and all(d is not None for d in dims)


class Lowering:
    """Builds the dask values of one run. ``values`` maps tensors to NumPy arrays, dask
    arrays or ``Deferred``; ``deferred`` lists the ops to run on the host after compute."""

    def __init__(self, da, ctx, user_op, small_bytes: int, fuse_rows: bool = False,
                 needed=frozenset(), fetched=frozenset(), block=(True, 0)):
        self.da, self.ctx, self.user_op, self.small_bytes = da, ctx, user_op, small_bytes
        self.values: dict = {}
        self.deferred: list = []
        self.batch_chunks: dict = {}  # batch length -> its chunks (of the chunked feeds)
        self.fuse_rows, self.region, self.shape_readers = fuse_rows, None, set()
        self.needed, self.fetched = needed, fetched  # to tell which region values leave it
        self.block = block  # (in rows?, size) of a kernel run inside a task; size 0: a chunk

    def _block_rows(self, chunked) -> int:
        """Rows per kernel run inside a task over the ``chunked`` dask arrays: the block's
        rows, or its bytes of the widest array's rows."""
        in_rows, size = self.block
        if in_rows or not size:
            return size
        widest = max((v.nbytes // max(v.shape[0], 1) for v in chunked), default=1)
        return max(size // max(widest, 1), 1)

    def lower(self, op) -> None:
        inputs = [self.values[t] for t in op.inputs]
        opdef = registry.get(op.type)
        if self.fuse_rows and self._joined(op, opdef, inputs):
            return
        if any(isinstance(v, RegionValue) for v in inputs):
            self.close_region()  # the op needs the region's values as dask arrays
            inputs = [self.values[t] for t in op.inputs]
        if any(isinstance(v, Deferred) for v in inputs) or (
                (opdef.stateful or opdef.needs_context) and any(map(_is_chunked, inputs))):
            self._defer(op, inputs)
        elif not any(map(_is_chunked, inputs)):
            split = split_of(opdef, op, inputs) if opdef.distribution is not None else None
            if split is not None and split.kind == "generated" and \
                    self._batch_led(inputs[split.batch_shape]):
                self.values[op.outputs[0]] = self._generated(op, opdef, split, inputs)
            else:
                self._store(op, run_on_host(op, opdef, inputs, self.ctx))
        else:
            split = split_of(opdef, op, inputs)
            if split is None:
                raise self._error(op, "declares no distribution for its attributes, so it "
                                      "cannot run on chunked values (set OpDef.distribution)")
            if len(op.outputs) != 1:
                raise self._error(op, "has several outputs; chunked ops give one")
            lower = getattr(self, "_" + split.kind)
            self.values[op.outputs[0]] = lower(op, opdef, split, inputs)

    def _store(self, op, result) -> None:
        results = (result,) if len(op.outputs) == 1 else result
        for tensor, value in zip(op.outputs, results):
            self.values[tensor] = value

    def _defer(self, op, inputs) -> None:
        for position, value in enumerate(inputs):
            if _is_chunked(value) and value.nbytes > self.small_bytes:
                raise self._error(op, f"runs on the host but its input {position} is a chunked "
                                      f"value of shape {value.shape} ({value.nbytes} bytes)")
        self.deferred.append(op)
        for index, tensor in enumerate(op.outputs):
            self.values[tensor] = Deferred(op, index)

    def _error(self, op, message: str) -> InvalidArgumentError:
        user = self.user_op(op)
        return InvalidArgumentError(None, user, f"{describe_op(user)} {message}")

    def _task(self, op, split=None):
        user = self.user_op(op)
        task = ChunkKernel(op.type, op.attrs, user.name, describe_op(user))
        if split is not None and split.batch_shape is not None:
            return RowShaped(task, split.batch_shape, split.chunked[0])
        return task

    def _elementwise(self, op, opdef, split, inputs):
        return self.da.core.elemwise(self._task(op), *inputs, dtype=op.outputs[0].dtype.np)

    def _indexed(self, op, split, inputs):
        """blockwise arguments: chunked inputs at declared positions indexed ("b", own
        letters), the others whole; an undeclared chunked position is an error."""
        letters = iter(string.ascii_letters[2:])
        args = []
        rows = next(v for v in inputs if _is_chunked(v)).chunks[0]
        for position, value in enumerate(inputs):
            if position in split.chunked and not _is_chunked(value) and np.ndim(value) and \
                    len(value) == sum(rows):  # a host value of the batch's length: split too
                value = self.da.from_array(value, chunks=(rows,) + np.shape(value)[1:])
            if not _is_chunked(value):
                args += [value, None]
            elif position not in split.chunked:
                raise self._error(op, f"takes input {position} whole, but it is chunked "
                                      f"(shape {value.shape}); only inputs {split.chunked} "
                                      "may be split along the batch")
            else:
                value = value.rechunk({axis: -1 for axis in range(1, value.ndim)})
                args += [value, "b" + "".join(next(letters) for _ in range(value.ndim - 1))]
        return args, letters

    def _trailing(self, op, skip: int) -> tuple:
        dims = op.outputs[0].shape.as_list()[skip:] if op.outputs[0].shape.rank is not None \
            else None
        if dims is None or any(d is None for d in dims):
            raise self._error(op, f"needs a static output shape beyond the batch axis, got "
                                  f"{op.outputs[0].shape}")
        return tuple(dims)

    def _rowwise(self, op, opdef, split, inputs):
        if split.batch_shape is not None:
            shape, rows = inputs[split.batch_shape], inputs[split.chunked[0]].shape[0]
            if _is_chunked(shape) or not len(shape) or int(shape[0]) not in (rows, -1):
                raise self._error(op, f"takes input {split.batch_shape} as a shape led by the "
                                      f"batch size {rows}, got {shape}")
        args, letters = self._indexed(op, split, inputs)
        trailing = self._trailing(op, 1)
        out = [next(letters) for _ in trailing]
        return self.da.blockwise(self._task(op, split), "b" + "".join(out), *args,
                                 new_axes=dict(zip(out, trailing)), concatenate=True,
                                 dtype=op.outputs[0].dtype.np)

    def _reduction(self, op, opdef, split, inputs):
        args, letters = self._indexed(op, split, inputs)
        trailing = self._trailing(op, 0)
        out = [next(letters) for _ in trailing]
        dtype = op.outputs[0].dtype.np
        chunked = [v for v in args[::2] if _is_chunked(v)]
        source, results = chunked[0], max(int(np.prod(trailing)), 1)
        kind = partial_kind(split.combine, int(np.prod(source.shape[1:])) // results,
                            split.accumulate, dtype)
        partial = Partial(self._task(op), split.chunked, self._block_rows(chunked), kind)
        partials = self.da.blockwise(
            partial, "b" + "".join(out), *args, new_axes=dict(zip(out, trailing)),
            adjust_chunks={"b": 1}, concatenate=True, dtype=kind[2])
        return self._combined(partials, split.combine, dtype, source.size // results)

    @staticmethod
    def _combined(partials, how: str, dtype, count: int):
        """Partial results (leading axis: one per chunk) joined by ``how`` in a tree;
        ``count``: the elements a mean averages per result."""
        combine = getattr(partials, _COMBINE[how])
        if how in ("sum", "prod"):  # in the partials' dtype (dask's int32 sums are int64)
            return combine(axis=0, dtype=partials.dtype).astype(dtype)
        if how != "mean":
            return combine(axis=0)
        return (combine(axis=0) / max(count, 1) if count else
                combine(axis=0) * np.nan).astype(dtype)

    def _batch_led(self, shape) -> bool:
        return np.ndim(shape) == 1 and len(shape) > 0 and int(shape[0]) in self.batch_chunks

    def _generated(self, op, opdef, split, inputs):
        """A value of a batch-led shape made chunk by chunk like the data. Random ops draw
        chunk i from a stream seeded by (a number drawn from the op's own stream this run,
        i): reproducible with seeds, though not the NumPy Session's numbers."""
        base = None
        if opdef.random:
            self.ctx.op = op
            base = int(self.ctx.rng().integers(1 << 63))
        shape = inputs[split.batch_shape]
        chunks = self.batch_chunks[int(shape[0])]
        trailing = tuple(int(d) for d in shape[1:])
        task = GeneratedChunk(self._task(op), base, chunks, split.batch_shape)
        args = [self.da.arange(len(chunks), chunks=1), "b"]
        for value in inputs:
            args += [value, None]
        out = string.ascii_letters[2:2 + len(trailing)]
        return self.da.blockwise(task, "b" + out, *args, new_axes=dict(zip(out, trailing)),
                                 adjust_chunks={"b": chunks}, concatenate=True,
                                 dtype=op.outputs[0].dtype.np)

    def _joined(self, op, opdef, inputs) -> bool:
        """Add ``op`` to the open region (or open one) when it is elementwise, rowwise or a
        batch reduction over row-chunked inputs of one batch length; or run a shape-only op
        on the region's values without closing it. Returns whether the op was handled."""
        rows = [self._rows_chunked(v) for v in inputs]
        if not any(rows) or opdef.stateful or opdef.needs_context or len(op.outputs) != 1 or \
                any(isinstance(v, (Deferred, RegionValue)) and not r for v, r in zip(inputs, rows)):
            return False
        split = split_of(opdef, op, inputs)
        if split is None:
            return False
        if split.kind == "shape":
            if any(None in v.shape for v in inputs if isinstance(v, RegionValue)):
                return False
            self.values[op.outputs[0]] = self._shape(op, opdef, split, inputs)
            self.shape_readers.add(op)  # reads no value: the region need not give one
            return True
        terminal = self._terminal(op, split) if split.kind == "reduction" else None
        allowed = range(len(inputs)) if split.kind == "elementwise" else split.chunked
        rank = op.outputs[0].shape.rank
        if not (split.kind == "elementwise" or split.kind == "rowwise" and split.batch_shape is
                None or terminal is not None) or rank is None or \
                any(r and p not in allowed for p, r in enumerate(rows)):
            return False
        first = next(v for v, r in zip(inputs, rows) if r)
        chunks = first.region.chunks if isinstance(first, RegionValue) else first.chunks[0]
        if any(v.shape[0] != sum(chunks) or split.kind == "elementwise" and v.ndim != rank
               for v, r in zip(inputs, rows) if r):
            return False
        if self.region is None or self.region.rows != sum(chunks):
            self.close_region()
            self.region = Region(tuple(chunks))
        # a host value of the batch's length at a split position is split too
        split_host = [p in allowed and not r and np.ndim(v) and len(v) == self.region.rows > 1
                      and (split.kind != "elementwise" or np.ndim(v) == rank)
                      for p, (v, r) in enumerate(zip(inputs, rows))]
        inputs = [self.da.from_array(v, chunks=(self.region.chunks,) + np.shape(v)[1:])
                  if s else v for v, s in zip(inputs, split_host)]
        self.region.add(op, inputs, [r or s for r, s in zip(rows, split_host)], terminal)
        self.values[op.outputs[0]] = RegionValue(self.region, op.outputs[0], terminal is not None)
        return True

    def _rows_chunked(self, value) -> bool:
        if isinstance(value, RegionValue):
            return not value.partial and value.region is self.region
        return _is_chunked(value) and value.ndim > 0 and value.shape[0] in self.batch_chunks

    @staticmethod
    def _terminal(op, split):
        """The ``partial_kind`` of a reduction a region can end in; None when it cannot
        (a static output shape, and for a mean static trailing input dims, are needed)."""
        out, source = op.outputs[0].shape, op.inputs[split.chunked[0]].shape
        if split.combine not in _COMBINE or out.rank is None or not _static(out.as_list()):
            return None
        dtype = op.outputs[0].dtype.np
        if split.combine != "mean":
            return partial_kind(split.combine, 1, split.accumulate, dtype)
        if source.rank is None or not _static(source.as_list()[1:]):
            return None
        per_row = int(np.prod(source.as_list()[1:])) // max(int(np.prod(out.as_list())), 1)
        return partial_kind("mean", per_row, split.accumulate, dtype)

    def close_region(self) -> None:
        """Build the open region's tasks: its values used outside it become dask arrays."""
        region, self.region = self.region, None
        if region is None:
            return
        outputs = region.outputs(lambda t: t in self.fetched or any(
            c in self.needed and c not in region.ops and c not in self.shape_readers
            for c in t.consumers()))
        letters = iter(string.ascii_letters[2:])
        args = []
        for value, chunked in region.inputs:
            if chunked:
                value = value.rechunk({0: region.chunks, **{a: -1 for a in range(1, value.ndim)}})
                args += [value, "b" + "".join(next(letters) for _ in range(value.ndim - 1))]
            else:
                args += [value, None]
        task = region.task(outputs, self.user_op,
                           self._block_rows([v for v in args[::2] if _is_chunked(v)]))
        blocks = self.da.blockwise(task, "b", *args, concatenate=True, dtype=object,
                                   meta=np.empty((0,), object), adjust_chunks={"b": 1})
        for index, (tensor, kind) in enumerate(zip(outputs, task.kinds)):
            trailing = self._trailing(tensor.op, 0 if kind[0] != "rows" else 1)
            out = string.ascii_letters[2:2 + len(trailing)]
            dtype = tensor.dtype.np if kind[0] == "rows" else kind[2]
            value = self.da.blockwise(
                _Item(index), "b" + out, blocks, "b", new_axes=dict(zip(out, trailing)),
                adjust_chunks={"b": region.chunks if kind[0] == "rows" else 1}, dtype=dtype,
                meta=np.empty((0,) * (1 + len(trailing)), dtype))
            if kind[0] != "rows":
                value = self._combined(value, kind[0], tensor.dtype.np,
                                       region.rows * kind[1])
            self.values[tensor] = value

    def _shape(self, op, opdef, split, inputs):
        stand_ins = [np.broadcast_to(np.zeros((), v.dtype), v.shape)
                     if _is_chunked(v) or isinstance(v, RegionValue) else v for v in inputs]
        return run_on_host(op, opdef, stand_ins, self.ctx)


class _Item:
    """Output ``index`` of a region task's tuple (a named class: it pickles and labels)."""

    def __init__(self, index: int):
        self.index, self.__name__ = index, f"region output {index}"

    def __call__(self, results):
        return results[self.index]

    def __reduce__(self):
        return _Item, (self.index,)


def run_on_host(op, opdef, inputs, ctx):
    """The op's kernel on host values (as the NumPy Session runs it)."""
    kernel = opdef.bind(op) if opdef.bind is not None else \
        functools.partial(opdef.kernel, **op.attrs)
    try:
        with np.errstate(all="ignore"):
            if opdef.needs_context:
                ctx.op = op
                return kernel(ctx, *inputs)
            return kernel(*inputs)
    except InvalidArgumentError:
        raise
    except Exception as err:  # noqa: BLE001 - every kernel failure gets the op's context
        if hasattr(err, "error_code"):
            raise
        raise InvalidArgumentError(None, op, f"{describe_op(op)} failed at run time: "
                                   f"{err}") from err
