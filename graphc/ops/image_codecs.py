"""Image file codecs: ``tf.io.decode_png``/``encode_png``, ``decode_jpeg``/``encode_jpeg``,
``decode_bmp``, ``decode_gif``, ``decode_image``, ``decode_and_crop_jpeg``,
``extract_jpeg_shape`` and ``is_jpeg``, on scalar string tensors holding the file's bytes.

The files are read and written by Pillow (the ``image`` extra: ``pip install
graphc[image]``), which uses libpng/zlib and libjpeg(-turbo) as TF does; the conversions
TF's decoders apply are done here so the pixels are TF's:

- PNG: 16-bit samples become 8-bit by dropping the low byte and 8-bit ones become 16-bit by
  times 257; colour becomes gray with libpng's fixed-point Rec. 601 weights (9797, 19234,
  3737) / 32768, truncated, computed on the 8-bit values; a missing alpha is opaque (TF 2.21 writes 15
  as the alpha of palette images without transparency; graphc writes 255).
- JPEG: decoded with libjpeg's accurate integer IDCT (TF's ``INTEGER_ACCURATE``, equal to it
  pixel for pixel; TF's default fast IDCT can differ by a few levels); ``channels=1`` is the
  decoder's luma, ``ratio`` 2, 4, 8 the decoder's scaled output (sizes rounded up).
  ``decode_and_crop_jpeg`` is the full decode, cropped: TF's decodes only the window, which
  can change pixels along the window's right and bottom edge.

Example:
    >>> image = gc.io.decode_png(gc.io.read_file("cat.png"), channels=3)   # uint8 [h, w, 3]
    >>> data = gc.io.encode_jpeg(image, quality=90)
"""
from __future__ import annotations

import io

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["pillow", "decode_png_array", "decode_jpeg_array", "decode_bmp_array",
           "decode_gif_array", "encode_png_bytes", "encode_jpeg_bytes", "is_jpeg_bytes",
           "file_format"]

# libpng's weights for TF's png_set_rgb_to_gray(0.299, 0.587): int(w * 32768), blue the rest
_GRAY_WEIGHTS = np.array([9797, 19234, 3737], np.int64)
_JPEG_MAGIC = b"\xff\xd8\xff"


def pillow():
    """The PIL.Image module, or an ImportError naming the extra that brings it."""
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency, only for image files
    except ImportError:
        raise ImportError("graphc's image file ops need Pillow: pip install "
                          "'graphc[image]' (or pip install pillow)") from None
    return Image


def _open(contents: bytes, what: str):
    image_module = pillow()
    try:
        return image_module.open(io.BytesIO(contents))
    except Exception as err:  # noqa: BLE001 - Pillow raises many types for bad files
        raise ValueError(f"{what}: the contents are not a valid image file ({err})") from None


def file_format(contents: bytes) -> str:
    """'jpeg', 'png', 'gif' or 'bmp' from the file's magic bytes, else ''."""
    if contents.startswith(_JPEG_MAGIC):
        return "jpeg"
    if contents.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if contents[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if contents.startswith(b"BM"):
        return "bmp"
    return ""


def is_jpeg_bytes(contents: bytes) -> bool:
    return contents.startswith(_JPEG_MAGIC)


def _to_gray8(rgb8: np.ndarray) -> np.ndarray:
    weighted = rgb8[..., :3].astype(np.int64) @ _GRAY_WEIGHTS
    return (weighted >> 15).astype(np.uint8)[..., None]  # libpng truncates


def _with_channels(pixels: np.ndarray, channels: int, opaque) -> np.ndarray:
    """``pixels`` [h, w, c] (1-4 channels) as ``channels`` channels, TF's conversions."""
    have = pixels.shape[-1]
    if channels in (0, have):
        return pixels
    color = pixels[..., :1].repeat(3, -1) if have <= 2 else pixels[..., :3]
    alpha = pixels[..., -1:] if have in (2, 4) else np.full(pixels.shape[:-1] + (1,), opaque,
                                                           pixels.dtype)
    if channels == 1:
        return pixels[..., :1] if have <= 2 else _to_gray8(pixels)
    if channels == 3:
        return color
    return np.concatenate([color, alpha], axis=-1)


def _png_pixels(image) -> np.ndarray:
    """A PNG's samples [h, w, c] as stored: uint8, or uint16 for 16-bit files."""
    if image.mode in ("I;16", "I;16B", "I"):
        return np.asarray(image, dtype=np.uint16)[..., None]
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("1", "LA", "L", "RGB", "RGBA"):
        image = image.convert("L") if image.mode == "1" else image
    else:
        image = image.convert("RGBA")
    pixels = np.asarray(image)
    return pixels if pixels.ndim == 3 else pixels[..., None]


def decode_png_array(contents: bytes, channels: int, dtype) -> np.ndarray:
    """TF's ``DecodePng`` on one file."""
    pixels = _png_pixels(_open(contents, "decode_png"))
    wide = pixels.dtype == np.uint16
    if wide and (dtype == np.uint8 or channels == 1 and pixels.shape[-1] >= 3):
        pixels = (pixels >> 8).astype(np.uint8)
        wide = False
    if channels == 1 and pixels.shape[-1] >= 3:
        pixels = _to_gray8(pixels)
    pixels = _with_channels(pixels, channels, 65535 if wide else 255)
    if dtype == np.uint16 and not wide:
        return pixels.astype(np.uint16) * np.uint16(257)
    return pixels.astype(dtype, copy=False)


def decode_jpeg_array(contents: bytes, channels: int, ratio: int,
                      crop: tuple | None = None) -> np.ndarray:
    """TF's ``DecodeJpeg`` (``dct_method="INTEGER_ACCURATE"``) on one file."""
    if not is_jpeg_bytes(contents):
        raise ValueError("decode_jpeg: the contents are not a JPEG file (no JPEG magic bytes)")
    image = _open(contents, "decode_jpeg")
    mode = "L" if channels == 1 else "RGB" if channels == 3 else None
    width, height = image.size
    if mode or ratio > 1:
        # the decoder's own scaling and colour output: Pillow asks libjpeg for them
        image.draft(mode or image.mode, (max(1, width // ratio), max(1, height // ratio)))
    try:
        image.load()
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"decode_jpeg: invalid or truncated JPEG data ({err})") from None
    if mode and image.mode != mode:
        image = image.convert(mode)
    pixels = np.asarray(image)
    pixels = pixels if pixels.ndim == 3 else pixels[..., None]
    if crop is not None:
        top, left, crop_height, crop_width = crop
        if (top < 0 or left < 0 or crop_height <= 0 or crop_width <= 0 or
                top + crop_height > pixels.shape[0] or left + crop_width > pixels.shape[1]):
            raise ValueError(f"decode_and_crop_jpeg: crop window {list(crop)} is not inside "
                             f"the {pixels.shape[0]}x{pixels.shape[1]} image")
        pixels = pixels[top:top + crop_height, left:left + crop_width]
    return np.ascontiguousarray(pixels)


def decode_bmp_array(contents: bytes, channels: int) -> np.ndarray:
    if not contents.startswith(b"BM"):
        raise ValueError("decode_bmp: the contents are not a BMP file (no 'BM' header)")
    image = _open(contents, "decode_bmp")
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") and channels != 3
                          else "RGB" if image.mode != "L" else "L")
    pixels = np.asarray(image)
    return _with_channels(pixels if pixels.ndim == 3 else pixels[..., None], channels, 255)


def decode_gif_array(contents: bytes) -> np.ndarray:
    """Every frame of a GIF as RGB: [frames, h, w, 3] uint8."""
    if contents[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("decode_gif: the contents are not a GIF file (no GIF header)")
    image = _open(contents, "decode_gif")
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGB")))
    return np.stack(frames)


def encode_png_bytes(image: np.ndarray, compression: int) -> bytes:
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"encode_png: image must be [height, width, 1-4 channels], got shape "
                         f"{list(image.shape)}")
    image_module = pillow()
    if image.dtype == np.uint16:
        if image.shape[-1] != 1:
            raise ValueError("encode_png: 16-bit images are written with 1 channel here "
                             "(Pillow writes no 16-bit colour PNGs)")
        picture = image_module.fromarray(np.ascontiguousarray(image[..., 0], dtype="<u2"))
    else:
        modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
        picture = image_module.fromarray(image[..., 0] if image.shape[-1] == 1 else image,
                                         modes[image.shape[-1]])
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=6 if compression < 0 else int(compression))
    return out.getvalue()


def encode_jpeg_bytes(image: np.ndarray, quality: int, progressive: bool, optimize: bool,
                      chroma_downsampling: bool, density: tuple) -> bytes:
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"encode_jpeg: image must be [height, width, 1 or 3 channels], got "
                         f"shape {list(image.shape)}")
    picture = pillow().fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=int(quality), progressive=bool(progressive),
                 optimize=bool(optimize), subsampling=2 if chroma_downsampling else 0,
                 dpi=density)
    return out.getvalue()


def scalar_string_rule(op_type, out_dtype, rank=3, channels_attr="channels"):
    """dtype and shape rules of a decoder: a scalar string in, an image of ``rank`` out."""
    def dtypes(in_dtypes, attrs):
        if in_dtypes[0] is not gdt.string:
            raise TypeError(f"{op_type}: contents must be a string, got {in_dtypes[0].name}")
        return [gdt.as_dtype(attrs["dtype"]) if out_dtype == "attr" else out_dtype]

    def shapes(inputs, attrs):
        if inputs[0].shape.rank not in (None, 0):
            raise ValueError(f"{op_type}: contents must be a scalar (one file), got shape "
                             f"{inputs[0].shape}")
        if rank is None:
            return [TensorShape(None)]
        channels = attrs.get(channels_attr, 0)
        return [TensorShape([None] * (rank - 1) + [channels or None])]
    return dtypes, shapes


def register_decoder(op_type, kernel, attrs, doc, out_dtype=gdt.uint8, rank=3, tests=""):
    dtypes, shapes = scalar_string_rule(op_type, out_dtype, rank)
    return registry.register(OpDef(
        name=op_type, dtypes=dtypes, shapes=shapes, kernel=kernel,
        grad=registry.NOT_DIFFERENTIABLE, attrs=attrs, raises_on_values=True,
        unknown_rank_ok=True, tested_elsewhere=tests or "tests/ops/test_image_codecs.py",
        doc=doc))
