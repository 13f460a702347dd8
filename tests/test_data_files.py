"""TextLineDataset and FixedLengthRecordDataset (plain and compressed files, string tensors of
file names, missing files) and decode_raw of the records."""
import gzip
import zlib

import numpy as np
import pytest

import graphc as gc


def _all(dataset, feeds=None):
    iterator = gc.data.make_initializable_iterator(dataset)
    element = iterator.get_next()
    out = []
    with gc.Session() as sess:
        sess.run(iterator.initializer, feeds)
        while True:
            try:
                out.append(sess.run(element))
            except gc.errors.OutOfRangeError:
                return out


def test_text_lines_over_files_and_compressions(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"first\r\nsecond\n\nlast")
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"x\ny\n"))
    (tmp_path / "c.z").write_bytes(zlib.compress(b"z\n"))
    with gc.Graph().as_default():
        plain = _all(gc.data.TextLineDataset([str(tmp_path / "a.txt")]))
        packed = _all(gc.data.TextLineDataset(str(tmp_path / "b.gz"), compression_type="GZIP"))
        names = gc.placeholder(gc.string, [None])
        fed = _all(gc.data.TextLineDataset(names, compression_type="ZLIB"),
                   {names: [str(tmp_path / "c.z"), str(tmp_path / "c.z")]})
        skipped = _all(gc.data.TextLineDataset(str(tmp_path / "a.txt")).skip(1).map(
            gc.strings.upper))
    assert plain == [b"first", b"second", b"", b"last"]
    assert packed == [b"x", b"y"] and fed == [b"z", b"z"]
    assert skipped == [b"SECOND", b"", b"LAST"]


def test_fixed_length_records_and_decode_raw(tmp_path):
    records = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "r.bin").write_bytes(b"HEAD" + records.tobytes() + b"F")
    with gc.Graph().as_default():
        ds = gc.data.FixedLengthRecordDataset([str(tmp_path / "r.bin")], 4, header_bytes=4,
                                              footer_bytes=1).map(
            lambda record: gc.decode_raw(record, gc.uint8))
        got = _all(ds)
        with gc.Session() as sess:
            wide = sess.run(gc.io.decode_raw(gc.constant([b"\x01\x00\x02\x00"]), gc.int16))
            big = sess.run(gc.decode_raw(gc.constant([b"\x00\x01"]), gc.int16,
                                         little_endian=False))
    np.testing.assert_array_equal(np.stack(got), records)
    assert wide.tolist() == [[1, 2]] and big.tolist() == [[1]]


def test_missing_files_and_bad_records_fail_naming_them(tmp_path):
    (tmp_path / "odd.bin").write_bytes(b"12345")
    with gc.Graph().as_default():
        with pytest.raises(gc.errors.NotFoundError, match="nope.txt"):
            _all(gc.data.TextLineDataset(str(tmp_path / "nope.txt")))
        with pytest.raises(gc.errors.InvalidArgumentError, match="whole records of 2"):
            _all(gc.data.FixedLengthRecordDataset(str(tmp_path / "odd.bin"), 2))
        with pytest.raises(ValueError, match="compression_type must be"):
            gc.data.TextLineDataset("x", compression_type="BZ2")
        with pytest.raises(gc.errors.InvalidArgumentError, match="DecodeRaw.*one length"):
            with gc.Session() as sess:
                sess.run(gc.decode_raw(gc.constant([b"ab", b"abc"]), gc.uint8))


def test_bytes_keep_their_trailing_nul_bytes():
    # NumPy's fixed-width "S" arrays drop them; a string tensor holds bytes exactly
    with gc.Graph().as_default(), gc.Session() as sess:
        holder = gc.placeholder(gc.string, [None])
        got = sess.run([gc.constant([b"\x01\x00", b"a"]), gc.constant(b"z\x00\x00"), holder],
                       {holder: [b"x\x00"]})
    assert got[0].tolist() == [b"\x01\x00", b"a"] and got[1] == b"z\x00\x00"
    assert got[2].tolist() == [b"x\x00"]
