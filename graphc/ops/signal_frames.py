"""Framing a signal and adding frames back: ``frame`` and ``overlap_and_add`` (TF's
``tf.signal.frame`` / ``tf.signal.overlap_and_add``), each the other's adjoint.

``frame`` replaces the dimension ``axis`` of length N by ``[frames, frame_length]``: frame i
holds samples ``i * frame_step ... i * frame_step + frame_length - 1``. Without ``pad_end``
there are ``max(0, 1 + (N - frame_length) // frame_step)`` frames; with it
``ceil(N / frame_step)``, the samples past the end being ``pad_value``. ``overlap_and_add``
sums frames ``[..., frames, frame_length]`` placed ``frame_step`` apart into
``[..., (frames - 1) * frame_step + frame_length]``.

Both are linear, so their gradients are each other: the ops carry the geometry the adjoint
needs (``frame``: a forced number of frames; ``overlap_and_add``: a forced output length and
the axis), which the public functions leave at "computed" (-1).

Example:
    >>> frames = gc.signal.frame(audio, 512, 180)          # [batch, 49, 512] from [batch, 9152]
    >>> audio = gc.signal.overlap_and_add(frames, 180)     # [batch, 9152 - 68]
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor
from graphc.ops.common import (ANY, NUMERIC, apply_op, check_kind, normalize_axis, rand,
                               randint, static_axis)
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape, format_shape
from graphc.static_values import constant_value

__all__ = ["frame", "overlap_and_add"]


def _integer_inputs(op_name: str, dtypes: dict) -> None:
    for what, dtype in dtypes.items():
        if not dtype.is_integer:
            raise TypeError(f"{op_name}: {what} must be an integer, got {dtype.name}")


def _scalar_int(op_name: str, tensor, what: str):
    """Check that integer ``tensor`` is a scalar; its value when known at build time."""
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"{op_name}: {what} must be a scalar, got shape "
                         f"{format_shape(tensor.shape)}")
    value = constant_value(tensor)
    return None if value is None else int(value)


def frame_count(length: int, frame_length: int, frame_step: int, pad_end: bool) -> int:
    """How many frames TF's ``frame`` makes of ``length`` samples."""
    if pad_end:
        return max(0, -(-length // frame_step))
    return max(0, 1 + (length - frame_length) // frame_step)


def _check_geometry(op_name: str, frame_length, frame_step) -> None:
    if frame_step is not None and frame_step <= 0:
        raise ValueError(f"{op_name}: frame_step must be positive, got {frame_step}")
    if frame_length is not None and frame_length < 0:
        raise ValueError(f"{op_name}: frame_length must be non-negative, got {frame_length}")


# -- frame ---------------------------------------------------------------------------------
def _frame_dtypes(in_dtypes, attrs):
    signal, frame_length, frame_step, pad_value, num_frames = in_dtypes
    check_kind("frame", signal, ANY, "signal")
    _integer_inputs("frame", {"frame_length": frame_length, "frame_step": frame_step,
                              "num_frames": num_frames})
    if pad_value is not signal:
        raise TypeError(f"frame: pad_value must have the signal's dtype {signal.name}, got "
                        f"{pad_value.name}")
    return [signal]


def _frame_shapes(inputs, attrs):
    signal, frame_length, frame_step, pad_value, num_frames = inputs
    length = _scalar_int("frame", frame_length, "frame_length")
    step = _scalar_int("frame", frame_step, "frame_step")
    forced = _scalar_int("frame", num_frames, "num_frames")
    _check_geometry("frame", length, step)
    if pad_value.shape.rank not in (None, 0):
        raise ValueError(f"frame: pad_value must be a scalar, got shape "
                         f"{format_shape(pad_value.shape)}")
    dims = signal.shape.dims
    if dims is None:
        return [TensorShape(None)]
    if not dims:
        raise ValueError(f"frame: signal must have rank >= 1, got shape "
                         f"{format_shape(signal.shape)}")
    axis = normalize_axis(attrs["axis"], len(dims), "frame")
    samples = dims[axis]
    if forced is not None and forced >= 0:
        count = forced
    elif samples is None or step is None or (length is None and not attrs["pad_end"]):
        count = None
    else:
        count = frame_count(samples, length, step, attrs["pad_end"])
    return [TensorShape(list(dims[:axis]) + [count, length] + list(dims[axis + 1:]))]


def _frame_kernel(signal, frame_length, frame_step, pad_value, num_frames, axis, pad_end):
    signal = np.asarray(signal)
    axis = normalize_axis(axis, signal.ndim, "frame")
    length, step, forced = int(frame_length), int(frame_step), int(num_frames)
    _check_geometry("frame", length, step)
    samples = signal.shape[axis]
    count = forced if forced >= 0 else frame_count(samples, length, step, pad_end)
    needed = (count - 1) * step + length if count else 0
    if needed > samples:  # only with pad_end (or a forced count): the tail is pad_value
        widths = [(0, 0)] * signal.ndim
        widths[axis] = (0, needed - samples)
        signal = np.pad(signal, widths, constant_values=pad_value)
    index = np.arange(count)[:, None] * step + np.arange(length)[None, :]
    return np.take(signal, index.astype(np.intp), axis=axis)


def _frame_grad(op, grad):
    # the adjoint of "pad, then copy out overlapping windows" adds the windows back and
    # drops what fell on the padding: overlap_and_add cut (or zero-extended) to N samples
    signal, _, frame_step, _, _ = op.inputs
    axis = op.attrs["axis"]
    samples = shape(signal)[axis]
    frames_axis = axis - 1 if axis < 0 else axis
    summed = apply_op("overlap_and_add", [grad, frame_step, samples], {"axis": frames_axis})
    return [summed, None, None, None, None]


def _frame_reference(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1):
    moved = np.moveaxis(np.asarray(signal), axis, -1)
    count = frame_count(moved.shape[-1], frame_length, frame_step, pad_end)
    out = np.full(moved.shape[:-1] + (count, frame_length), pad_value, moved.dtype)
    for i in range(count):
        for j in range(frame_length):
            position = i * frame_step + j
            if position < moved.shape[-1]:
                out[..., i, j] = moved[..., position]
    axis = axis % np.ndim(signal)
    return np.moveaxis(out, (-2, -1), (axis, axis + 1))


def _frame_samples():
    return [Sample((rand(10), 4, 2)), Sample((rand(3, 11), 4, 3, True)),
            Sample((rand(2, 9, 3), 3, 2), {"axis": 1}),
            Sample((rand(2, 7), 3, 5, True, 1.5), {"axis": -1}),
            Sample((rand(4, 6), 2, 2), {"axis": 0}),
            Sample((rand(2, 3), 5, 1)),                       # frame_length > signal: 0 frames
            Sample((rand(3, 0), 2, 1, True)), Sample((rand(0, 5), 2, 1)),
            Sample((randint(2, 8), 3, 2, True, 7))]


def _frame_errors():
    return [ErrorSample((rand(8), np.array([2, 2], np.int32), 2), match="frame_length must be "
                        "a scalar"),
            ErrorSample((rand(8), 2.5, 2), error=TypeError, match="frame_length must be an "
                        "integer"),
            ErrorSample((rand(8), 4, 0), match="frame_step must be positive"),
            ErrorSample((rand(3, 8), 4, 2), {"axis": 2}, match="out of range"),
            ErrorSample((np.float64(1.0), 1, 1), match="rank >= 1")]


FRAME = registry.register(OpDef(
    name="frame", dtypes=_frame_dtypes, shapes=_frame_shapes, kernel=_frame_kernel,
    grad=_frame_grad, attrs={"axis": -1, "pad_end": False}, fresh_output=True,
    raises_on_values=True,  # a fed frame_step <= 0 or frame_length < 0
    reference=_frame_reference, samples=_frame_samples, error_samples=_frame_errors,
    doc="Overlapping frames of frame_length samples, frame_step apart, along axis; pad_end "
        "pads the tail with pad_value (inputs: signal, frame_length, frame_step, pad_value, "
        "num_frames, -1 unless forced by a gradient)."))


@registry.public(FRAME)
def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1,
          name=None) -> Tensor:
    """``signal``'s dimension ``axis`` expanded into ``[frames, frame_length]`` windows
    ``frame_step`` apart (TF's ``tf.signal.frame``); with ``pad_end`` the last windows run
    past the end, filled with ``pad_value``.

    Example:
        >>> gc.signal.frame([1, 2, 3, 4, 5], 3, 2)                # [[1, 2, 3], [3, 4, 5]]
        >>> gc.signal.frame([1, 2, 3, 4, 5], 3, 2, pad_end=True)  # and [5, 0, 0]
    """
    axis = static_axis(axis, "frame")
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise ValueError(f"frame: axis must be a scalar integer, got {axis!r}")
    signal = convert_to_tensor(signal, name="signal")
    if not isinstance(pad_value, Tensor):  # TF converts pad_value to the signal's dtype
        pad_value = np.asarray(pad_value, dtype=signal.dtype.np)
    return apply_op("frame", [signal, frame_length, frame_step, pad_value,
                              np.int32(-1)], {"axis": axis, "pad_end": bool(pad_end)},
                    name=name or "frame")


# -- overlap_and_add -----------------------------------------------------------------------
def _frames_axis(axis: int, rank: int) -> int:
    """The position of the frames dimension (frame_length follows it) in a rank-``rank``
    tensor."""
    position = axis + rank if axis < 0 else axis
    if not 0 <= position <= rank - 2:
        raise ValueError(f"overlap_and_add: frames axis {axis} is out of range for a tensor "
                         f"of rank {rank}")
    return position


def _ola_dtypes(in_dtypes, attrs):
    check_kind("overlap_and_add", in_dtypes[0], NUMERIC, "signal")
    _integer_inputs("overlap_and_add", {"frame_step": in_dtypes[1],
                                        "output_length": in_dtypes[2]})
    return [in_dtypes[0]]


def _natural_length(count, length, step):
    return max(0, length + step * (count - 1))


def _ola_shapes(inputs, attrs):
    frames, frame_step, output_length = inputs
    step = _scalar_int("overlap_and_add", frame_step, "frame_step")
    forced = _scalar_int("overlap_and_add", output_length, "output_length")
    _check_geometry("overlap_and_add", None, step)
    dims = frames.shape.dims
    if dims is None:
        return [TensorShape(None)]
    if len(dims) < 2:
        raise ValueError(f"overlap_and_add: signal must have rank >= 2 ([..., frames, "
                         f"frame_length]), got shape {format_shape(frames.shape)}")
    axis = _frames_axis(attrs["axis"], len(dims))
    count, length = dims[axis], dims[axis + 1]
    if forced is not None and forced >= 0:
        samples = forced
    elif None in (count, length, step):
        samples = None
    else:
        samples = _natural_length(count, length, step)
    return [TensorShape(list(dims[:axis]) + [samples] + list(dims[axis + 2:]))]


def _ola_kernel(frames, frame_step, output_length, axis):
    frames = np.asarray(frames)
    axis = _frames_axis(axis, frames.ndim)
    step, forced = int(frame_step), int(output_length)
    _check_geometry("overlap_and_add", None, step)
    moved = np.moveaxis(frames, (axis, axis + 1), (-2, -1))
    count, length = moved.shape[-2:]
    samples = forced if forced >= 0 else _natural_length(count, length, step)
    # TF's scheme: cut each frame into ceil(length / step) segments of one hop; segment j
    # of frame i lands on hop i + j, so each segment index is one vectorized add
    segments = max(1, -(-length // step))
    hops = np.zeros(moved.shape[:-2] + (count + segments - 1, step), frames.dtype)
    for j in range(segments):
        width = min(step, length - j * step)
        if width > 0 and count:
            hops[..., j:j + count, :width] += moved[..., :, j * step:j * step + width]
    flat = hops.reshape(moved.shape[:-2] + ((count + segments - 1) * step,))
    if flat.shape[-1] < samples:
        flat = np.concatenate([flat, np.zeros(flat.shape[:-1] + (samples - flat.shape[-1],),
                                              frames.dtype)], axis=-1)
    return np.ascontiguousarray(np.moveaxis(flat[..., :samples], -1, axis))


def _ola_grad(op, grad):
    # the adjoint of "add windows back, cut to the output length" copies the windows out
    # again: frame with the same geometry and frame count, zeros past the end
    frames, frame_step, _ = op.inputs
    axis = op.attrs["axis"]
    frame_axis = axis + 1 if axis < 0 else axis
    dims = shape(frames)
    count, length = dims[axis], dims[axis + 1]
    pad_value = np.zeros((), grad.dtype.np)
    windows = apply_op("frame", [grad, length, frame_step, pad_value, count],
                       {"axis": frame_axis, "pad_end": False})
    return [windows, None, None]


def _ola_reference(signal, frame_step):
    signal = np.asarray(signal)
    count, length = signal.shape[-2:]
    out = np.zeros(signal.shape[:-2] + (_natural_length(count, length, frame_step),),
                   signal.dtype)
    for i in range(count):
        for j in range(length):
            if i * frame_step + j < out.shape[-1]:
                out[..., i * frame_step + j] += signal[..., i, j]
    return out


def _ola_samples():
    return [Sample((rand(3, 4), 2)), Sample((rand(2, 5, 4), 4)), Sample((rand(2, 3, 5), 3)),
            Sample((rand(4, 3), 5)), Sample((rand(2, 3, 6), 1)), Sample((rand(0, 4), 2)),
            Sample((rand(3, 0, 4), 2)), Sample((randint(3, 4), 3))]


def _ola_errors():
    return [ErrorSample((rand(4), 2), match="rank >= 2"),
            ErrorSample((rand(3, 4), np.array([2, 2], np.int32)), match="frame_step must be a "
                        "scalar"),
            ErrorSample((rand(3, 4), 2.0), error=TypeError, match="frame_step must be an "
                        "integer"),
            ErrorSample((np.array([[True]]), 1), error=TypeError, match="numeric")]


OVERLAP_AND_ADD = registry.register(OpDef(
    name="overlap_and_add", dtypes=_ola_dtypes, shapes=_ola_shapes, kernel=_ola_kernel,
    grad=_ola_grad, attrs={"axis": -2}, fresh_output=True, reference=_ola_reference,
    raises_on_values=True,  # a fed frame_step <= 0
    samples=_ola_samples, error_samples=_ola_errors,
    doc="Frames [..., frames, frame_length] (at axis, axis + 1) summed frame_step apart into "
        "[..., samples]; inputs: frames, frame_step, output_length (-1: (frames - 1) * "
        "frame_step + frame_length; set by frame's gradient)."))


@registry.public(OVERLAP_AND_ADD)
def overlap_and_add(signal, frame_step, name=None) -> Tensor:
    """The frames of ``signal`` (``[..., frames, frame_length]``) added ``frame_step``
    apart into ``[..., (frames - 1) * frame_step + frame_length]`` (TF's
    ``tf.signal.overlap_and_add``).

    Example:
        >>> gc.signal.overlap_and_add([[1., 1., 1.], [1., 1., 1.]], 2)   # [1, 1, 2, 1, 1]
    """
    return apply_op("overlap_and_add", [signal, frame_step, np.int32(-1)], {"axis": -2},
                    name=name or "overlap_and_add")
