"""Images and sounds as TF1's summary kernels encode them: PNG and 16-bit PCM WAV.

Float images are scaled one image at a time as TF1's ``ImageSummary`` does: all values >= 0
are scaled so the largest is 255; otherwise 0.0 goes to 128 and the largest magnitude to
128 +- 127; a pixel with a NaN or Inf channel is painted ``bad_color`` (red). The PNG
encoder is the format's plain form (one IDAT chunk of zlib-compressed, unfiltered rows), which
every PNG reader, TensorBoard's included, decodes.
"""
from __future__ import annotations

import io
import struct
import wave
import zlib

import numpy as np

__all__ = ["to_uint8_image", "encode_png", "encode_wav", "BAD_COLOR"]

BAD_COLOR = np.array([255, 0, 0, 255], np.uint8)  # TF1's default bad_color, cut to the depth
_ZERO_THRESHOLD = 1e-6
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> gray, gray+alpha, RGB, RGBA


def to_uint8_image(image: np.ndarray) -> np.ndarray:
    """One ``[height, width, channels]`` image as uint8 (uint8 images stay as they are).

    Example:
        >>> to_uint8_image(np.array([[[0.0], [0.5], [1.0]]], np.float32))[0, :, 0]
        array([  0, 127, 255], dtype=uint8)
    """
    if image.dtype == np.uint8:
        return image
    compute = np.float64 if image.dtype == np.float64 else np.float32
    values = image.astype(compute)
    finite = np.all(np.isfinite(values), axis=-1)  # a pixel is bad if any channel is
    good = values[finite]
    low = good.min() if good.size else np.inf
    high = good.max() if good.size else -np.inf
    if low < 0:
        largest = max(abs(low), abs(high))
        scale, offset = (0.0 if largest < _ZERO_THRESHOLD else 127.0 / largest), 128.0
    else:
        scale, offset = (0.0 if high < _ZERO_THRESHOLD else 255.0 / high), 0.0
    # the kernel casts (truncates) x * scale + offset in the image's float type
    scaled = values * compute(scale) + compute(offset)
    result = np.where(finite[..., None], scaled, 0).astype(np.uint8)
    result[~finite] = BAD_COLOR[:image.shape[-1]]
    return result


def encode_png(image: np.ndarray) -> bytes:
    """A uint8 ``[height, width, channels]`` image (1, 2, 3 or 4 channels) as PNG bytes."""
    height, width, channels = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8),  # filter type 0 for every row
                           np.ascontiguousarray(image).reshape(height, width * channels)],
                          axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def encode_wav(samples: np.ndarray, sample_rate: float) -> bytes:
    """``[frames, channels]`` float samples in [-1, 1] as 16-bit little-endian PCM WAV (TF1's
    ``EncodeAudioAsS16LEWav``: round(x * 32768), clipped to int16, at int(sample_rate) Hz)."""
    frames, channels = samples.shape
    scaled = (samples.astype(np.float32) * np.float32(32768.0)).astype(np.float64)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # roundf: halves away from 0
    pcm = np.clip(rounded, -32768, 32767)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()
