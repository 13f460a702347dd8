"""tf.lookup / tf.contrib.lookup tables from tensors and text files."""
import numpy as np
import pytest

import graphc as gc


def _run(fetches):
    with gc.Session() as sess:
        sess.run(gc.tables_initializer())
        return sess.run(fetches)


def test_vocabulary_tables_both_ways():
    with gc.Graph().as_default():
        table = gc.contrib.lookup.index_table_from_tensor(["emerson", "lake", "palmer"])
        words = gc.lookup.index_to_string_table_from_tensor(["a", "b"])
        init = gc.lookup.KeyValueTensorInitializer([1, 5], [10.0, 50.0])
        scores = gc.lookup.StaticHashTable(init, -1.0)
        ids = table.lookup(gc.constant([["emerson", "lake"], ["and", "palmer"]]))
        got = _run([ids, words.lookup(gc.constant([1, 0, 7], gc.int64)),
                    scores.lookup(gc.constant([5, 2])), table.size()])
        assert len(gc.get_collection(gc.GraphKeys.TABLE_INITIALIZERS)) == 3
    np.testing.assert_array_equal(got[0], [[0, 1], [-1, 2]])
    assert got[0].dtype == np.int64
    assert got[1].tolist() == [b"b", b"a", b"UNK"]
    np.testing.assert_array_equal(got[2], [50.0, -1.0])
    assert got[3] == 3


def test_text_file_tables(tmp_path):
    (tmp_path / "vocab.txt").write_text("the\ncat\nsat\n")
    (tmp_path / "pairs.tsv").write_text("a\t7\nb\t9\n")
    with gc.Graph().as_default():
        vocab = gc.lookup.index_table_from_file(str(tmp_path / "vocab.txt"), default_value=99)
        pairs = gc.lookup.HashTable(gc.lookup.TextFileInitializer(
            str(tmp_path / "pairs.tsv"), gc.string, 0, gc.int64, 1), -1)
        got = _run([vocab.lookup(gc.constant(["cat", "dog"])), pairs.lookup(gc.constant(["b"])),
                    vocab.size()])
    assert got[0].tolist() == [1, 99] and got[1].tolist() == [9] and got[2] == 3


def test_errors():
    with gc.Graph().as_default():
        table = gc.lookup.index_table_from_tensor(["a"])
        with pytest.raises(TypeError):
            table.lookup(gc.constant([1]))
        missing = gc.lookup.index_table_from_file("/nonexistent/vocab.txt", vocab_size=3)
        with pytest.raises(gc.errors.InvalidArgumentError, match="No such file"):
            _run(missing.lookup(gc.constant(["x"])))
