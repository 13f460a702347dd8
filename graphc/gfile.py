"""TF1's file API on the local filesystem: ``tf.gfile`` (CamelCase names) and
``tf.io.gfile`` (snake_case names), with TF's errors (a missing file raises
``gc.errors.NotFoundError``, an existing target ``AlreadyExistsError``).

``GFile`` opens its file on first use, as TF's does: a file opened for writing appears with
the first write (or at ``close``), and a missing file fails on the first read.

Example:
    >>> with gc.io.gfile.GFile("run/notes.txt", "w") as f:
    ...     f.write("step 100\\n")
    >>> gc.gfile.Exists("run/notes.txt"), gc.io.gfile.glob("run/*.txt")
    (True, ['run/notes.txt'])
"""
from __future__ import annotations

import collections
import contextlib
import glob as _glob
import os
import shutil

from graphc import errors

__all__ = ["GFile", "FastGFile", "Open", "exists", "remove", "rename", "copy", "makedirs",
           "mkdir", "rmtree", "isdir", "listdir", "glob", "walk", "stat", "join",
           "FileStatistics", "Exists", "Remove", "Rename", "Copy", "MakeDirs", "MkDir",
           "DeleteRecursively", "IsDirectory", "ListDirectory", "Glob", "Walk", "Stat"]

_ERRORS = ((FileNotFoundError, errors.NotFoundError, "No such file or directory"),
           (FileExistsError, errors.AlreadyExistsError, "File already exists"),
           (PermissionError, errors.PermissionDeniedError, "Permission denied"),
           (IsADirectoryError, errors.FailedPreconditionError, "Is a directory"),
           (NotADirectoryError, errors.FailedPreconditionError, "Not a directory"))


@contextlib.contextmanager
def _as_tf_errors(path):
    """OSErrors become TF's OpErrors naming ``path`` (TF's messages end ``; <reason>``)."""
    try:
        yield
    except OSError as err:
        for os_type, tf_type, reason in _ERRORS:
            if isinstance(err, os_type):
                raise tf_type(None, None, f"{os.fspath(path)}; {reason}") from err
        raise errors.UnknownError(None, None, f"{os.fspath(path)}; {err}") from err


def _mode_flags(mode: str) -> tuple:
    if mode.replace("b", "") not in ("r", "w", "a", "r+", "w+", "a+"):
        raise errors.InvalidArgumentError(None, None, f"GFile: invalid mode {mode!r}; TF's "
                                          "modes are r, w, a, r+, w+, a+ (with b: bytes)")
    return "r" in mode or "+" in mode, "w" in mode or "a" in mode or "+" in mode


class GFile:
    """A file with TF's methods: ``read(n)``, ``readline``, ``readlines``, iteration,
    ``write``, ``seek``/``tell``, ``size``, ``flush``, ``close``; text unless the mode has
    ``b``.

    Raises:
        PermissionDeniedError: reading a file opened only to write, or the reverse.
        NotFoundError: reading a missing file.

    Example:
        >>> with gc.gfile.GFile("data/labels.txt") as f:
        ...     labels = [line.strip() for line in f]
    """

    def __init__(self, name, mode="r"):
        self._name, self._mode = os.fspath(name), mode
        self._readable, self._writable = _mode_flags(mode)
        self._file = None

    name = property(lambda self: self._name)
    mode = property(lambda self: self._mode)

    def _opened(self):
        if self._file is None:
            # text as TF's: UTF-8, lines end at "\n" only, and nothing is translated
            text = {} if "b" in self._mode else {"encoding": "utf-8", "newline": "\n"}
            with _as_tf_errors(self._name):
                self._file = open(self._name, self._mode, **text)
        return self._file

    def _for_reading(self):
        if not self._readable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        return self._opened()

    def _for_writing(self):
        if not self._writable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
        return self._opened()

    def size(self) -> int:
        """The file's length in bytes (what is written so far, for a file being written)."""
        if self._file is not None and self._writable:
            self._file.flush()
        return stat(self._name).length

    def read(self, n=-1):
        """``n`` characters (bytes in binary mode) from the position; all when ``n < 0``."""
        with _as_tf_errors(self._name):
            return self._for_reading().read(n)

    def readline(self):
        with _as_tf_errors(self._name):
            return self._for_reading().readline()

    def readlines(self):
        with _as_tf_errors(self._name):
            return self._for_reading().readlines()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def write(self, file_content) -> None:
        """Append ``file_content`` at the position (str, or bytes for binary modes; TF's
        GFile also writes bytes to text files)."""
        target = self._for_writing()
        with _as_tf_errors(self._name):
            if isinstance(file_content, bytes) and "b" not in self._mode:
                target.flush()
                target.buffer.write(file_content)
            else:
                target.write(file_content)

    def seek(self, offset=None, whence=0, position=None) -> int:
        """Move to ``offset`` (or ``position``, TF's older name) from ``whence``."""
        if (offset is None) == (position is None):
            raise TypeError("GFile.seek takes exactly one of offset and position")
        with _as_tf_errors(self._name):
            return self._opened().seek(offset if offset is not None else position, whence)

    def tell(self) -> int:
        with _as_tf_errors(self._name):
            return self._opened().tell()

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Close the file; a file opened to write and never written is created now."""
        if self._file is None and self._writable and not self._readable:
            self._opened()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "GFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


FastGFile = Open = GFile


def exists(path) -> bool:
    """Whether a file or directory is at ``path``."""
    return os.path.exists(os.fspath(path))


def isdir(path) -> bool:
    return os.path.isdir(os.fspath(path))


def remove(path) -> None:
    """Delete the file at ``path`` (NotFoundError when there is none)."""
    with _as_tf_errors(path):
        os.remove(os.fspath(path))


def _check_target(newpath, overwrite: bool) -> None:
    if not overwrite and os.path.exists(os.fspath(newpath)):
        raise errors.AlreadyExistsError(None, None, f"{os.fspath(newpath)}; File already "
                                        "exists")


def rename(oldname, newname, overwrite=False) -> None:
    """Move ``oldname`` to ``newname`` (AlreadyExistsError for an existing target unless
    ``overwrite``)."""
    with _as_tf_errors(oldname):
        os.stat(os.fspath(oldname))
    _check_target(newname, overwrite)
    with _as_tf_errors(newname):
        os.replace(os.fspath(oldname), os.fspath(newname))


def copy(oldpath, newpath, overwrite=False) -> None:
    """Copy the file ``oldpath`` to ``newpath`` (errors as ``rename``)."""
    with _as_tf_errors(oldpath):
        os.stat(os.fspath(oldpath))
    _check_target(newpath, overwrite)
    with _as_tf_errors(newpath):
        shutil.copyfile(os.fspath(oldpath), os.fspath(newpath))


def makedirs(path) -> None:
    """Create ``path`` and its missing parents (no error when it exists)."""
    with _as_tf_errors(path):
        os.makedirs(os.fspath(path), exist_ok=True)


def mkdir(path) -> None:
    """Create the directory ``path`` (its parent must exist; AlreadyExistsError if it
    does)."""
    with _as_tf_errors(path):
        os.mkdir(os.fspath(path))


def rmtree(path) -> None:
    """Delete the directory ``path`` and everything in it."""
    with _as_tf_errors(path):
        os.stat(os.fspath(path))  # NotFoundError when missing
        if not os.path.isdir(os.fspath(path)):
            raise NotADirectoryError(os.fspath(path))  # left alone, as TF leaves it
        shutil.rmtree(os.fspath(path))


def listdir(path) -> list:
    """The names (not paths) of the entries of the directory ``path``.

    Raises:
        NotFoundError: no directory there.
    """
    if not isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {os.fspath(path)}")
    return sorted(os.listdir(os.fspath(path)))


def glob(pattern) -> list:
    """The paths matching ``pattern`` (a string or a list of them), sorted."""
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else pattern
    return sorted({match for p in patterns for match in _glob.glob(os.fspath(p))})


def walk(top, topdown=True, onerror=None):
    """``(dirname, subdirs, files)`` for every directory under ``top`` (none when ``top``
    is missing: ``onerror`` is called with the NotFoundError)."""
    if not isdir(top):
        if onerror is not None:
            onerror(errors.NotFoundError(None, None, f"Could not find directory {top}"))
        return
    for dirname, subdirs, files in os.walk(os.fspath(top), topdown=topdown):
        yield dirname, subdirs, files


FileStatistics = collections.namedtuple("FileStatistics",
                                        ["length", "mtime_nsec", "is_directory"])


def stat(path) -> FileStatistics:
    """``length`` (bytes), ``mtime_nsec`` and ``is_directory`` of ``path``."""
    with _as_tf_errors(path):
        result = os.stat(os.fspath(path))
    return FileStatistics(result.st_size, result.st_mtime_ns, os.path.isdir(os.fspath(path)))


def join(path, *paths) -> str:
    """``os.path.join`` (TF's ``tf.io.gfile.join``)."""
    return os.path.join(os.fspath(path), *map(os.fspath, paths))


# TF1's tf.gfile spellings
Exists, Remove, Rename, Copy, MakeDirs, MkDir = exists, remove, rename, copy, makedirs, mkdir
DeleteRecursively, IsDirectory, ListDirectory, Glob, Walk, Stat = \
    rmtree, isdir, listdir, glob, walk, stat
