"""Discrete cosine transforms of types I-IV along the last axis, ``dct`` and ``idct``
(TF's ``tf.signal.dct`` / ``tf.signal.idct``, which equal ``scipy.fft.dct`` with
``norm=None`` or ``"ortho"``), computed in real arithmetic by ``scipy.fft.dct``.

TF builds them from complex FFTs; graphc has no complex dtypes, so one ``dct`` op does the
transform in the input's precision (scipy keeps float32 as float32). The transform is linear,
y = x M^T for a fixed N x N matrix M, so the gradient is the op again with ``adjoint`` set
(x M): for the orthonormal types that is the inverse transform, for the unnormalized ones
a neighbouring type with its first (type II/III) or end (type I) coefficients rescaled.

Example:
    >>> y = gc.signal.dct(x, type=2, norm="ortho")        # [..., N]
    >>> x_again = gc.signal.idct(y, type=2, norm="ortho")
"""
from __future__ import annotations

import numpy as np
import scipy.fft

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.ops.array import concat
from graphc.ops.common import apply_op, rand
from graphc.ops.creation import zeros
from graphc.ops.elementwise import maximum
from graphc.ops.padding import pad
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import format_shape

__all__ = ["dct", "idct"]

DCT_TYPES = (1, 2, 3, 4)
INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}


def _dct_dtypes(in_dtypes, attrs):
    dtype = in_dtypes[0]
    if dtype not in (gdt.float32, gdt.float64):
        raise TypeError(f"dct requires a float32 or float64 input, got {dtype.name}")
    return [dtype]


def _dct_shapes(inputs, attrs):
    x = inputs[0]
    if attrs["type"] not in DCT_TYPES:
        raise ValueError(f"dct: type must be 1, 2, 3 or 4, got {attrs['type']!r}")
    if attrs["norm"] not in (None, "ortho"):
        raise ValueError(f"dct: norm must be None or 'ortho', got {attrs['norm']!r}")
    if attrs["type"] == 1 and attrs["norm"] is not None:
        raise ValueError("dct: normalization is not supported for the type-I DCT")
    if x.shape.rank == 0:
        raise ValueError(f"dct: input must have rank >= 1 ([..., samples]), got shape "
                         f"{format_shape(x.shape)}")
    if attrs["type"] == 1 and x.shape.rank and x.shape.dims[-1] is not None \
            and x.shape.dims[-1] < 2:
        raise ValueError(f"dct: the type-I DCT needs at least 2 samples, got shape "
                         f"{format_shape(x.shape)}")
    return [x.shape]


def _scaled_last(x, first, last=None):
    """``x`` with its first (and last) entry along the last axis multiplied."""
    x = np.array(x, copy=True)
    x[..., 0] *= first
    if last is not None:
        x[..., -1] *= last
    return x


def _dct_kernel(x, type, norm, adjoint):  # noqa: A002 - TF's argument name
    x = np.asarray(x)
    samples = x.shape[-1]
    if type == 1 and samples < 2:
        raise ValueError(f"dct: the type-I DCT needs at least 2 samples, got shape "
                         f"{format_shape(x.shape)}")
    if samples == 0 or x.size == 0:
        return np.zeros(x.shape, x.dtype)
    if not adjoint or type == 4:
        return scipy.fft.dct(x, type=type, norm=norm, axis=-1)
    if norm == "ortho":  # orthonormal: the adjoint is the inverse
        return scipy.fft.dct(x, type=INVERSE_TYPE[type], norm=norm, axis=-1)
    # unnormalized M^T: y = x M^T with M_2[k, n] = 2 cos(pi k (2n + 1) / 2N),
    # M_3 = M_2^T with its column 0 halved, M_1[k, n] = c_n cos(pi k n / (N - 1)), c = 1 at
    # both ends and 2 inside
    if type == 2:
        return scipy.fft.dct(_scaled_last(x, 2.0), type=3, axis=-1)
    if type == 3:
        return _scaled_last(scipy.fft.dct(x, type=2, axis=-1), 0.5)
    # M_1^T g = c * dct1(g / c): the end entries doubled going in and halved coming out
    return _scaled_last(scipy.fft.dct(_scaled_last(x, 2.0, 2.0), type=1, axis=-1), 0.5, 0.5)


def _dct_grad(op, grad):
    attrs = op.attrs
    return [apply_op("dct", [grad], {"type": attrs["type"], "norm": attrs["norm"],
                                     "adjoint": not attrs["adjoint"]})]


def dct_matrix(size: int, dct_type: int, norm=None) -> np.ndarray:
    """TF's (and scipy's) DCT as an explicit float64 matrix M, y = M x (the reference)."""
    k, n = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    if dct_type == 1:
        weight = np.where((n == 0) | (n == size - 1), 1.0, 2.0)
        return weight * np.cos(np.pi * k * n / (size - 1))
    if dct_type == 4:
        matrix = 2.0 * np.cos(np.pi * (2 * k + 1) * (2 * n + 1) / (4.0 * size))
        return matrix / np.sqrt(2.0 * size) if norm == "ortho" else matrix
    matrix = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2.0 * size))  # type II
    if norm == "ortho":
        matrix = matrix * np.where(k == 0, np.sqrt(1.0 / (4 * size)), np.sqrt(1.0 / (2 * size)))
    if dct_type == 3:
        matrix = matrix.T if norm == "ortho" else np.where(n == 0, 1.0, matrix.T)
    return matrix


def _dct_reference(x, type=2, n=None, axis=-1, norm=None):  # noqa: A002
    x = np.asarray(x, np.float64)
    if n is not None:
        x = x[..., :n] if n <= x.shape[-1] else np.concatenate(
            [x, np.zeros(x.shape[:-1] + (n - x.shape[-1],))], -1)
    return x @ dct_matrix(x.shape[-1], type, norm).T


def _dct_samples():
    cases = [Sample((rand(3, 5),), {"type": t, "norm": norm}, rtol=1e-9)
             for t in DCT_TYPES for norm in ((None,) if t == 1 else (None, "ortho"))]
    return cases + [Sample((rand(2, 6).astype(np.float32),), {"type": 2}, rtol=1e-4),
                    Sample((rand(4),), {"type": 4, "n": 6}, rtol=1e-9),
                    Sample((rand(2, 7),), {"type": 3, "n": 3, "norm": "ortho"}, rtol=1e-9),
                    Sample((rand(2, 3, 2),), {"type": 1}, rtol=1e-9),
                    Sample((rand(0, 4),), {"type": 2}), Sample((rand(3, 0),), {"type": 4})]


def _dct_errors():
    return [ErrorSample((rand(2, 4).astype(np.float16),), error=TypeError, match="float32"),
            ErrorSample((np.arange(4, dtype=np.int32),), error=TypeError, match="float32"),
            ErrorSample((rand(2, 4),), {"type": 5}, match="1, 2, 3 or 4"),
            ErrorSample((rand(2, 4),), {"type": 1, "norm": "ortho"}, match="type-I"),
            ErrorSample((rand(2, 1),), {"type": 1}, match="at least 2 samples"),
            ErrorSample((rand(2, 4),), {"norm": "forward"}, match="None or 'ortho'"),
            ErrorSample((np.float64(1.0),), match="rank >= 1"),
            ErrorSample((rand(2, 4),), {"n": 0}, match="positive"),
            ErrorSample((rand(2, 4),), {"axis": 0}, error=NotImplementedError,
                        match="axis must be -1")]


DCT = registry.register(OpDef(
    name="dct", dtypes=_dct_dtypes, shapes=_dct_shapes, kernel=_dct_kernel, grad=_dct_grad,
    attrs={"type": 2, "norm": None, "adjoint": False}, fresh_output=True,
    reference=_dct_reference, samples=_dct_samples, error_samples=_dct_errors,
    doc="DCT of type 1-4 along the last axis (scipy's and TF's unnormalized or 'ortho' "
        "scaling); adjoint: the transposed transform (the gradient)."))


def _validate(op_name, x, dct_type, n, axis, norm):
    """TF's argument checks (dct_ops._validate_dct_arguments), before any op is made."""
    if axis != -1:
        raise NotImplementedError(f"{op_name}: axis must be -1 (as in TF), got {axis!r} for "
                                  f"input {format_shape(x.shape)} {x.dtype.name}")
    if n is not None and n < 1:
        raise ValueError(f"{op_name}: n should be a positive integer or None, got {n!r} for "
                         f"input {format_shape(x.shape)} {x.dtype.name}")


def _resized(op_name, x, n):
    """``x`` cut or zero-padded to ``n`` samples along the last axis (TF's ``n``)."""
    if x.shape.rank is None:
        raise ValueError(f"{op_name}: n needs an input of known rank, got "
                         f"{format_shape(x.shape)} {x.dtype.name}")
    samples = x.shape.dims[-1] if x.shape.rank else None
    if samples is not None:
        if n <= samples:
            return x[..., :n]
        return pad(x, [[0, 0]] * (x.shape.rank - 1) + [[0, n - samples]])
    cut = x[..., :n]
    missing = maximum(n - shape(x)[-1], 0)
    return concat([cut, zeros(concat([shape(x)[:-1], [missing]], 0), dtype=x.dtype)], -1)


def _transform(op_name, input, dct_type, n, axis, norm, name, inverse):  # noqa: A002
    graph = get_default_graph()
    with graph.name_scope(name or op_name), graph.atomic():
        x = convert_to_tensor(input, name="input")
        _validate(op_name, x, dct_type, n, axis, norm)
        if n is not None:
            x = _resized(op_name, x, int(n))
        attrs = {"type": INVERSE_TYPE.get(dct_type, dct_type) if inverse else dct_type,
                 "norm": norm, "adjoint": False}
        return apply_op("dct", [x], attrs, name="dct")


@registry.public(DCT)
def dct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002
    """The type ``type`` (1-4) DCT of ``input`` along its last axis (TF's
    ``tf.signal.dct``, equal to ``scipy.fft.dct``): unnormalized, or orthonormal with
    ``norm="ortho"``; ``n`` cuts or zero-pads the signal to ``n`` samples first.

    Example:
        >>> gc.signal.dct([1.0, 2.0, 3.0])               # [12, -3.4641, 0]
        >>> gc.signal.dct(frames, type=4, norm="ortho")
    """
    return _transform("dct", input, type, n, axis, norm, name, inverse=False)


def idct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002
    """The inverse DCT (TF's ``tf.signal.idct``): the DCT of the inverse type (II <-> III,
    I and IV themselves). Unnormalized, ``idct(dct(x)) == 2 * N * x`` (``2 * (N - 1)`` for
    type I); with ``norm="ortho"`` it is the exact inverse.

    Example:
        >>> x = gc.signal.idct(gc.signal.dct(x, norm="ortho"), norm="ortho")
    """
    return _transform("idct", input, type, n, axis, norm, name, inverse=True)
