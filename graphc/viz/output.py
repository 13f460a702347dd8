"""Writing a graphviz Digraph to a file: the format follows the extension; a picture that
fails to render never leaves a partial file behind."""
from __future__ import annotations

import os
import pathlib

import graphviz

__all__ = ["FORMATS", "DotNotFoundError", "INSTALL_HINT", "check_format", "write_digraph"]

FORMATS = ("png", "svg", "pdf", "dot")

INSTALL_HINT = ("the graphviz 'dot' program was not found on PATH; install it (Debian/Ubuntu: "
                "apt-get install graphviz, macOS: brew install graphviz) or render to .dot")


class DotNotFoundError(RuntimeError):
    """The graphviz ``dot`` program is missing."""


def check_format(path) -> str:
    """The format of ``path`` from its extension, or a ValueError naming the known ones."""
    path = pathlib.Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: unknown format {path.suffix!r} for {str(path)!r}; use one of "
                         f"{', '.join('.' + f for f in FORMATS)}")
    return fmt


def write_digraph(dot: graphviz.Digraph, path) -> pathlib.Path:
    """Write ``dot`` to ``path`` (``.dot``: the source, which needs no graphviz binary).

    Example:
        >>> write_digraph(graphviz.Digraph(), "empty.svg")
    """
    path = pathlib.Path(path)
    fmt = check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(dot.source)
        return path
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(INSTALL_HINT) from None
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a failed render never leaves a corrupted file behind
    return path
