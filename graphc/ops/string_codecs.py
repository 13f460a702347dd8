"""Byte codecs on string tensors: TF's web-safe base64 (``tf.io.encode_base64`` /
``decode_base64``, alphabet ``-`` and ``_`` for ``+`` and ``/``) and
``tf.io.decode_compressed`` (ZLIB or GZIP).

Example:
    >>> gc.io.encode_base64(["hello"])             # [b"aGVsbG8"]
    >>> gc.io.decode_base64(["aGVsbG8"])           # [b"hello"]
"""
from __future__ import annotations

import base64
import binascii
import gzip
import zlib

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op
from graphc.ops.strings import _map as map_bytes  # each string's bytes through fn
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["encode_base64", "decode_base64", "decode_compressed"]


def _encode(value: bytes, pad: bool) -> bytes:
    encoded = base64.urlsafe_b64encode(value)
    return encoded if pad else encoded.rstrip(b"=")


def _decode(value: bytes) -> bytes:
    if value.strip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="):
        raise ValueError("Invalid character found in base64.")
    body = value.rstrip(b"=")
    if len(body) % 4 == 1:
        raise ValueError(f"Invalid base64: a length of {len(body)} characters cannot be "
                         f"decoded")
    try:
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except binascii.Error as err:
        raise ValueError(f"Invalid base64: {err}") from None


_DECOMPRESS = {"": lambda data: data, "ZLIB": zlib.decompress, "GZIP": gzip.decompress}


def _decompress(value: bytes, compression_type: str) -> bytes:
    try:
        return _DECOMPRESS[compression_type](value)
    except (zlib.error, OSError, EOFError) as err:
        raise ValueError(f"decode_compressed: the {compression_type} data is corrupt or "
                         f"truncated: {err}") from None


def _strings_in(op_name):
    def rule(in_dtypes, attrs):
        if in_dtypes[0] is not gdt.string:
            raise TypeError(f"{op_name}: input must be strings, got {in_dtypes[0].name}")
        if op_name == "decode_compressed" and attrs["compression_type"] not in _DECOMPRESS:
            raise ValueError(f"decode_compressed: compression_type must be '', 'ZLIB' or "
                             f"'GZIP', got {attrs['compression_type']!r}")
        return [gdt.string]
    return rule


def _register(op_name, fn, attrs, samples, reference, doc, raises=False):
    return registry.register(OpDef(
        name=op_name, dtypes=_strings_in(op_name), shapes=lambda ins, a: [ins[0].shape],
        kernel=map_bytes(fn), grad=registry.NOT_DIFFERENTIABLE, attrs=attrs,
        raises_on_values=raises, unknown_rank_ok=True, samples=samples, reference=reference,
        error_samples=lambda: [ErrorSample((np.array([1, 2], np.int32),), error=TypeError,
                                           match="must be strings")],
        doc=doc))


_TEXTS = np.array([[b"hello", b""], [b"\xff\xfe binary?>", b"a"]], object)
ENCODE_BASE64 = _register(
    "encode_base64", _encode, {"pad": False},
    lambda: [Sample((_TEXTS,)), Sample((_TEXTS,), {"pad": True})],
    lambda x, pad=False: np.vectorize(
        lambda v: base64.b64encode(v).translate(bytes.maketrans(b"+/", b"-_")).rstrip(
            b"" if pad else b"="), otypes=[object])(x),
    "Each string in web-safe base64 (padded with '=' when pad).")
DECODE_BASE64 = _register(
    "decode_base64", _decode, {},
    lambda: [Sample((np.array([b"aGVsbG8", b"", b"_-4", b"YQ=="], object),))],
    lambda x: np.vectorize(lambda v: base64.b64decode(
        v.translate(bytes.maketrans(b"-_", b"+/")).rstrip(b"=") + b"=" * (-len(v.rstrip(b"="))
                                                                          % 4)),
        otypes=[object])(x),
    "Each web-safe base64 string decoded (with or without padding).", raises=True)
DECODE_COMPRESSED = _register(
    "decode_compressed", _decompress, {"compression_type": ""},
    lambda: [Sample((np.array([zlib.compress(b"abc" * 50), zlib.compress(b"")], object),),
                    {"compression_type": "ZLIB"}),
             Sample((np.array([gzip.compress(b"graphc")], object),), {"compression_type": "GZIP"}),
             Sample((np.array([b"as is"], object),))],
    lambda x, compression_type="": np.vectorize(
        lambda v: zlib.decompress(v, wbits=47) if compression_type else v, otypes=[object])(x),
    "Each string decompressed (ZLIB or GZIP; '' leaves it as it is).", raises=True)


@registry.public(ENCODE_BASE64)
def encode_base64(input, pad=False, name=None):  # noqa: A002 - TF's argument name
    """Each string encoded in web-safe base64 (TF1 ``tf.encode_base64`` /
    ``tf.io.encode_base64``); ``pad`` adds the '=' padding.

    Example:
        >>> gc.io.encode_base64(["hi?"])   # [b"aGk_"]
    """
    return apply_op("encode_base64", [input], {"pad": bool(pad)}, name=name or "EncodeBase64")


@registry.public(DECODE_BASE64)
def decode_base64(input, name=None):  # noqa: A002 - TF's argument name
    """Each web-safe base64 string decoded (TF1 ``tf.decode_base64`` /
    ``tf.io.decode_base64``); a character outside the alphabet fails the run.

    Example:
        >>> gc.io.decode_base64(["aGk_"])   # [b"hi?"]
    """
    return apply_op("decode_base64", [input], name=name or "DecodeBase64")


@registry.public(DECODE_COMPRESSED)
def decode_compressed(bytes, compression_type="", name=None):  # noqa: A002 - TF's name
    """Each string decompressed (TF1 ``tf.decode_compressed`` / ``tf.io.decode_compressed``;
    ``compression_type`` '', 'ZLIB' or 'GZIP').

    Example:
        >>> gc.io.decode_compressed(records, compression_type="GZIP")
    """
    return apply_op("decode_compressed", [bytes], {"compression_type": compression_type},
                    name=name or "DecodeCompressed")
