"""Every fact an OpDef records is used: a flag that nothing reads is a promise nobody keeps
(``copies_inputs`` was set on the assign family and read nowhere)."""
import ast
import dataclasses
import pathlib

from graphc.registry import OpDef

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOT_READ_YET: set = set()  # fields declared ahead of their first reader


def attributes_read() -> set:
    """Names of every attribute read (``x.name``) in the sources and tests, but for the
    registry itself, which only declares the fields."""
    names = set()
    for folder in ("graphc", "passes", "runtime", "tools", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "graphc" / "registry.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    names.add(node.attr)
    return names


def test_every_opdef_field_is_read_somewhere():
    fields = {field.name for field in dataclasses.fields(OpDef)}
    unread = fields - attributes_read() - NOT_READ_YET
    assert not unread, f"OpDef fields nothing reads (use them or remove them): {sorted(unread)}"
