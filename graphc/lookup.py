"""``gc.lookup`` (TF1's ``tf.lookup`` and ``tf.contrib.lookup``): immutable key-value tables
from tensors or text files, for vocabularies in input pipelines.

A table's initializer is an op in the ``TABLE_INITIALIZERS`` collection, run by
``gc.tables_initializer()`` as in TF1; lookups read the table's keys and values directly, so
they do not fail before it runs (TF's would). Out-of-vocabulary words go to
``num_oov_buckets`` hash buckets after the vocabulary (``IdTableWithHashBuckets``), by TF's
Fingerprint64 (``FastHashSpec``; the keyed ``StrongHashSpec`` is not provided), so ids match
TF's.

Example:
    >>> table = gc.lookup.index_table_from_tensor(["emerson", "lake", "palmer"])
    >>> ids = table.lookup(gc.constant(["emerson", "lake", "and", "palmer"]))   # [0, 1, -1, 2]
    >>> sess.run(gc.tables_initializer()); sess.run(ids)
"""
from __future__ import annotations

import os

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.common import apply_op
from graphc.ops.creation import range as _range
from graphc.ops.lookup_ops import LINE_NUMBER, WHOLE_LINE
from graphc.ops.elementwise import equal
from graphc.ops.fingerprint import to_hash_bucket_fast
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import size
from graphc.ops.strings import as_string
from graphc.variables import GraphKeys

__all__ = ["KeyValueTensorInitializer", "TextFileInitializer", "TextFileIndex",
           "StaticHashTable", "HashTable", "index_table_from_tensor", "index_table_from_file",
           "index_to_string_table_from_tensor", "tables_initializer", "IdTableWithHashBuckets",
           "HasherSpec", "FastHashSpec", "StrongHashSpec"]


class TextFileIndex:
    """Column indices of a TextFileInitializer that are not columns (TF1's)."""

    WHOLE_LINE = WHOLE_LINE
    LINE_NUMBER = LINE_NUMBER


class KeyValueTensorInitializer:
    """A table's contents from a keys tensor and a values tensor of one length."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        self.keys = convert_to_tensor(keys, dtype=key_dtype)
        self.values = convert_to_tensor(values, dtype=value_dtype)
        if not self.keys.shape.is_compatible_with(self.values.shape):
            raise ValueError(f"KeyValueTensorInitializer: keys of shape {self.keys.shape} and "
                             f"values of shape {self.values.shape} differ")
        self.key_dtype, self.value_dtype = self.keys.dtype, self.values.dtype
        self._name = name or "key_value_init"


class TextFileInitializer:
    """A table's contents from a text file: per line, the key and value from columns
    ``key_index`` and ``value_index`` split by ``delimiter`` (or TextFileIndex's
    WHOLE_LINE / LINE_NUMBER)."""

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index,
                 vocab_size=None, delimiter="\t", name=None):
        self.filename = os.fsdecode(filename)
        self.key_dtype, self.value_dtype = gdt.as_dtype(key_dtype), gdt.as_dtype(value_dtype)
        self.key_index, self.value_index = int(key_index), int(value_index)
        self.vocab_size, self.delimiter = vocab_size, delimiter
        self._name = name or "text_file_init"


class StaticHashTable:
    """An immutable table: ``lookup(keys)`` gives each key's value, or ``default_value``
    (TF ``tf.lookup.StaticHashTable``; TF1's ``tf.contrib.lookup.HashTable``).

    Example:
        >>> init = gc.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2], value_dtype=gc.int64)
        >>> table = gc.lookup.StaticHashTable(init, default_value=-1)
    """

    def __init__(self, initializer, default_value, name=None):
        self._initializer = initializer
        self.key_dtype, self.value_dtype = initializer.key_dtype, initializer.value_dtype
        self._default = convert_to_tensor(default_value, dtype=self.value_dtype)
        graph = get_default_graph()
        with graph.name_scope(name or "hash_table"):
            init_op = graph.create_op("no_op", [], {}, name="table_init")
        graph.add_to_collection(GraphKeys.TABLE_INITIALIZERS, init_op)
        self._init_op = init_op

    @property
    def initializer(self):
        return self._init_op

    init = initializer

    @property
    def default_value(self):
        return self._default

    def lookup(self, keys, name=None):
        """Each key's value (the table's value dtype), ``default_value`` for unknown keys."""
        keys = convert_to_tensor(keys, dtype=self.key_dtype)
        init = self._initializer
        with get_default_graph().control_dependencies([self._init_op]):
            if isinstance(init, TextFileInitializer):
                return apply_op("text_table_lookup", [keys, self._default], {
                    "filename": init.filename, "key_index": init.key_index,
                    "value_index": init.value_index, "delimiter": init.delimiter,
                    "key_dtype": init.key_dtype, "value_dtype": init.value_dtype},
                    name=name or "hash_table_Lookup")
            return apply_op("table_lookup", [init.keys, init.values, keys, self._default],
                            name=name or "hash_table_Lookup")

    def size(self, name=None):
        """The number of entries (int64)."""
        init = self._initializer
        if isinstance(init, TextFileInitializer):
            count = init.vocab_size if init.vocab_size is not None else _lines(init.filename)
            return convert_to_tensor(count, dtype=gdt.int64, name=name)
        return cast(size(init.keys), gdt.int64)


HashTable = StaticHashTable


def _lines(path: str) -> int:
    with open(path, "rb") as handle:  # read when the graph is built (TF: at initialization)
        return len(handle.read().splitlines())


class HasherSpec:
    """Which hash an IdTableWithHashBuckets uses: ``FastHashSpec`` (Fingerprint64)."""

    def __init__(self, hasher, key=None):
        self.hasher, self.key = hasher, key


FastHashSpec = HasherSpec("fasthash")


class StrongHashSpec(HasherSpec):
    """TF's keyed SipHash buckets: refused by IdTableWithHashBuckets (not provided)."""

    def __init__(self, key):
        super().__init__("stronghash", key)


class IdTableWithHashBuckets:
    """``table``'s ids for known keys, and for the others one of ``num_oov_buckets`` ids
    after the table's (``table.size() + Fingerprint64(key) mod num_oov_buckets``, TF1's
    ``tf.contrib.lookup.IdTableWithHashBuckets``; integer keys are hashed as their decimal
    strings, as in TF). ``table`` may be None: every key is hashed.

    Example:
        >>> table = gc.lookup.IdTableWithHashBuckets(vocabulary_table, num_oov_buckets=5)
    """

    def __init__(self, table, num_oov_buckets, hasher_spec=FastHashSpec, name=None,
                 key_dtype=None):
        if hasher_spec is None:
            hasher_spec = FastHashSpec
        if hasher_spec.hasher != "fasthash":
            raise ValueError("IdTableWithHashBuckets: only FastHashSpec (TF's Fingerprint64) "
                             f"is provided, got {hasher_spec.hasher!r}")
        if int(num_oov_buckets) < (0 if table is not None else 1):
            raise ValueError(f"IdTableWithHashBuckets: num_oov_buckets must be "
                             f"{'non-negative' if table is not None else 'positive'}, got "
                             f"{num_oov_buckets}")
        self._table, self._buckets = table, int(num_oov_buckets)
        self.key_dtype = table.key_dtype if table is not None else gdt.as_dtype(
            key_dtype or gdt.string)
        self.value_dtype = gdt.int64
        self._name = name or "hash_bucket"
        # hashing alone needs no initialization: one no-op stands for it, made once
        self._init_op = table.initializer if table is not None else \
            get_default_graph().create_op("no_op", [], {}, name="table_init")

    @property
    def initializer(self):
        return self._init_op

    init = initializer

    def size(self, name=None):
        """The table's size plus the buckets (int64)."""
        buckets = convert_to_tensor(self._buckets, dtype=gdt.int64)
        return buckets if self._table is None else self._table.size() + buckets

    def lookup(self, keys, name=None):
        """Each key's id (int64): the table's, or its hash bucket's past them."""
        keys = convert_to_tensor(keys, dtype=self.key_dtype)
        with get_default_graph().name_scope(name or self._name):
            if self._buckets == 0:
                return self._table.lookup(keys)
            hashed = as_string(keys) if keys.dtype.is_integer else keys
            buckets = to_hash_bucket_fast(hashed, self._buckets)
            if self._table is None:
                return buckets
            ids = cast(self._table.lookup(keys), gdt.int64)
            unknown = equal(ids, cast(self._table.default_value, gdt.int64))
            return where(unknown, buckets + self._table.size(), ids)


def _with_buckets(table, num_oov_buckets, hasher_spec, name):
    if not num_oov_buckets:
        return table
    return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec, name=name)


def index_table_from_tensor(vocabulary_list, num_oov_buckets=0, default_value=-1,
                            hasher_spec=None, dtype=gdt.string, name=None):
    """A table from each word of ``vocabulary_list`` to its position (int64), and
    ``default_value`` for words not in it (TF1 ``tf.contrib.lookup.index_table_from_tensor``).

    Example:
        >>> table = gc.lookup.index_table_from_tensor(["a", "b"])
    """
    keys = convert_to_tensor(vocabulary_list, dtype=gdt.as_dtype(dtype))
    init = KeyValueTensorInitializer(keys, cast(_range(size(keys)), gdt.int64))
    table = StaticHashTable(init, default_value, name=name or "string_to_index")
    return _with_buckets(table, num_oov_buckets, hasher_spec, name)


def index_table_from_file(vocabulary_file=None, num_oov_buckets=0, vocab_size=None,
                          default_value=-1, hasher_spec=None, key_dtype=gdt.string, name=None,
                          key_column_index=WHOLE_LINE, value_column_index=LINE_NUMBER,
                          delimiter="\t"):
    """A table from each line of ``vocabulary_file`` to its line number (TF1
    ``tf.contrib.lookup.index_table_from_file``).

    Example:
        >>> table = gc.lookup.index_table_from_file("vocab.txt")
    """
    init = TextFileInitializer(vocabulary_file, key_dtype, key_column_index, gdt.int64,
                               value_column_index, vocab_size, delimiter)
    table = StaticHashTable(init, default_value, name=name or "string_to_index")
    return _with_buckets(table, num_oov_buckets, hasher_spec, name)


def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name=None):
    """A table from positions (int64) to the words of ``vocabulary_list`` (TF1
    ``tf.contrib.lookup.index_to_string_table_from_tensor``).

    Example:
        >>> words = gc.lookup.index_to_string_table_from_tensor(vocab).lookup(ids)
    """
    values = convert_to_tensor(vocabulary_list, dtype=gdt.string)
    init = KeyValueTensorInitializer(cast(_range(size(values)), gdt.int64), values)
    return StaticHashTable(init, default_value, name=name or "index_to_string")


def tables_initializer(name="init_all_tables"):
    """The op initializing every table of the default graph (TF1 ``tf.tables_initializer``).

    Example:
        >>> sess.run(gc.tables_initializer())
    """
    graph = get_default_graph()
    ops = graph.get_collection(GraphKeys.TABLE_INITIALIZERS)
    with graph.control_dependencies(ops):
        return graph.create_op("no_op", [], {}, name=name)
