"""Window functions of ``gc.signal`` (TF's ``tf.signal.*_window``): Hann, Hamming, Kaiser,
Kaiser-Bessel-derived and Vorbis windows of ``window_length`` samples in a floating
``dtype``, built from graph ops the way TF builds them (so a ``window_length`` tensor known
only at run time works, and the float32 values are TF's own arithmetic).

Example:
    >>> gc.signal.hann_window(4)                    # [0, 0.5, 1, 0.5]  (periodic)
    >>> gc.signal.hann_window(4, periodic=False)    # [0, 0.75, 0.75, 0]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.array import concat
from graphc.ops.creation import ones, ones_like, range as range_
from graphc.ops.cumulative import cumsum
from graphc.ops.elementwise import (cast, cos, equal, exp, floordiv, floormod, pow, relu, sin,
                                    sqrt, square)
from graphc.ops.select import where
from graphc.ops.special_math import bessel_i0e
from graphc.shapes import format_shape
from graphc.static_values import constant_value

__all__ = ["hann_window", "hamming_window", "kaiser_window", "kaiser_bessel_derived_window",
           "vorbis_window"]


def _float_dtype(op_name: str, dtype):
    dtype = gdt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"{op_name}: dtype must be a floating point type, got {dtype.name}")
    return dtype


def _length(op_name: str, window_length):
    """``window_length`` as an int32 scalar tensor, and its value when known now."""
    length = convert_to_tensor(window_length, dtype=gdt.int32, name="window_length")
    if length.shape.rank not in (None, 0):
        raise ValueError(f"{op_name}: window_length must be a scalar, got shape "
                         f"{format_shape(length.shape)}")
    known = constant_value(length)
    return length, None if known is None else int(known)


def _raised_cosine(op_name, window_length, periodic, dtype, name, a, b):
    dtype = _float_dtype(op_name, dtype)
    graph = get_default_graph()
    with graph.name_scope(name or op_name), graph.atomic():
        length, known = _length(op_name, window_length)
        if known == 1:
            return ones([1], dtype=dtype)
        periodic = convert_to_tensor(periodic, dtype=gdt.bool, name="periodic")
        if periodic.shape.rank not in (None, 0):
            raise ValueError(f"{op_name}: periodic must be a scalar, got shape "
                             f"{format_shape(periodic.shape)}")
        even = 1 - floormod(length, 2)
        # a periodic window of even length is the symmetric window of length + 1, cut
        denominator = cast(length + cast(periodic, gdt.int32) * even - 1, dtype)
        count = cast(range_(length), dtype)
        window = a - b * cos(convert_to_tensor(2 * np.pi, dtype=dtype) * count / denominator)
        if known is not None:
            return window
        return where(equal(length, 1), ones_like(window), window)


def hann_window(window_length, periodic=True, dtype=gdt.float32, name=None):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / N)`` (TF's ``tf.signal.hann_window``);
    ``N = window_length`` when ``periodic`` (for spectra), ``window_length - 1`` when not
    (symmetric, for filter design).

    Example:
        >>> gc.signal.hann_window(512)   # a float32 [512] window for gc.signal.frame
    """
    return _raised_cosine("hann_window", window_length, periodic, dtype, name, 0.5, 0.5)


def hamming_window(window_length, periodic=True, dtype=gdt.float32, name=None):
    """The Hamming window ``0.54 - 0.46 cos(2 pi n / N)`` (TF's
    ``tf.signal.hamming_window``), ``N`` as for ``hann_window``.

    Example:
        >>> gc.signal.hamming_window(5, periodic=False)   # [0.08, 0.54, 1, 0.54, 0.08]
    """
    return _raised_cosine("hamming_window", window_length, periodic, dtype, name, 0.54, 0.46)


def _kaiser(op_name, window_length, beta, dtype):
    length, known = _length(op_name, window_length)
    if known == 1:
        return ones([1], dtype=dtype)
    # TF ranges in float32 (its range has no float16) and casts afterwards
    half = (cast(length, gdt.float32) - 1.0) / 2.0
    arg = cast(range_(-half, half + 0.1, dtype=gdt.float32), dtype)
    beta = cast(beta, dtype)
    half = cast(half, dtype)
    num = beta * sqrt(relu(1.0 - square(arg / half)))
    # i0(num) / i0(beta) as exp(num - beta) i0e(num) / i0e(beta): no overflow for large beta
    return exp(num - beta) * (bessel_i0e(num) / bessel_i0e(beta))


def kaiser_window(window_length, beta=12.0, dtype=gdt.float32, name=None):
    """The Kaiser window ``I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)`` (TF's
    ``tf.signal.kaiser_window``, NumPy's ``np.kaiser``).

    Example:
        >>> gc.signal.kaiser_window(8, beta=5.0)
    """
    dtype = _float_dtype("kaiser_window", dtype)
    graph = get_default_graph()
    with graph.name_scope(name or "kaiser_window"), graph.atomic():
        return _kaiser("kaiser_window", window_length, beta, dtype)


def kaiser_bessel_derived_window(window_length, beta=12.0, dtype=gdt.float32, name=None):
    """The Kaiser-Bessel-derived window (TF's ``tf.signal.kaiser_bessel_derived_window``):
    square roots of the normalized running sums of a Kaiser window of ``window_length // 2
    + 1`` samples, mirrored; an odd ``window_length`` gives ``window_length - 1`` samples,
    as in TF. Power complementary, so MDCT frames reconstruct exactly.

    Example:
        >>> window = gc.signal.kaiser_bessel_derived_window(256)
    """
    op_name = "kaiser_bessel_derived_window"
    dtype = _float_dtype(op_name, dtype)
    graph = get_default_graph()
    with graph.name_scope(name or op_name), graph.atomic():
        length, known = _length(op_name, window_length)
        half = known // 2 if known is not None else floordiv(length, 2)
        kaiser = _kaiser(op_name, half + 1, beta, dtype)
        running = cumsum(kaiser)
        half_window = sqrt(running[:-1] / running[-1])
        return concat([half_window, half_window[::-1]], 0)


def vorbis_window(window_length, dtype=gdt.float32, name=None):
    """The Vorbis power complementary window ``sin(pi/2 sin^2(pi (n + 1/2) / N))`` (TF's
    ``tf.signal.vorbis_window``, ``mdct``'s default).

    Example:
        >>> gc.signal.vorbis_window(8)
    """
    dtype = _float_dtype("vorbis_window", dtype)
    graph = get_default_graph()
    with graph.name_scope(name or "vorbis_window"), graph.atomic():
        length, _ = _length("vorbis_window", window_length)
        arg = cast(range_(length), dtype)
        inner = sin(np.pi / cast(length, dtype) * (arg + 0.5))
        return sin(np.pi / 2.0 * pow(inner, 2.0))
