"""Contractions: matmul (batched, transposed, broadcasting batch dims), tensordot, einsum."""
from __future__ import annotations

import functools
import itertools
import string

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.errors import describe_op, describe_tensor
from graphc.ops import creation, gemm
from graphc.ops.common import NUMERIC, apply_op, rand, randint, same_dtype_rule, static_axis
from graphc.ops.common import matmul_split  # its batch-axis split (graphc.dask)
from graphc.ops.elementwise import equal
from graphc.ops.gemm import matmul_2d
from graphc.ops.select import cast
from graphc.ops.shape_ops import broadcast_to, expand_dims, shape, sum_to_shape, transpose
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


# ``a @ b`` for an inner dimension of 1 (the gradients of matrix-vector products), by
# (transpose_a, transpose_b). Not a broadcast multiply: np.matmul's sum starts at +0.0, so
# where a product is -0.0 (``-1 * 0``, an underflow) it gives +0.0, as ``1 / matmul`` relies
# on; einsum accumulates the same way, bit for bit in every dtype (float16 included), as
# fast as the multiply and two to three times faster than a BLAS call with k = 1.
OUTER_PRODUCT_SUBSCRIPTS = {(False, False): "ik,kj->ij", (True, False): "ki,kj->ij",
                            (False, True): "ik,jk->ij", (True, True): "ki,jk->ij"}


def _inner_dims(a_shape, b_shape, transpose_a, transpose_b):
    return a_shape[0 if transpose_a else 1], b_shape[1 if transpose_b else 0]


def _matmul_kernel(a, b, transpose_a, transpose_b, out=None):
    # both inner dims must be 1: einsum would broadcast a 1 against b's k and sum silently
    if a.ndim == 2 and b.ndim == 2:
        if _inner_dims(a.shape, b.shape, transpose_a, transpose_b) == (1, 1):
            return np.einsum(OUTER_PRODUCT_SUBSCRIPTS[transpose_a, transpose_b], a, b, out=out)
        return matmul_2d(a, b, transpose_a, transpose_b, out=out)  # split over graphc's pool
    a, b = gemm.dense(a), gemm.dense(b)
    if transpose_a:
        a = a.swapaxes(-1, -2)  # the method: np.swapaxes adds ~0.5 us of dispatch
    if transpose_b:
        b = b.swapaxes(-1, -2)
    return np.matmul(a, b, out=out)


def _bind_matmul(op):
    """The kernel with the transposes bound; outer products (inner dimension 1) as one
    einsum, other 2-D products by graphc.ops.gemm."""
    transpose_a, transpose_b = op.attrs["transpose_a"], op.attrs["transpose_b"]
    a, b = op.inputs
    rank2 = a.shape.rank == 2 and b.shape.rank == 2
    if rank2 and _inner_dims(a.shape.dims, b.shape.dims, transpose_a, transpose_b) == (1, 1):
        return functools.partial(np.einsum, OUTER_PRODUCT_SUBSCRIPTS[transpose_a, transpose_b])
    if rank2:
        return functools.partial(matmul_2d, transpose_a=transpose_a, transpose_b=transpose_b)
    return functools.partial(_matmul_kernel, transpose_a=transpose_a, transpose_b=transpose_b)


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


def _reduce_batch(grad, x):
    """Sum a gradient over batch dims that x was broadcast along (batched matmul)."""
    if grad.shape.rank == x.shape.rank and x.shape.rank == 2:
        return grad
    if grad.shape == x.shape and x.shape.is_fully_defined():
        return grad
    return sum_to_shape(grad, shape(x))


def _matmul_grad(op, dy):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:  # C = A B:      dA = dC B^T,    dB = A^T dC
        da, db = matmul(dy, b, transpose_b=True), matmul(a, dy, transpose_a=True)
    elif ta and not tb:  # C = A^T B:      dA = B dC^T,    dB = A dC
        da, db = matmul(b, dy, transpose_b=True), matmul(a, dy)
    elif not ta and tb:  # C = A B^T:      dA = dC B,      dB = dC^T A
        da, db = matmul(dy, b), matmul(dy, a, transpose_a=True)
    else:  # C = A^T B^T:                  dA = B^T dC^T,  dB = dC^T A^T
        da = matmul(b, dy, transpose_a=True, transpose_b=True)
        db = matmul(dy, a, transpose_a=True, transpose_b=True)
    return [_reduce_batch(da, a), _reduce_batch(db, b)]


MATMUL = registry.register(OpDef(
    name="matmul", dtypes=same_dtype_rule("matmul", NUMERIC), shapes=_matmul_shapes,
    grad=_matmul_grad, fresh_output=True, takes_out=True,
    bind=lambda op: _bind_matmul(op),
    kernel=_matmul_kernel, attrs={"transpose_a": False, "transpose_b": False},
    distribution=matmul_split,
    reference=_matmul_reference,
    samples=lambda: [Sample((rand(3, 4), rand(4, 2))),
                     Sample((rand(4, 3), rand(2, 4)), {"transpose_a": True, "transpose_b": True}),
                     Sample((rand(3, 1), rand(1, 4))),  # outer products: through einsum
                     Sample((rand(1, 3), rand(4, 1)), {"transpose_a": True, "transpose_b": True}),
                     Sample((rand(3, 1), rand(4, 1)), {"transpose_b": True}),
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


def _tensordot_axes(axes):
    if isinstance(axes, int):  # the last N of a, counted from the end: a's rank may be unknown
        return tuple(range(-axes, 0)), tuple(range(axes))
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
    axes_a, axes_b = _tensordot_axes(axes)
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for ax_a, ax_b in zip(axes_a, axes_b):
        sub_b[ax_b] = sub_a[ax_a]
    out = [s for i, s in enumerate(sub_a) if i not in [x % a.ndim for x in axes_a]]
    out += [s for i, s in enumerate(sub_b) if i not in [x % b.ndim for x in axes_b]]
    return _einsum_reference(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def _tensordot_grad(op, dy):
    a, b = op.inputs
    ra, rb = a.shape.rank, b.shape.rank
    if ra is None or rb is None:
        raise ValueError(f"The gradient of {describe_op(op)} needs inputs of known rank: "
                         f"{describe_tensor(a)} and {describe_tensor(b)}")
    axes_a = [ax % ra for ax in op.attrs["axes_a"]]
    axes_b = [ax % rb for ax in op.attrs["axes_b"]]
    free_a = [i for i in range(ra) if i not in axes_a]
    free_b = [i for i in range(rb) if i not in axes_b]
    n_free_a = len(free_a)
    # dA: contract dy's b-free dims with b's free dims; leftover dims are b's contracted ones
    t_a = tensordot(dy, b, [list(range(n_free_a, n_free_a + len(free_b))), free_b])
    a_positions = free_a + [axes_a[axes_b.index(pb)] for pb in sorted(axes_b)]
    # dB: contract a's free dims with dy's a-free dims; leftover dims are a's contracted ones
    t_b = tensordot(a, dy, [free_a, list(range(n_free_a))])
    b_positions = [axes_b[axes_a.index(pa)] for pa in sorted(axes_a)] + free_b
    return [_undo_perm(t_a, a_positions), _undo_perm(t_b, b_positions)]


def _undo_perm(tensor, positions):
    """``tensor``'s axis k belongs at ``positions[k]``; transpose it into that order."""
    perm = [positions.index(i) for i in range(len(positions))]
    return tensor if perm == list(range(len(perm))) else transpose(tensor, perm)


TENSORDOT = registry.register(OpDef(
    name="tensordot", dtypes=same_dtype_rule("tensordot", NUMERIC), shapes=_tensordot_shapes,
    grad=_tensordot_grad,
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
        axes_a, axes_b = _tensordot_axes(axes)
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


def _einsum_grad(op, dy):
    """d input_k = einsum(other inputs, dy -> subscripts_k).

    Letters that appear only in input k were summed away: the result is broadcast back
    along them. A repeated letter (a diagonal, as in "ii") is rebuilt by multiplying with an
    identity matrix.
    """
    subscripts, out = parse_einsum(op.attrs["equation"], len(op.inputs))
    used = set(op.attrs["equation"])
    fresh = iter(c for c in string.ascii_letters if c not in used)
    grads = []
    for k, target in enumerate(subscripts):
        unique = "".join(dict.fromkeys(target))
        others = [s for j, s in enumerate(subscripts) if j != k] + [out]
        present = "".join(c for c in unique if any(c in s for s in others))
        operands = [t for j, t in enumerate(op.inputs) if j != k] + [dy]
        grad = einsum(",".join(others) + "->" + present, *operands)
        dims = [_dim(op.inputs[k], target.index(c)) for c in unique]
        if present != unique:
            grad = _broadcast_missing(grad, present, unique, dims)
        if unique != target:
            grad = _restore_diagonals(grad, unique, target, dims, fresh)
        grads.append(grad)
    return grads


def _dim(tensor, axis):
    known = tensor.shape[axis]
    return known if known is not None else shape(tensor)[axis]


def _broadcast_missing(grad, present, unique, dims):
    for axis, letter in enumerate(unique):
        if letter not in present:
            grad = expand_dims(grad, axis)
    return broadcast_to(grad, dims)


def _restore_diagonals(grad, unique, target, dims, fresh):
    renamed, eyes, seen = [], [], set()
    for letter in target:
        if letter in seen:
            new = next(fresh)
            size = dims[unique.index(letter)]
            steps = creation.range(size)
            eye = cast(equal(steps[:, None], steps[None, :]), grad.dtype)
            eyes.append((letter + new, eye))
            renamed.append(new)
        else:
            seen.add(letter)
            renamed.append(letter)
    equation = ",".join([unique] + [s for s, _ in eyes]) + "->" + "".join(renamed)
    return einsum(equation, grad, *[e for _, e in eyes])


EINSUM = registry.register(OpDef(
    name="einsum", dtypes=same_dtype_rule("einsum", NUMERIC), shapes=_einsum_shapes,
    grad=_einsum_grad,
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
