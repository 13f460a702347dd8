"""TF's Fingerprint64 (graphc/ops/fingerprint.py), string_to_hash_bucket_fast and the lookup
tables' out-of-vocabulary buckets, against values TensorFlow 2.21 computed (2026-12-01)."""
import numpy as np
import pytest

import graphc as gc
from graphc.ops.fingerprint import fingerprint64


def cases():
    """Every length class of FarmHash's code paths (0-16, 17-32, 33-64, longer), text and
    random bytes."""
    fixed = [b"", b"a", b"ab", b"abc", b"abcd", b"hello", b"12345678", b"123456789"]
    fixed += [bytes([c]) * n for c, n in zip(b"xyzqwertuiop", (16, 17, 31, 32, 33, 63, 64, 65,
                                                                 127, 128, 129, 200))]
    fixed += ["héllo wörld".encode()]
    rng = np.random.default_rng(7)
    return fixed + [rng.integers(0, 256, n, dtype=np.uint8).tobytes()
                    for n in (5, 12, 20, 40, 70, 100, 150, 300, 1000)]


# tf.strings.to_hash_bucket_fast(cases(), 2**62) and (cases(), 1000) in TensorFlow 2.21
TF_MOD_2_62 = [
    1936946117179621455, 3694432073954588131, 3066228220894225694, 2640714258260161385,
    1897425971756105985, 3786372426573024488, 3430003927990384362, 2490690402781879402,
    3320895591121647644, 426471879119003573, 474763799876683996, 1941001213046687809,
    1065610773926128234, 1934457854681124947, 2541438898951119077, 203880748424968752,
    1127021153988168869, 1603948805997071650, 3992689543510086223, 3870294537992230001,
    4390285103997208723, 3970867584290238648, 1528397640166310424, 2222054792042290799,
    893488555335079455, 413839178306596178, 3203316313315808393, 99107038891070077,
    970716059563909065, 3774337121771569487]
TF_MOD_1000 = [263, 939, 502, 385, 985, 296, 362, 306, 644, 573, 900, 617, 42, 755, 77, 464,
               773, 554, 127, 1, 627, 648, 424, 703, 167, 178, 297, 981, 969, 199]


def test_fingerprint64_is_tfs():
    assert [fingerprint64(s) % 2 ** 62 for s in cases()] == TF_MOD_2_62
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F  # k2, FarmHash's empty-string value


def test_to_hash_bucket_fast_op_gives_tfs_buckets():
    strings = np.array(cases(), dtype=object).reshape(5, 6)
    with gc.Graph().as_default():
        buckets = gc.strings.to_hash_bucket_fast(strings, 1000)
        top = gc.string_to_hash_bucket_fast(gc.constant([["hello"]]), 1000)
        empty = gc.strings.to_hash_bucket_fast(
            gc.constant(np.zeros((0, 3), dtype=object), dtype=gc.string), 7)
        with gc.Session() as sess:
            got, got_top, got_empty = sess.run([buckets, top, empty])
    assert got.dtype == np.int64 and got.reshape(-1).tolist() == TF_MOD_1000
    assert got_top.tolist() == [[296]] and got_empty.shape == (0, 3)


def test_bad_inputs_are_named():
    with gc.Graph().as_default():
        with pytest.raises(TypeError, match="must be a string tensor, got int32"):
            gc.strings.to_hash_bucket_fast([1, 2], 10)
        with pytest.raises(ValueError, match="num_buckets must be at least 1"):
            gc.strings.to_hash_bucket_fast(["a"], 0)


def test_lookup_tables_put_unknown_words_in_tfs_buckets():
    """TF 2.21: index_table_from_tensor([...], num_oov_buckets=3) gave these ids."""
    with gc.Graph().as_default():
        words = gc.lookup.index_table_from_tensor(["emerson", "lake", "palmer"],
                                                  num_oov_buckets=3)
        ids = words.lookup(gc.constant(["emerson", "and", "palmer", "zebra", "lake", "x"]))
        numbers = gc.lookup.index_table_from_tensor(gc.constant([10, 20], gc.int64),
                                                    num_oov_buckets=4, dtype=gc.int64)
        number_ids = numbers.lookup(gc.constant([20, 5, 10, 7, 123456], gc.int64))
        hashed_only = gc.lookup.IdTableWithHashBuckets(None, 5).lookup(gc.constant(["x"]))
        with gc.Session() as sess:
            sess.run(gc.tables_initializer())
            got = sess.run([ids, words.size(), number_ids, hashed_only])
    assert got[0].tolist() == [0, 3, 2, 5, 1, 5] and got[1] == 6
    assert got[2].tolist() == [1, 5, 0, 2, 4]
    assert got[3].tolist() == [fingerprint64(b"x") % 5]


def test_strong_hash_is_refused_by_name():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="only FastHashSpec"):
            gc.lookup.index_table_from_tensor(["a"], num_oov_buckets=2,
                                              hasher_spec=gc.lookup.StrongHashSpec([1, 2]))
