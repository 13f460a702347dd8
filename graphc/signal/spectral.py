"""The real-valued spectral functions of ``gc.signal``, composed from graph ops as TF composes
them: the MDCT and its inverse (frames, a window and a type-IV DCT), mel filterbanks, MFCCs,
``fftshift`` / ``ifftshift`` and the window ``inverse_stft`` would use. Every one is
differentiable where TF's is, through the gradients of the ops it is made of.

Example:
    >>> coefficients = gc.signal.mdct(audio, 256)              # [..., frames, 128]
    >>> audio_again = gc.signal.inverse_mdct(coefficients)     # perfect reconstruction
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.ops.array import concat, split
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import equal, floordiv, log, maximum, minimum, rsqrt
from graphc.ops.masking import reverse
from graphc.ops.math_extra import linspace
from graphc.ops.padding import pad
from graphc.ops.reduce import reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape, shape
from graphc.ops.signal_dct import dct
from graphc.ops.signal_frames import frame, overlap_and_add
from graphc.ops.space_batch import roll
from graphc.shapes import format_shape
from graphc.signal.windows import hann_window, vorbis_window
from graphc.static_values import constant_value

__all__ = ["mdct", "inverse_mdct", "linear_to_mel_weight_matrix",
           "mfccs_from_log_mel_spectrograms", "fftshift", "ifftshift", "inverse_stft_window_fn"]

# HTK's mel scale: mel(f) = 1127 ln(1 + f / 700)
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _scalar(op_name, value, what):
    tensor = convert_to_tensor(value, name=what)
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"{op_name}: {what} must be a scalar, got shape "
                         f"{format_shape(tensor.shape)}")
    return tensor


def mdct(signals, frame_length, window_fn=vorbis_window, pad_end=False, norm=None, name=None):
    """The modified DCT of ``signals`` ``[..., samples]`` (TF's ``tf.signal.mdct``):
    frames of ``frame_length`` (a multiple of 4) samples, half a frame apart, windowed by
    ``window_fn(frame_length, dtype=...)`` (None: a flat ``1/sqrt(2)``), folded and
    transformed by a type-IV DCT; ``[..., frames, frame_length // 2]``.

    Example:
        >>> coefficients = gc.signal.mdct(audio, 256, norm="ortho")
    """
    graph = get_default_graph()
    with graph.name_scope(name or "mdct"), graph.atomic():
        signals = convert_to_tensor(signals, name="signals")
        if signals.shape.rank == 0:
            raise ValueError(f"mdct: signals must have rank >= 1, got shape "
                             f"{format_shape(signals.shape)}")
        frame_length = _scalar("mdct", frame_length, "frame_length")
        known = constant_value(frame_length)
        if known is not None:
            if int(known) % 4 != 0:
                raise ValueError(f"mdct: the frame length must be a multiple of 4, got "
                                 f"{int(known)}")
            frame_step = convert_to_tensor(int(known) // 2, dtype=frame_length.dtype)
        else:
            frame_step = floordiv(frame_length, 2)
        framed = frame(signals, frame_length, frame_step, pad_end=pad_end)
        if window_fn is not None:
            framed = framed * window_fn(frame_length, dtype=framed.dtype)
        else:
            framed = framed * (1.0 / np.sqrt(2))
        quarters = split(framed, 4, axis=-1)
        first_half = -reverse(quarters[2], [-1]) - quarters[3]
        second_half = quarters[0] - reverse(quarters[1], [-1])
        return dct(concat([first_half, second_half], -1), type=4, norm=norm)


def inverse_mdct(mdcts, window_fn=vorbis_window, norm=None, name=None):
    """The inverse modified DCT of ``mdcts`` ``[..., frames, frame_length // 2]`` (TF's
    ``tf.signal.inverse_mdct``): a type-IV DCT, unfolded, windowed and overlap-added into
    ``[..., (frames - 1) * (frame_length // 2) + frame_length]`` samples.

    Example:
        >>> audio = gc.signal.inverse_mdct(gc.signal.mdct(audio, 256))
    """
    graph = get_default_graph()
    with graph.name_scope(name or "inverse_mdct"), graph.atomic():
        mdcts = convert_to_tensor(mdcts, name="mdcts")
        dims = mdcts.shape.dims
        if dims is not None and len(dims) < 2:
            raise ValueError(f"inverse_mdct: mdcts must have rank >= 2, got shape "
                             f"{format_shape(mdcts.shape)}")
        if dims is None or dims[-1] is None:
            raise ValueError(f"inverse_mdct: the last dimension of mdcts (frame_length // 2) "
                             f"must be known when the graph is built, got shape "
                             f"{format_shape(mdcts.shape)}")
        if norm not in (None, "ortho"):
            raise ValueError(f"inverse_mdct: norm must be None or 'ortho', got {norm!r}")
        half_len = dims[-1]
        if norm is None:
            idct4 = (0.5 / cast(half_len, mdcts.dtype)) * dct(mdcts, type=4)
        else:
            idct4 = dct(mdcts, type=4, norm="ortho")
        halves = split(idct4, 2, axis=-1)
        frames = concat([halves[1], -reverse(halves[1], [-1]), -reverse(halves[0], [-1]),
                         -halves[0]], -1)
        if window_fn is not None:
            frames = frames * window_fn(2 * half_len, dtype=mdcts.dtype)
        else:
            frames = frames * (1.0 / np.sqrt(2))
        return overlap_and_add(frames, half_len)


def _hertz_to_mel(frequencies_hertz):
    return _MEL_HIGH_FREQUENCY_Q * log(1.0 + (frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ))


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sample_rate=8000,
                                lower_edge_hertz=125.0, upper_edge_hertz=3800.0,
                                dtype=gdt.float32, name=None):
    """The ``[num_spectrogram_bins, num_mel_bins]`` matrix of HTK's triangular mel filters
    (TF's ``tf.signal.linear_to_mel_weight_matrix``): right-multiplying a linear-frequency
    spectrogram by it gives the mel spectrogram. The DC bin gets no weight (HTK's rule).

    Example:
        >>> weights = gc.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 8000.0)
        >>> mel = gc.tensordot(spectrogram, weights, 1)
    """
    graph = get_default_graph()
    with graph.name_scope(name or "linear_to_mel_weight_matrix"), graph.atomic():
        if isinstance(sample_rate, Tensor):
            known = constant_value(sample_rate)
            if known is not None:
                sample_rate = known.item()
        dtype = gdt.as_dtype(dtype)
        _check_mel_arguments(num_mel_bins, sample_rate, lower_edge_hertz, upper_edge_hertz,
                             dtype)
        sample_rate = cast(sample_rate, dtype)
        lower_edge_hertz = convert_to_tensor(lower_edge_hertz, dtype=dtype)
        upper_edge_hertz = convert_to_tensor(upper_edge_hertz, dtype=dtype)
        zero = convert_to_tensor(0.0, dtype=dtype)
        # HTK excludes the spectrogram's DC bin: it is sliced off here and padded back below
        linear_frequencies = linspace(zero, sample_rate / 2.0, num_spectrogram_bins)[1:]
        spectrogram_bins_mel = reshape(_hertz_to_mel(linear_frequencies), [-1, 1])
        # num_mel_bins triples (lower edge, centre, upper edge); each band's centre is its
        # neighbours' edge, so [lower, upper] on the mel scale is cut into num_mel_bins + 2
        band_edges_mel = frame(linspace(_hertz_to_mel(lower_edge_hertz),
                                        _hertz_to_mel(upper_edge_hertz), num_mel_bins + 2),
                               frame_length=3, frame_step=1)
        lower_mel, center_mel, upper_mel = (reshape(t, [1, num_mel_bins])
                                            for t in split(band_edges_mel, 3, axis=1))
        # the triangles' sides are straight lines on the mel scale, not in hertz
        lower_slopes = (spectrogram_bins_mel - lower_mel) / (center_mel - lower_mel)
        upper_slopes = (upper_mel - spectrogram_bins_mel) / (upper_mel - center_mel)
        weights = maximum(zero, minimum(lower_slopes, upper_slopes))
        return pad(weights, [[1, 0], [0, 0]])


def _check_mel_arguments(num_mel_bins, sample_rate, lower_edge_hertz, upper_edge_hertz,
                         dtype):
    """TF's checks (mel_ops._validate_arguments)."""
    op_name = "linear_to_mel_weight_matrix"
    if num_mel_bins <= 0:
        raise ValueError(f"{op_name}: num_mel_bins must be positive, got {num_mel_bins}")
    if lower_edge_hertz < 0.0:
        raise ValueError(f"{op_name}: lower_edge_hertz must be non-negative, got "
                         f"{lower_edge_hertz}")
    if lower_edge_hertz >= upper_edge_hertz:
        raise ValueError(f"{op_name}: lower_edge_hertz {lower_edge_hertz:.1f} >= "
                         f"upper_edge_hertz {upper_edge_hertz:.1f}")
    if not isinstance(sample_rate, Tensor):
        if sample_rate <= 0.0:
            raise ValueError(f"{op_name}: sample_rate must be positive, got {sample_rate}")
        if upper_edge_hertz > sample_rate / 2:
            raise ValueError(f"{op_name}: upper_edge_hertz must not be larger than the "
                             f"Nyquist frequency (sample_rate / 2); got {upper_edge_hertz} "
                             f"for sample_rate {sample_rate}")
    if not dtype.is_floating:
        raise ValueError(f"{op_name}: dtype must be a floating point type, got {dtype.name}")


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None):
    """HTK's mel-frequency cepstral coefficients of ``log_mel_spectrograms``
    ``[..., num_mel_bins]`` (TF's ``tf.signal.mfccs_from_log_mel_spectrograms``): the type-II
    DCT scaled by ``1 / sqrt(2 num_mel_bins)``; all ``num_mel_bins`` are returned.

    Example:
        >>> mfccs = gc.signal.mfccs_from_log_mel_spectrograms(gc.log(mel + 1e-6))[..., :13]
    """
    graph = get_default_graph()
    with graph.name_scope(name or "mfccs_from_log_mel_spectrograms"), graph.atomic():
        spectrograms = convert_to_tensor(log_mel_spectrograms, name="log_mel_spectrograms")
        dims = spectrograms.shape.dims
        if dims and dims[-1] is not None:
            bins = dims[-1]
            if bins == 0:
                raise ValueError(f"mfccs_from_log_mel_spectrograms: num_mel_bins must be "
                                 f"positive, got shape {format_shape(spectrograms.shape)}")
        else:
            bins = shape(spectrograms)[-1]
        dct2 = dct(spectrograms, type=2)
        return dct2 * rsqrt(cast(bins, dct2.dtype) * 2.0)


def _shifts(op_name, x, axes, sign):
    """Python roll amounts ``sign * (dim // 2)`` for ``axes`` (all when None) of ``x``."""
    dims = x.shape.dims
    if dims is None:
        raise ValueError(f"{op_name}: x must have a known rank, got shape "
                         f"{format_shape(x.shape)}")
    listed = list(range(len(dims))) if axes is None else (
        [axes] if isinstance(axes, int) else list(axes))
    shifts = []
    for axis in listed:
        if not -len(dims) <= axis < len(dims):
            raise ValueError(f"{op_name}: axis {axis} is out of range for shape "
                             f"{format_shape(x.shape)}")
        if dims[axis] is None:
            raise ValueError(f"{op_name}: graphc needs the size of axis {axis} when the "
                             f"graph is built, got shape {format_shape(x.shape)}")
        shifts.append(sign * (dims[axis] // 2))
    return shifts, listed


def fftshift(x, axes=None, name=None):
    """``x`` rolled by half its size along ``axes`` (all when None), so the zero frequency
    of a spectrum moves to the centre (TF's ``tf.signal.fftshift``, ``np.fft.fftshift``).

    Example:
        >>> gc.signal.fftshift([0., 1., 2., 3., 4., -5., -4., -3., -2., -1.])  # -5 ... 4
    """
    graph = get_default_graph()
    with graph.name_scope(name or "fftshift"), graph.atomic():
        x = convert_to_tensor(x)
        shifts, listed = _shifts("fftshift", x, axes, 1)
        return roll(x, shifts, listed) if listed else x


def ifftshift(x, axes=None, name=None):
    """The inverse of ``fftshift`` (TF's ``tf.signal.ifftshift``); the two differ by one
    sample along odd-sized axes.

    Example:
        >>> gc.signal.ifftshift(gc.signal.fftshift(x))   # x
    """
    graph = get_default_graph()
    with graph.name_scope(name or "ifftshift"), graph.atomic():
        x = convert_to_tensor(x)
        shifts, listed = _shifts("ifftshift", x, axes, -1)
        return roll(x, shifts, listed) if listed else x


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """A window function for ``inverse_stft`` that undoes ``forward_window_fn``
    (``hann_window``) for frames ``frame_step`` apart (TF's
    ``tf.signal.inverse_stft_window_fn``, Griffin and Lim's equation 7). graphc has no
    ``inverse_stft`` (it needs complex numbers), but the window is real.

    Example:
        >>> window_fn = gc.signal.inverse_stft_window_fn(128)
        >>> window = window_fn(512, dtype=gc.float32)
    """

    def inverse_stft_window_fn_inner(frame_length, dtype):
        graph = get_default_graph()
        with graph.name_scope(name or "inverse_stft_window_fn"), graph.atomic():
            step = _static_int("inverse_stft_window_fn", frame_step, "frame_step")
            length = _static_int("inverse_stft_window_fn", frame_length, "frame_length")
            forward_window = forward_window_fn(length, dtype=dtype)
            overlaps = -(-length // step)
            denom = pad(forward_window * forward_window, [[0, overlaps * step - length]])
            denom = reduce_sum(reshape(denom, [overlaps, step]), 0, keepdims=True)
            denom = reshape(concat([denom] * overlaps, 0), [overlaps * step])[:length]
            return where(equal(denom, 0.0), zeros_like(forward_window),
                         forward_window / denom)
    return inverse_stft_window_fn_inner


def _static_int(op_name, value, what):
    tensor = _scalar(op_name, value, what)
    known = constant_value(tensor)
    if known is None:
        raise ValueError(f"{op_name}: graphc needs {what} when the graph is built, got "
                         f"{value!r}")
    return int(known)
