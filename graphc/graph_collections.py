"""TF1's graph collections (``tf.get_collection``, ``GraphKeys``): named lists kept by a graph.

A mixin of ``Graph``, kept apart so the IR module stays about ops, names and scopes.

Example:
    >>> g = gc.Graph()
    >>> g.add_to_collection("losses", 1.0)
    >>> g.get_collection("losses")
    [1.0]
"""
from __future__ import annotations

import re
from typing import Optional

__all__ = ["GraphCollections"]


class GraphCollections:
    """Collections of a graph: ``self._collections`` maps a key to its list of items."""

    _collections: dict

    # -- collections --------------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for name in ((names,) if isinstance(names, str) else dict.fromkeys(names)):
            self.add_to_collection(name, value)

    def get_collection(self, name: str, scope: Optional[str] = None) -> list:
        """A copy of collection ``name``; with ``scope``, only items whose ``name`` the regex
        ``scope`` matches at its start (``re.match``, TF1), so nameless items drop out."""
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [v for v in items if isinstance(getattr(v, "name", None), str) and
                pattern.match(v.name)]

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self) -> list:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)
