"""The image file ops (TF's ``tf.io``/``tf.image`` codecs) on the codecs of
graphc.ops.image_codecs: each op reads or writes one file held in a scalar string.

Example:
    >>> pixels = gc.image.decode_jpeg(gc.io.read_file("photo.jpg"), channels=3)
    >>> gc.io.write_file("photo.png", gc.image.encode_png(pixels))
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops import image_codecs as codecs
from graphc.ops.common import apply_op
from graphc.ops.strings import _text
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["decode_png", "decode_jpeg", "decode_and_crop_jpeg", "decode_bmp", "decode_gif",
           "decode_image", "encode_png", "encode_jpeg", "extract_jpeg_shape", "is_jpeg"]


def _contents(value) -> bytes:
    return _text(np.asarray(value, dtype=object).reshape(())[()])


def _channels(op_type, channels, allowed):
    if int(channels) not in allowed:
        raise ValueError(f"{op_type}: channels must be one of {sorted(allowed)}, got {channels}")
    return int(channels)


_JPEG_ATTRS = {"channels": 0, "ratio": 1, "fancy_upscaling": True,
               "try_recover_truncated": False, "acceptable_fraction": 1.0, "dct_method": ""}

DECODE_PNG = codecs.register_decoder(
    "decode_png", lambda contents, channels, dtype: codecs.decode_png_array(
        _contents(contents), channels, gdt.as_dtype(dtype).np),
    {"channels": 0, "dtype": gdt.uint8}, "A PNG file's pixels [h, w, c].", out_dtype="attr")
DECODE_JPEG = codecs.register_decoder(
    "decode_jpeg", lambda contents, channels, ratio, **_: codecs.decode_jpeg_array(
        _contents(contents), channels, ratio), dict(_JPEG_ATTRS), "A JPEG file's pixels.")
DECODE_BMP = codecs.register_decoder(
    "decode_bmp", lambda contents, channels: codecs.decode_bmp_array(_contents(contents),
                                                                     channels),
    {"channels": 0}, "A BMP file's pixels.")
DECODE_GIF = codecs.register_decoder(
    "decode_gif", lambda contents: codecs.decode_gif_array(_contents(contents)), {},
    "A GIF's frames [frames, h, w, 3].", rank=4)
EXTRACT_JPEG_SHAPE = codecs.register_decoder(
    "extract_jpeg_shape", lambda contents, output_type: np.array(
        codecs.decode_jpeg_array(_contents(contents), 0, 1).shape,
        gdt.as_dtype(output_type).np), {"output_type": gdt.int32},
    "A JPEG's [height, width, channels].", out_dtype=gdt.int32, rank=1)


def _decode_image_kernel(contents, channels, dtype, expand_animations):
    contents = _contents(contents)
    kind = codecs.file_format(contents)
    if kind == "jpeg":
        pixels = codecs.decode_jpeg_array(contents, channels, 1)
    elif kind == "png":
        pixels = codecs.decode_png_array(contents, channels, np.uint8)
    elif kind == "bmp":
        pixels = codecs.decode_bmp_array(contents, channels)
    elif kind == "gif":
        pixels = codecs.decode_gif_array(contents)
        pixels = pixels if expand_animations else pixels[0]
        if channels == 1:
            raise ValueError("decode_image: a GIF has 3 channels; channels=1 is refused, as TF")
    else:
        raise ValueError("decode_image: unknown image format: the contents are no JPEG, PNG, "
                         "GIF or BMP file")
    out = gdt.as_dtype(dtype).np
    if out == np.uint8:
        return pixels
    wide = pixels.astype(np.uint16) * np.uint16(257)
    if out == np.uint16:
        return wide
    # TF's DecodeImageV2 scales floats from the 16-bit values (measured: 1 -> 257 / 65535)
    return wide.astype(out) * out.type(1.0 / 65535)


DECODE_IMAGE = registry.register(OpDef(
    name="decode_image", dtypes=codecs.scalar_string_rule("decode_image", "attr", None)[0],
    shapes=lambda ins, a: [TensorShape(None) if a["expand_animations"] else
                           TensorShape([None, None, a["channels"] or None])],
    kernel=_decode_image_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"channels": 0, "dtype": gdt.uint8, "expand_animations": True},
    raises_on_values=True, unknown_rank_ok=True, tested_elsewhere="tests/ops/test_image_codecs.py",
    doc="Any JPEG, PNG, GIF or BMP file's pixels."))


def _crop_kernel(contents, window, **attrs):
    window = tuple(int(v) for v in np.asarray(window).reshape(-1))
    if len(window) != 4:
        raise ValueError(f"decode_and_crop_jpeg: crop_window must be [y, x, height, width], "
                         f"got {list(window)}")
    return codecs.decode_jpeg_array(_contents(contents), attrs["channels"], attrs["ratio"],
                                    crop=window)


DECODE_AND_CROP_JPEG = registry.register(OpDef(
    name="decode_and_crop_jpeg", dtypes=lambda d, a: [gdt.uint8],
    shapes=lambda ins, a: [TensorShape([None, None, a["channels"] or None])],
    kernel=_crop_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs=dict(_JPEG_ATTRS),
    raises_on_values=True, unknown_rank_ok=True, tested_elsewhere="tests/ops/test_image_codecs.py",
    doc="A window of a JPEG file's pixels."))
IS_JPEG = registry.register(OpDef(
    name="is_jpeg", dtypes=lambda d, a: [gdt.bool], shapes=lambda ins, a: [TensorShape([])],
    kernel=lambda contents: np.bool_(codecs.is_jpeg_bytes(_contents(contents))),
    grad=registry.NOT_DIFFERENTIABLE, unknown_rank_ok=True,
    tested_elsewhere="tests/ops/test_image_codecs.py", doc="Whether the file is a JPEG."))


def _image_rule(op_type, dtypes):
    def rule(in_dtypes, attrs):
        if in_dtypes[0] not in dtypes:
            raise TypeError(f"{op_type}: image must be {' or '.join(d.name for d in dtypes)}, "
                            f"got {in_dtypes[0].name}")
        return [gdt.string]
    return rule


def _image_shape(op_type, channels):
    def rule(inputs, attrs):
        shape = inputs[0].shape
        if shape.rank is not None and (shape.rank != 3 or shape.dims[-1] not in
                                       (None,) + channels):
            raise ValueError(f"{op_type}: image must be [height, width, channels] with "
                             f"channels in {list(channels)}, got shape {shape}")
        return [TensorShape([])]
    return rule


ENCODE_PNG = registry.register(OpDef(
    name="encode_png", dtypes=_image_rule("encode_png", (gdt.uint8, gdt.uint16)),
    shapes=_image_shape("encode_png", (1, 2, 3, 4)),
    kernel=lambda image, compression: np.array(
        codecs.encode_png_bytes(np.asarray(image), compression), object).reshape(()),
    grad=registry.NOT_DIFFERENTIABLE, attrs={"compression": -1}, raises_on_values=True,
    tested_elsewhere="tests/ops/test_image_codecs.py", doc="An image as a PNG file."))
ENCODE_JPEG = registry.register(OpDef(
    name="encode_jpeg", dtypes=_image_rule("encode_jpeg", (gdt.uint8,)),
    shapes=_image_shape("encode_jpeg", (1, 3)),
    kernel=lambda image, quality, progressive, optimize_size, chroma_downsampling, density:
        np.array(codecs.encode_jpeg_bytes(np.asarray(image), quality, progressive,
                                          optimize_size, chroma_downsampling, density),
                 object).reshape(()),
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    attrs={"quality": 95, "progressive": False, "optimize_size": False,
           "chroma_downsampling": True, "density": (300, 300)},
    tested_elsewhere="tests/ops/test_image_codecs.py", doc="An image as a JPEG file."))


# adjust_jpeg_quality's op (graphc.image.jpeg_quality builds on it)
def _requantize_kernel(image, quality):
    quality = int(np.asarray(quality))
    if not 0 <= quality <= 100:
        raise ValueError(f"adjust_jpeg_quality: jpeg_quality must be in [0, 100], got {quality}")
    data = codecs.encode_jpeg_bytes(np.asarray(image), quality, False, False, True, (300, 300))
    return codecs.decode_jpeg_array(data, image.shape[-1], 1)


def _requantize_shapes(inputs, attrs):
    shape = inputs[0].shape
    if shape.rank is not None and (shape.rank != 3 or shape.dims[-1] not in (None, 1, 3)):
        raise ValueError(f"adjust_jpeg_quality: image must be [height, width, 1 or 3], got "
                         f"shape {shape}")
    if inputs[1].shape.rank not in (None, 0):
        raise ValueError(f"adjust_jpeg_quality: jpeg_quality must be a scalar, got shape "
                         f"{inputs[1].shape}")
    return [shape]


def _requantize_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.uint8 or not in_dtypes[1].is_integer:
        raise TypeError(f"encode_decode_jpeg: image must be uint8 and jpeg_quality an "
                        f"integer, got {in_dtypes[0].name} and {in_dtypes[1].name}")
    return [gdt.uint8]


ENCODE_DECODE_JPEG = registry.register(OpDef(
    name="encode_decode_jpeg", dtypes=_requantize_dtypes, shapes=_requantize_shapes, kernel=_requantize_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, unknown_rank_ok=True,
    tested_elsewhere="tests/ops/test_image_codecs.py",
    doc="A uint8 image after a JPEG encode and decode at quality jpeg_quality."))


def _build(op_type, inputs, attrs, name):
    graph = graph_of(*inputs)
    with graph.as_default(), graph.atomic():
        tensors = [convert_to_tensor(inputs[0], dtype_hint=gdt.string)] + [
            convert_to_tensor(v, dtype=gdt.int32) for v in inputs[1:]]
        return apply_op(op_type, tensors, attrs, name=name)


def decode_png(contents, channels=0, dtype=gdt.uint8, name=None):
    """A PNG file's pixels, uint8 or uint16 [height, width, channels] (TF1
    ``tf.image.decode_png``; ``channels`` 0 (the file's), 1, 3 or 4).

    Example:
        >>> rgb = gc.image.decode_png(png_bytes, channels=3)
    """
    dtype = gdt.as_dtype(dtype)
    if dtype not in (gdt.uint8, gdt.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {dtype.name}")
    return _build("decode_png", [contents], {"channels": _channels("decode_png", channels,
                                                                   {0, 1, 3, 4}),
                                             "dtype": dtype}, name or "DecodePng")


def _jpeg_attrs(op_type, channels, ratio, fancy_upscaling, try_recover_truncated,
                acceptable_fraction, dct_method):
    if int(ratio) not in (1, 2, 4, 8):
        raise ValueError(f"{op_type}: ratio must be 1, 2, 4 or 8, got {ratio}")
    if not fancy_upscaling or try_recover_truncated:
        raise ValueError(f"{op_type}: graphc decodes with fancy upscaling and without "
                         f"recovering truncated files (fancy_upscaling=True, "
                         f"try_recover_truncated=False)")
    if dct_method not in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
        raise ValueError(f"{op_type}: dct_method must be '', 'INTEGER_FAST' or "
                         f"'INTEGER_ACCURATE', got {dct_method!r}")
    return {"channels": _channels(op_type, channels, {0, 1, 3}), "ratio": int(ratio),
            "fancy_upscaling": True, "try_recover_truncated": False,
            "acceptable_fraction": float(acceptable_fraction), "dct_method": dct_method}


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None):
    """A JPEG file's pixels, uint8 [height, width, channels] (TF1 ``tf.image.decode_jpeg``;
    ``channels`` 0, 1 or 3; ``ratio`` 1, 2, 4 or 8 downscales while decoding). The accurate
    IDCT is always used (see graphc.ops.image_codecs).

    Example:
        >>> pixels = gc.image.decode_jpeg(jpeg_bytes, channels=3)
    """
    attrs = _jpeg_attrs("decode_jpeg", channels, ratio, fancy_upscaling, try_recover_truncated,
                        acceptable_fraction, dct_method)
    return _build("decode_jpeg", [contents], attrs, name or "DecodeJpeg")


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                         name=None):
    """The ``crop_window`` [y, x, height, width] of a JPEG's pixels (TF1
    ``tf.image.decode_and_crop_jpeg``).

    Example:
        >>> patch = gc.image.decode_and_crop_jpeg(jpeg_bytes, [10, 20, 64, 64])
    """
    attrs = _jpeg_attrs("decode_and_crop_jpeg", channels, ratio, fancy_upscaling,
                        try_recover_truncated, acceptable_fraction, dct_method)
    return _build("decode_and_crop_jpeg", [contents, crop_window], attrs,
                  name or "DecodeAndCropJpeg")


def decode_bmp(contents, channels=0, name=None):
    """A BMP file's pixels, uint8 [height, width, channels] (TF1 ``tf.image.decode_bmp``).

    Example:
        >>> pixels = gc.image.decode_bmp(bmp_bytes)
    """
    return _build("decode_bmp", [contents],
                  {"channels": _channels("decode_bmp", channels, {0, 3, 4})}, name or "DecodeBmp")


def decode_gif(contents, name=None):
    """Every frame of a GIF, uint8 [frames, height, width, 3] (TF1 ``tf.image.decode_gif``).

    Example:
        >>> frames = gc.image.decode_gif(gif_bytes)
    """
    return _build("decode_gif", [contents], {}, name or "DecodeGif")


def decode_image(contents, channels=None, dtype=gdt.uint8, name=None, expand_animations=True):
    """Any JPEG, PNG, GIF or BMP file's pixels (TF1 ``tf.image.decode_image``): [h, w, c],
    or [frames, h, w, 3] for a GIF with ``expand_animations``; a float ``dtype`` scales into
    [0, 1] as ``convert_image_dtype`` does.

    Example:
        >>> pixels = gc.image.decode_image(gc.io.read_file(path), channels=3)
    """
    dtype = gdt.as_dtype(dtype)
    if not (dtype in (gdt.uint8, gdt.uint16) or dtype.is_floating):
        raise TypeError(f"decode_image: dtype must be uint8, uint16 or floating, got "
                        f"{dtype.name}")
    return _build("decode_image", [contents],
                  {"channels": _channels("decode_image", channels or 0, {0, 1, 3, 4}),
                   "dtype": dtype, "expand_animations": bool(expand_animations)},
                  name or "decode_image")


def encode_png(image, compression=-1, name=None):
    """An image (uint8 or uint16 [height, width, 1-4]) as the bytes of a PNG file (TF1
    ``tf.image.encode_png``; ``compression`` -1 (default) or 0-9).

    Example:
        >>> png_bytes = gc.image.encode_png(pixels)
    """
    return apply_op("encode_png", [image], {"compression": int(compression)},
                    name=name or "EncodePng")


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,  # noqa: A002
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata="", name=None):
    """An image (uint8 [height, width, 1 or 3]) as the bytes of a JPEG file (TF1
    ``tf.image.encode_jpeg``).

    Example:
        >>> jpeg_bytes = gc.image.encode_jpeg(pixels, quality=90)
    """
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f"encode_jpeg: format must be '', 'grayscale' or 'rgb', got {format!r}")
    density = (int(x_density), int(y_density))
    if density_unit == "cm":
        density = tuple(round(d * 2.54) for d in density)  # Pillow's dpi is per inch
    return apply_op("encode_jpeg", [image],
                    {"quality": int(quality), "progressive": bool(progressive),
                     "optimize_size": bool(optimize_size),
                     "chroma_downsampling": bool(chroma_downsampling), "density": density},
                    name=name or "EncodeJpeg")


def extract_jpeg_shape(contents, output_type=gdt.int32, name=None):
    """A JPEG's [height, width, channels] (TF1 ``tf.image.extract_jpeg_shape``).

    Example:
        >>> height_width = gc.image.extract_jpeg_shape(jpeg_bytes)[:2]
    """
    return _build("extract_jpeg_shape", [contents], {"output_type": gdt.as_dtype(output_type)},
                  name or "ExtractJpegShape")


def is_jpeg(contents, name=None):
    """Whether the bytes start with JPEG's magic number (TF1 ``tf.image.is_jpeg``).

    Example:
        >>> gc.image.is_jpeg(file_bytes)
    """
    return _build("is_jpeg", [contents], {}, name or "is_jpeg")
