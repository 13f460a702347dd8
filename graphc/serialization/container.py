"""graphc's file container: a JSON header plus raw tensor bytes, checksummed, versioned and
written atomically. Graphs, meta graphs and checkpoints are all stored in it (docs/formats.md).

Binary layout (format versions 1 and 2: version 2 files are those whose graph holds a
function library, ``graph_def.py``; the layout is the same)::

    8 bytes   magic  b"GRAPHC\\x00\\n" (never changes)
    4 bytes   format version, little-endian uint32 (fixed place: any reader can say it)
    8 bytes   header length H, little-endian uint64
    H bytes   header: UTF-8 JSON object {"kind": ..., "tensors": [...], ...kind's fields}
    N bytes   tensor data: each tensor's little-endian C-order bytes at its "offset"
    32 bytes  SHA-256 of every byte before it (the file checksum)

Each entry of "tensors" is ``{"name", "dtype", "shape", "offset", "nbytes", "sha256"}``. The
text form (``as_text``) is one JSON object with the same header fields, each tensor's bytes
in base64 under "base64" and no file checksum (it may be edited by hand; the per-tensor
checksums still hold). Reading never runs code: JSON and ``np.frombuffer`` over an allowlist of
numeric dtypes; there is no pickle anywhere.

Example:
    >>> data = encode("checkpoint", {}, {"W": np.ones(3, np.float32)})
    >>> fields, arrays = decode(data, "checkpoint", "W.ckpt")
    >>> arrays["W"]
    array([1., 1., 1.], dtype=float32)
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import tempfile

import numpy as np

from graphc.errors import DataLossError, NotFoundError

__all__ = ["FORMAT_VERSION", "encode", "encode_chunks", "decode", "write_atomic",
           "read_bytes"]

MAGIC = b"GRAPHC\x00\n"
FORMAT_VERSION = 2  # the newest version this graphc writes
READABLE_VERSIONS = (1, 2)
_PREFIX = struct.Struct("<8sIQ")  # magic, version, header length
_DIGEST = 32
# The element types a file may hold: NumPy reads these from raw bytes without running code.
_DTYPES = {name: np.dtype(name).newbyteorder("<") for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}


def _dtype_name(array: np.ndarray, name: str) -> str:
    if array.dtype.name not in _DTYPES:
        raise TypeError(f"Cannot save tensor {name!r} of dtype {array.dtype}: files hold only "
                        f"the numeric dtypes {sorted(_DTYPES)}")
    return array.dtype.name


def _raw(array: np.ndarray, name: str) -> tuple:
    dtype = _dtype_name(array, name)
    data = np.ascontiguousarray(array, dtype=_DTYPES[dtype]).tobytes()
    return dtype, data


def encode_chunks(kind: str, fields: dict, arrays: dict, as_text: bool = False,
                  version: int = 1) -> list:
    """The file of a container of ``kind`` holding JSON ``fields`` and ``arrays``, as a list
    of byte strings to write one after the other (no copy of the whole file is made).
    ``version``: the oldest format version whose readers understand ``fields`` (older
    graphc versions then still read the file)."""
    if version not in READABLE_VERSIONS:
        raise ValueError(f"format version {version!r}: this graphc writes "
                         f"{list(READABLE_VERSIONS)}")
    header = {"format": "graphc", "version": version, "kind": kind, **fields}
    tensors, chunks, offset = [], [], 0
    for name, array in arrays.items():
        array = np.asarray(array)
        dtype, data = _raw(array, name)
        entry = {"name": name, "dtype": dtype, "shape": list(array.shape),
                 "nbytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if as_text:
            entry["base64"] = base64.b64encode(data).decode("ascii")
        else:
            entry["offset"] = offset
            chunks.append(data)
            offset += len(data)
        tensors.append(entry)
    header["tensors"] = tensors
    if as_text:
        return [(json.dumps(header, indent=1, allow_nan=False) + "\n").encode("utf-8")]
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    chunks = [_PREFIX.pack(MAGIC, version, len(text)), text, *chunks]
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return chunks + [digest.digest()]


def encode(kind: str, fields: dict, arrays: dict, as_text: bool = False,
           version: int = 1) -> bytes:
    """The file bytes of a container of ``kind`` holding JSON ``fields`` and ``arrays``
    (``version``: see ``encode_chunks``)."""
    return b"".join(encode_chunks(kind, fields, arrays, as_text, version))


def _loss(source: str, what: str) -> DataLossError:
    return DataLossError(None, None, f"{source}: {what}")


def _header(data: bytes, source: str) -> tuple:
    """``(header dict, data section)`` of the file bytes, after every file-level check."""
    if data[:1] == b"{":  # the text form (json.dumps starts every object with it)
        try:
            header = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise _loss(source, f"the text file is truncated or corrupted (not valid JSON: "
                        f"{err})") from None
        if not isinstance(header, dict) or header.get("format") != "graphc":
            raise _loss(source, "not a graphc file (a JSON object without "
                        "\"format\": \"graphc\")")
        _check_version(header.get("version"), source)
        return header, None
    if len(data) < _PREFIX.size and data and MAGIC.startswith(data[:len(MAGIC)]):
        raise _loss(source, f"truncated: {len(data)} bytes")
    if len(data) < _PREFIX.size or data[:len(MAGIC)] != MAGIC:
        raise _loss(source, f"not a graphc file (it does not start with {MAGIC!r}; pickles, "
                    ".npz archives, TensorFlow protobufs and other formats are refused)")
    _, version, length = _PREFIX.unpack_from(data)
    _check_version(version, source)
    end = _PREFIX.size + length
    if len(data) < end + _DIGEST:
        raise _loss(source, f"truncated: {len(data)} bytes, but the header alone needs {end}")
    view = memoryview(data)
    if hashlib.sha256(view[:-_DIGEST]).digest() != view[-_DIGEST:]:
        raise _loss(source, "truncated or corrupted: the file checksum (SHA-256) does not "
                    "match its contents")
    try:
        header = json.loads(data[_PREFIX.size:end].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _loss(source, f"corrupted header ({err})") from None
    if not isinstance(header, dict):
        raise _loss(source, "corrupted header (not a JSON object)")
    return header, view[end:len(data) - _DIGEST]


def _check_version(version, source: str) -> None:
    if version in READABLE_VERSIONS and not isinstance(version, bool):
        return
    newer = isinstance(version, int) and version > FORMAT_VERSION
    hint = "upgrade graphc to read it" if newer else "graphc never wrote such a file"
    raise _loss(source, f"format version {version!r}, but this graphc reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))} only; {hint}")


def _array(entry, section, source: str) -> tuple:
    try:
        name, dtype, shape = entry["name"], entry["dtype"], tuple(entry["shape"])
        nbytes, digest = entry["nbytes"], entry["sha256"]
    except (KeyError, TypeError):
        raise _loss(source, f"corrupted tensor table entry {entry!r:.80}") from None
    if not isinstance(name, str):
        raise _loss(source, f"tensor name {name!r:.80} is not a string")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _loss(source, f"tensor {name!r} has dtype {dtype!r}; files hold only "
                    f"{sorted(_DTYPES)} (object arrays are refused)")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _loss(source, f"tensor {name!r} has an invalid shape {list(shape)}")
    if nbytes != int(np.prod(shape, dtype=np.int64)) * _DTYPES[dtype].itemsize:
        raise _loss(source, f"tensor {name!r}: {nbytes} bytes do not hold a {dtype} array "
                    f"of shape {list(shape)}")
    if section is None:
        try:
            raw = base64.b64decode(entry["base64"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise _loss(source, f"tensor {name!r}: missing or invalid base64 data") from None
    else:
        offset = entry.get("offset")
        if not isinstance(offset, int) or offset < 0 or offset + nbytes > len(section):
            raise _loss(source, f"tensor {name!r} lies outside the data section")
        raw = section[offset:offset + nbytes]
    if len(raw) != nbytes or hashlib.sha256(raw).hexdigest() != digest:
        raise _loss(source, f"tensor {name!r} is corrupted: its checksum (SHA-256) does not "
                    "match its bytes")
    array = np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(shape)
    return name, array.astype(array.dtype.newbyteorder("="))  # a copy the caller owns


def decode(data: bytes, kinds, source: str) -> tuple:
    """``(header fields, {name: array})`` of file bytes holding a container of one of
    ``kinds`` (a string or a tuple); every checksum is verified before anything returns.

    Raises DataLossError naming ``source`` for a truncated, corrupted or foreign file, one of
    another format version, or one of another kind.
    """
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    header, section = _header(data, source)
    if header.get("kind") not in kinds:
        raise _loss(source, f"holds a {header.get('kind')!r}, not a {' or '.join(kinds)}")
    tensors = header.get("tensors")
    if not isinstance(tensors, list):
        raise _loss(source, "corrupted header (no tensor table)")
    arrays = {}
    for entry in tensors:
        name, array = _array(entry, section, source)
        if name in arrays:
            raise _loss(source, f"tensor {name!r} is stored twice")
        arrays[name] = array
    return header, arrays


def read_bytes(path: str, what: str = "file") -> bytes:
    """The bytes of ``path``; NotFoundError (TF's class) when there is no such file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise NotFoundError(None, None, f"Failed to find the {what} {path!r}: no such "
                            "file") from None
    except IsADirectoryError:
        raise NotFoundError(None, None, f"The {what} {path!r} is a directory, not a "
                            "file") from None


def write_atomic(path: str, data) -> None:
    """Write ``data`` (bytes, or a list of byte strings) to ``path`` so that a crash at any
    moment leaves either the old file or the new one, never a mix: a temporary file in the
    same folder, fsync, rename, fsync of the folder (so the rename survives a power cut).

    Example:
        >>> write_atomic("run/checkpoint", b'model_checkpoint_path: "model.ckpt-1"\n')
    """
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in ([data] if isinstance(data, (bytes, bytearray)) else data):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on some systems (Windows): nothing to sync
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
