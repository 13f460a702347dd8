"""A pytest plugin for ``tools/mutate.py``: serves one module's mutated source at import.

``GRAPHC_MUTANT_FILE`` names the source file to replace and ``GRAPHC_MUTANT_SOURCE`` a file
holding its mutated text; the module is compiled from that text under its own file name, so
no file of the working tree is ever changed. Loaded with ``-p tests.mutant_loader`` before
anything imports graphc.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys


class _MutantLoader(importlib.abc.SourceLoader):
    def __init__(self, fullname: str, path: str, source: str):
        self.fullname, self.path, self.source = fullname, path, source

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        return self.source.encode() if path == self.path else open(path, "rb").read()

    def path_stats(self, path: str):
        raise OSError("never cache a mutant")  # SourceLoader then skips the bytecode cache


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, path: str, source: str):
        self.path, self.source = os.path.realpath(path), source

    def find_spec(self, fullname, path=None, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.origin and os.path.realpath(spec.origin) == self.path:
                loader = _MutantLoader(fullname, spec.origin, self.source)
                return importlib.util.spec_from_file_location(fullname, spec.origin,
                                                              loader=loader)
            return spec
        return None


if os.environ.get("GRAPHC_MUTANT_FILE"):
    with open(os.environ["GRAPHC_MUTANT_SOURCE"]) as handle:
        sys.meta_path.insert(0, _MutantFinder(os.environ["GRAPHC_MUTANT_FILE"], handle.read()))
