"""Contractions: matmul (batched, transposed, broadcasting batch dims), tensordot, einsum."""
from __future__ import annotations

import itertools
import string

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import NUMERIC, apply_op, rand, randint, same_dtype_rule, static_axis
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape, broadcast_shapes

__all__ = ["matmul", "tensordot", "einsum"]


def _matmul_shapes(inputs, attrs):
    a, b = inputs[0].shape, inputs[1].shape
    if a.rank < 2 or b.rank < 2:
        raise ValueError(f"matmul: both inputs must have rank >= 2, got shapes {a} and {b}")
    m, k_a = a.dims[-2:][::-1] if attrs["transpose_a"] else a.dims[-2:]
    k_b, n = b.dims[-2:][::-1] if attrs["transpose_b"] else b.dims[-2:]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise ValueError(f"matmul: Dimensions must be equal, but are {k_a} and {k_b} for "
                         f"shapes {a} and {b} (transpose_a={attrs['transpose_a']}, "
                         f"transpose_b={attrs['transpose_b']})")
    try:
        batch = broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a} and {b} do not broadcast") from None
    return [batch.concatenate([m, n])]


def _matmul_kernel(a, b, transpose_a, transpose_b):
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def _matmul_reference(a, b, transpose_a=False, transpose_b=False):
    a = np.swapaxes(a, -1, -2) if transpose_a else a
    b = np.swapaxes(b, -1, -2) if transpose_b else b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.zeros(batch + (a.shape[-2], b.shape[-1]))
    for index in itertools.product(*(range(d) for d in out.shape)):
        *lead, i, j = index
        out[index] = sum(a[(*lead, i, k)] * b[(*lead, k, j)] for k in range(a.shape[-1]))
    return out


MATMUL = registry.register(OpDef(
    name="matmul", dtypes=same_dtype_rule("matmul", NUMERIC), shapes=_matmul_shapes,
    kernel=_matmul_kernel, attrs={"transpose_a": False, "transpose_b": False},
    reference=_matmul_reference,
    samples=lambda: [Sample((rand(3, 4), rand(4, 2))),
                     Sample((rand(4, 3), rand(2, 4)), {"transpose_a": True, "transpose_b": True}),
                     Sample((rand(2, 3, 4), rand(4, 5))),  # batched with broadcasting
                     Sample((rand(2, 1, 3, 4, dtype=np.float32), rand(3, 4, 2, dtype=np.float32)),
                            rtol=1e-5),
                     Sample((randint(2, 3), randint(3, 2))), Sample((rand(0, 3), rand(3, 2)))],
    error_samples=lambda: [
        ErrorSample((rand(2, 3), rand(4, 5)), match="Dimensions must be equal"),
        ErrorSample((rand(3), rand(3, 2)), match="rank >= 2"),
        ErrorSample((rand(2, 3).astype(np.float32), rand(3, 2)), error=TypeError,
                    match="one dtype")],
    doc="Matrix product over the last two dims; leading dims broadcast."))


@registry.public(MATMUL)
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix product ``a @ b`` over the last two dims, with broadcasting batch dims.

    Example:
        >>> logits = gc.matmul(x, W)            # (N, 784) @ (784, 10)
        >>> g = gc.matmul(x, x, transpose_a=True)
    """
    attrs = {"transpose_a": bool(transpose_a or adjoint_a),
             "transpose_b": bool(transpose_b or adjoint_b)}
    return apply_op("matmul", [a, b], attrs, name=name or "MatMul")


def _tensordot_axes(axes, rank_a):
    if isinstance(axes, int):
        return tuple(range(rank_a - axes, rank_a)), tuple(range(axes))
    first, second = axes
    first = [first] if isinstance(first, int) else list(first)
    second = [second] if isinstance(second, int) else list(second)
    return tuple(first), tuple(second)


def _tensordot_shapes(inputs, attrs):
    a, b = inputs[0].shape, inputs[1].shape
    axes_a, axes_b = attrs["axes_a"], attrs["axes_b"]
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: axes {list(axes_a)} and {list(axes_b)} differ in length")
    axes_a = [ax % a.rank if -a.rank <= ax < a.rank else _bad_axis(ax, a) for ax in axes_a]
    axes_b = [ax % b.rank if -b.rank <= ax < b.rank else _bad_axis(ax, b) for ax in axes_b]
    for ax_a, ax_b in zip(axes_a, axes_b):
        da, db = a.dims[ax_a], b.dims[ax_b]
        if da is not None and db is not None and da != db:
            raise ValueError(f"tensordot: contracted dims differ: axis {ax_a} of {a} is {da}, "
                             f"axis {ax_b} of {b} is {db}")
    free_a = [d for i, d in enumerate(a.dims) if i not in axes_a]
    free_b = [d for i, d in enumerate(b.dims) if i not in axes_b]
    return [TensorShape(free_a + free_b)]


def _bad_axis(axis, shape):
    raise ValueError(f"tensordot: axis {axis} is out of range for shape {shape}")


def _tensordot_reference(a, b, axes):
    axes_a, axes_b = _tensordot_axes(axes, a.ndim)
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for ax_a, ax_b in zip(axes_a, axes_b):
        sub_b[ax_b] = sub_a[ax_a]
    out = [s for i, s in enumerate(sub_a) if i not in [x % a.ndim for x in axes_a]]
    out += [s for i, s in enumerate(sub_b) if i not in [x % b.ndim for x in axes_b]]
    return _einsum_reference(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


TENSORDOT = registry.register(OpDef(
    name="tensordot", dtypes=same_dtype_rule("tensordot", NUMERIC), shapes=_tensordot_shapes,
    kernel=lambda a, b, axes_a, axes_b: np.asarray(np.tensordot(a, b, axes=(axes_a, axes_b))),
    attrs={"axes_a": (), "axes_b": ()}, reference=_tensordot_reference,
    samples=lambda: [Sample((rand(2, 3, 4), rand(3, 4, 5), 2)),
                     Sample((rand(2, 3), rand(3, 2), [[1], [0]])),
                     Sample((rand(3, 4), rand(5), 0))],
    error_samples=lambda: [ErrorSample((rand(2, 3), rand(4, 2), [[1], [0]]),
                                       match="contracted dims differ")],
    doc="Sum of products over the given axes of a and b."))


@registry.public(TENSORDOT)
def tensordot(a, b, axes, name=None):
    """Contract ``axes`` of ``a`` with ``axes`` of ``b`` (an int N: last N of a, first N of b).

    Example:
        >>> c = gc.tensordot(a, b, axes=[[1], [0]])
    """
    graph = graph_of(a, b)
    with graph.as_default(), graph.atomic():
        a_tensor = convert_to_tensor(a)
        axes = static_axis(axes, "tensordot")
        axes_a, axes_b = _tensordot_axes(axes, a_tensor.shape.rank)
        return apply_op("tensordot", [a_tensor, b], {"axes_a": axes_a, "axes_b": axes_b},
                        name=name or "Tensordot")


def parse_einsum(equation: str, count: int):
    """``(input subscripts, output subscripts)``; implicit output = letters used once, sorted."""
    equation = equation.replace(" ", "")
    if "." in equation:
        raise ValueError(f"einsum: ellipsis in {equation!r} is not supported")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != count:
        raise ValueError(f"einsum: equation {equation!r} names {len(inputs)} inputs, "
                         f"got {count}")
    if not arrow:
        letters = "".join(inputs)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for subscript in inputs + [rhs]:
        if not all(c in string.ascii_letters for c in subscript):
            raise ValueError(f"einsum: invalid subscripts {subscript!r} in {equation!r}")
    if len(set(rhs)) != len(rhs) or not set(rhs) <= set("".join(inputs)):
        raise ValueError(f"einsum: output subscripts {rhs!r} must be distinct and appear in "
                         f"the inputs of {equation!r}")
    return inputs, rhs


def _einsum_shapes(inputs, attrs):
    subscripts, out = parse_einsum(attrs["equation"], len(inputs))
    sizes: dict = {}
    for subscript, tensor in zip(subscripts, inputs):
        if len(subscript) != tensor.shape.rank:
            raise ValueError(f"einsum: subscripts {subscript!r} do not match the rank of shape "
                             f"{tensor.shape}")
        for letter, dim in zip(subscript, tensor.shape.dims):
            if dim is None:
                continue
            if sizes.get(letter, dim) != dim:
                raise ValueError(f"einsum: index {letter!r} has sizes {sizes[letter]} and {dim} "
                                 f"in {attrs['equation']!r}")
            sizes[letter] = dim
    return [TensorShape([sizes.get(c) for c in out])]


def _einsum_reference(equation, *arrays):
    subscripts, out = parse_einsum(equation, len(arrays))
    sizes = {c: d for s, a in zip(subscripts, arrays) for c, d in zip(s, a.shape)}
    letters = sorted(sizes)
    result = np.zeros([sizes[c] for c in out])
    for values in itertools.product(*(range(sizes[c]) for c in letters)):
        where = dict(zip(letters, values))
        term = 1.0
        for subscript, array in zip(subscripts, arrays):
            term = term * array[tuple(where[c] for c in subscript)]
        result[tuple(where[c] for c in out)] += term
    return result


EINSUM = registry.register(OpDef(
    name="einsum", dtypes=same_dtype_rule("einsum", NUMERIC), shapes=_einsum_shapes,
    kernel=lambda *xs, equation: np.asarray(np.einsum(equation, *xs, optimize=len(xs) > 2)),
    attrs={"equation": ""}, reference=_einsum_reference,
    samples=lambda: [Sample(("ij,jk->ik", rand(2, 3), rand(3, 4))),
                     Sample(("bij,bjk->bik", rand(2, 2, 3), rand(2, 3, 2))),
                     Sample(("ii", rand(3, 3))), Sample(("ij->ji", rand(2, 3))),
                     Sample(("i,j,ij->", rand(2), rand(3), rand(2, 3)))],
    error_samples=lambda: [ErrorSample(("ij,jk->ik", rand(2, 3), rand(4, 2)),
                                       match="has sizes"),
                           ErrorSample(("ij->ik", rand(2, 3)), match="output subscripts")],
    doc="Einstein summation over named indices."))


@registry.public(EINSUM)
def einsum(equation, *inputs, **kwargs):
    """Einstein summation, e.g. ``"bij,bjk->bik"`` (no ellipsis).

    Example:
        >>> c = gc.einsum("ij,jk->ik", a, b)
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"einsum: unexpected arguments {sorted(kwargs)}")
    return apply_op("einsum", list(inputs), {"equation": equation.replace(" ", "")},
                    name=name or "einsum")
