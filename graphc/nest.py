"""``gc.nest``: TF's ``tf.nest`` — flattening and rebuilding nested structures.

A structure nests lists, tuples, namedtuples and mappings (dicts, OrderedDicts and other
``collections.abc.Mapping``s); anything else, ``None`` and strings included, is a leaf.
Mappings are visited in sorted key order (their own order is ignored, as in TF), so a
structure flattens the same way whatever order its dicts were built in.

Example:
    >>> gc.nest.flatten({"b": 1, "a": (2, [3, None])})
    [2, 3, None, 1]
    >>> gc.nest.map_structure(lambda x, y: x + y, (1, {"k": 2}), (10, {"k": 20}))
    (11, {'k': 22})
"""
from __future__ import annotations

import collections.abc
from typing import Any, Callable

__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure",
           "assert_same_structure"]


def is_nested(seq) -> bool:
    """Whether ``seq`` is a container ``nest`` looks into (list, tuple, mapping), not a leaf.

    Example:
        >>> gc.nest.is_nested([1, 2]), gc.nest.is_nested("ab")
        (True, False)
    """
    return isinstance(seq, (list, tuple, collections.abc.Mapping))


def _sorted_keys(mapping) -> list:
    try:
        return sorted(mapping)
    except TypeError:
        raise TypeError(f"nest only sorts mappings with comparable keys, got keys "
                        f"{list(mapping)!r}") from None


def _children(value) -> list:
    if isinstance(value, collections.abc.Mapping):
        return [value[key] for key in _sorted_keys(value)]
    return list(value)


def flatten(structure, expand_composites=False) -> list:
    """The leaves of ``structure``, depth first, mappings by sorted key (TF's
    ``tf.nest.flatten``). A leaf on its own gives ``[leaf]``.

    Example:
        >>> gc.nest.flatten(((1, 2), {"y": 4, "x": 3}))
        [1, 2, 3, 4]
    """
    if not is_nested(structure):
        return [structure]
    leaves: list = []
    for child in _children(structure):
        leaves.extend(flatten(child))
    return leaves


def _rebuilt(structure, children: list):
    if isinstance(structure, collections.abc.Mapping):
        by_key = dict(zip(_sorted_keys(structure), children))
        # the mapping's own key order comes back; defaultdict keeps its factory
        if isinstance(structure, collections.defaultdict):
            result = collections.defaultdict(structure.default_factory)
            result.update((key, by_key[key]) for key in structure)
            return result
        return type(structure)((key, by_key[key]) for key in structure)
    if isinstance(structure, tuple) and hasattr(type(structure), "_fields"):
        return type(structure)(*children)
    return type(structure)(children)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """``flat_sequence`` (leaves in ``flatten`` order) put back into the containers of
    ``structure`` (TF's ``tf.nest.pack_sequence_as``).

    Example:
        >>> gc.nest.pack_sequence_as({"a": 0, "b": (0, 0)}, [1, 2, 3])
        {'a': 1, 'b': (2, 3)}
    """
    if not is_nested(flat_sequence) or isinstance(flat_sequence, collections.abc.Mapping):
        raise TypeError(f"pack_sequence_as: flat_sequence must be a list or tuple, got "
                        f"{type(flat_sequence).__name__}")
    flat_sequence = list(flat_sequence)
    if not is_nested(structure):
        if len(flat_sequence) != 1:
            raise ValueError(f"pack_sequence_as: structure is a leaf, but flat_sequence has "
                             f"{len(flat_sequence)} items")
        return flat_sequence[0]
    count = len(flatten(structure))
    if count != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {count} atoms, but "
                         f"flat_sequence had {len(flat_sequence)} items. Structure: "
                         f"{structure!r}, flat_sequence: {flat_sequence!r}.")
    leaves = iter(flat_sequence)

    def pack(part):
        if not is_nested(part):
            return next(leaves)
        return _rebuilt(part, [pack(child) for child in _children(part)])
    return pack(structure)


def _kind(value) -> type:
    """The container kind ``check_types`` compares: the exact type, except that every
    mapping counts as one kind (TF accepts a dict where an OrderedDict was)."""
    return dict if isinstance(value, collections.abc.Mapping) else type(value)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False) -> None:
    """Raise unless ``nest1`` and ``nest2`` nest the same way (TF's
    ``tf.nest.assert_same_structure``): ValueError for a different nesting, number of
    elements or mapping keys; with ``check_types``, TypeError for different container types
    (a list where a tuple was, two different namedtuples).

    Example:
        >>> gc.nest.assert_same_structure((1, [2]), ("a", ["b"]))
    """
    def compare(a, b, path):
        if is_nested(a) != is_nested(b):
            raise ValueError(f"The two structures don't have the same nested structure.\n\n"
                             f"First structure: {nest1!r}\n\nSecond structure: {nest2!r}\n\n"
                             f"More specifically: at {path or 'the top'}, one is a leaf and "
                             f"the other a {type(b if is_nested(b) else a).__name__}")
        if not is_nested(a):
            return
        if check_types and _kind(a) is not _kind(b):
            raise TypeError(f"The two structures don't have the same sequence type. First "
                            f"structure has type {type(a)}, while second structure has type "
                            f"{type(b)} (at {path or 'the top'})")
        if isinstance(a, collections.abc.Mapping) and set(a) != set(b):
            raise ValueError(f"The two dictionaries don't have the same set of keys. First "
                             f"structure has keys {_sorted_keys(a)}, while second structure "
                             f"has keys {_sorted_keys(b)} (at {path or 'the top'})")
        if len(a) != len(b):
            raise ValueError(f"The two structures don't have the same number of elements at "
                             f"{path or 'the top'}: {len(a)} and {len(b)}.\n\nFirst structure: "
                             f"{nest1!r}\n\nSecond structure: {nest2!r}")
        keys = _sorted_keys(a) if isinstance(a, collections.abc.Mapping) else range(len(a))
        for key, x, y in zip(keys, _children(a), _children(b)):
            compare(x, y, f"{path}[{key!r}]")
    compare(nest1, nest2, "")


def map_structure(func: Callable, *structure, **kwargs) -> Any:
    """``func`` applied to the leaves of the structures, in the containers of the first
    (TF's ``tf.nest.map_structure``; ``check_types=True`` by default).

    Example:
        >>> gc.nest.map_structure(lambda t: t * 2, {"w": 1.5, "b": [1, 2]})
        {'w': 3.0, 'b': [2, 4]}
    """
    if not structure:
        raise ValueError("map_structure: give at least one structure")
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"map_structure: unexpected keyword arguments {sorted(kwargs)}; only "
                         f"check_types and expand_composites are accepted")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    columns = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*columns)])
