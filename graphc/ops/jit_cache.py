"""Generated numba modules kept on disk across processes: the folder, and writing and
importing a module there (the fused engines of graphc.runtime.fused and the direct
convolutions of graphc.ops.conv_direct compile generated source this way).

A module is written once, atomically, to ``GRAPHC_CACHE_DIR`` (default
``$XDG_CACHE_HOME/graphc``, else ``~/.cache/graphc``) under ``folder``, named by a digest of
its source, the caller's ``stamp`` (compile options, helper code digests) and the numba
version; numba's own cache (``cache=True``) then keeps the machine code beside it, so a later
process loads a kernel in milliseconds instead of compiling it for seconds. An empty
``GRAPHC_CACHE_DIR`` turns the disk cache off; a folder that cannot be written is the same
as none.

Example:
    >>> namespace, on_disk = generated_module(source, "fused-kernels", stamp)
    >>> loop = numba.njit(cache=on_disk)(namespace["loop"])
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "module_file", "generated_module"]


def cache_dir(folder: str) -> Path | None:
    """The cache's ``folder``, or None when the disk cache is off."""
    chosen = os.environ.get("GRAPHC_CACHE_DIR")
    if chosen is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        chosen = os.path.join(base, "graphc")
    return Path(chosen) / folder if chosen else None


def module_file(source: str, folder: str, stamp: str) -> Path | None:
    """The generated module's file in the cache folder (written once, atomically), or None
    when the folder cannot be made or written."""
    import numba  # here: only a compile of generated code needs numba's version
    place = cache_dir(folder)
    if place is None:
        return None
    # the machine code depends on the source, the compile options and numba, nothing else
    key = f"{numba.__version__}\n{stamp}\n{source}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    path = place / f"graphc_{digest}.py"
    try:
        if not path.exists():  # never rewritten: numba's index is stamped with its mtime
            place.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=place, suffix=".tmp")
            with os.fdopen(handle, "w") as stream:
                stream.write(source)
            os.replace(temporary, path)
        return path
    except OSError:
        return None


def generated_module(source: str, folder: str, stamp: str) -> tuple:
    """``(namespace, on_disk)``: the executed module ``source`` (imported from its cache
    file where there is one, so numba can cache what it compiles: ``on_disk``)."""
    path = module_file(source, folder, stamp)
    if path is None:
        namespace: dict = {}
        exec(compile(source, "<graphc generated>", "exec"), namespace)  # noqa: S102
        return namespace, False
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[path.stem] = module  # numba imports it by name when it loads the cache
    return vars(module), True
