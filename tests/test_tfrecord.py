"""TFRecord files: CRC-32C, the writer and the readers (tf_record_iterator, TFRecordDataset)
against files TensorFlow wrote (tests/data/make_tf_records.py), compression, and damaged
files reported as DataLossError naming the file and the record's offset."""
import os
import pathlib
import struct

import numpy as np
import pytest

import graphc as gc
from graphc.records import checksum as crc
from tests.data_helpers import arrays as _all

DATA = pathlib.Path(__file__).parent / "data"
RECORDS = [b"", b"hello", bytes(range(256)) * 20, b"tail"]  # what TF wrote into the fixtures
KINDS = {"plain": "", "gzip": "GZIP", "zlib": "ZLIB"}


def test_crc32c_known_values():
    # RFC 3720 (iSCSI) B.4 and the usual check value
    assert crc.crc32c(b"123456789") == 0xE3069283
    assert crc.crc32c(bytes(32)) == 0x8A9136AA
    assert crc.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc.crc32c(bytes(range(32))) == 0x46DD794E
    assert crc.crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert crc.crc32c(b"") == 0


@pytest.mark.parametrize("size", [4, 1023, 1024, 1025, 4097, 70001])
def test_crc32c_lanes_match_the_byte_loop(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    expected = crc._raw_loop(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    assert crc.crc32c(data) == expected
    assert crc.crc32c(np.frombuffer(data, np.uint8)) == expected
    assert crc.unmask_crc32c(crc.masked_crc32c(data)) == expected


@pytest.mark.parametrize("suffix", sorted(KINDS))
def test_reads_what_tensorflow_wrote(suffix):
    path = DATA / f"tf_written_{suffix}.tfrecord"
    options = gc.python_io.TFRecordOptions(KINDS[suffix])
    assert list(gc.python_io.tf_record_iterator(str(path), options)) == RECORDS
    with gc.Graph().as_default():
        assert _all(gc.data.TFRecordDataset([str(path)], KINDS[suffix])) == RECORDS


def test_writes_the_bytes_tensorflow_writes(tmp_path):
    with gc.io.TFRecordWriter(str(tmp_path / "a.tfrecord")) as writer:
        for record in RECORDS:
            writer.write(record)
    expected = (DATA / "tf_written_plain.tfrecord").read_bytes()
    assert (tmp_path / "a.tfrecord").read_bytes() == expected


@pytest.mark.parametrize("options", ["", "GZIP", "ZLIB", gc.python_io.TFRecordCompressionType.GZIP,
                                     gc.io.TFRecordOptions("zlib", compression_level=9), None])
def test_round_trip_per_compression(tmp_path, options):
    path = str(tmp_path / "r.tfrecord")
    records = [b"x" * n for n in (0, 1, 3000)] + ["text"]
    with gc.python_io.TFRecordWriter(path, options) as writer:
        for record in records:
            writer.write(record)
    kind = gc.io.TFRecordOptions.get_compression_type_string(options)
    assert list(gc.io.tf_record_iterator(path, kind)) == records[:3] + [b"text"]
    names = gc.placeholder(gc.string, [None])
    fed = _all(gc.data.TFRecordDataset(names, compression_type=kind, buffer_size=7),
               {names: [path, path]})
    assert fed == (records[:3] + [b"text"]) * 2


def test_flushed_records_are_readable_before_close(tmp_path):
    path = str(tmp_path / "f.tfrecord.gz")
    writer = gc.io.TFRecordWriter(path, "GZIP")
    writer.write(b"early")
    writer.flush()
    assert list(gc.io.tf_record_iterator(path, "GZIP")) == [b"early"]
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")


def _damaged_copy(tmp_path, position):
    """The plain fixture with the byte at ``position`` flipped."""
    data = bytearray((DATA / "tf_written_plain.tfrecord").read_bytes())
    data[position] ^= 0x01
    path = tmp_path / "damaged.tfrecord"
    path.write_bytes(bytes(data))
    return str(path)


# record offsets in the plain fixture: 16 bytes per empty record plus the data
SECOND, THIRD = 16, 16 + 16 + 5


@pytest.mark.parametrize("position, offset, what", [
    (SECOND + 2, SECOND, "corrupted record"),          # the second record's length
    (SECOND + 12 + 1, SECOND, "corrupted record"),     # its data
    (THIRD + 12 + 4000, THIRD, "corrupted record"),    # the 5 KB record's data
    (THIRD + 8, THIRD, "corrupted record"),            # the length's CRC
])
def test_damaged_record_is_data_loss_naming_file_and_offset(tmp_path, position, offset, what):
    path = _damaged_copy(tmp_path, position)
    records = gc.io.tf_record_iterator(path)
    good = []
    with pytest.raises(gc.errors.DataLossError, match=f"damaged.tfrecord: {what} at {offset} "):
        for record in records:
            good.append(record)
    assert good == RECORDS[:RECORDS.index(b"hello") if offset == SECOND else 2]
    with gc.Graph().as_default():
        with pytest.raises(gc.errors.DataLossError, match=f"{what} at {offset} "):
            _all(gc.data.TFRecordDataset(path))


@pytest.mark.parametrize("cut", [3, 16 + 12 + 2, 16 + 12 + 5 + 2])
def test_truncated_file_is_data_loss(tmp_path, cut):
    path = tmp_path / "cut.tfrecord"
    path.write_bytes((DATA / "tf_written_plain.tfrecord").read_bytes()[:cut])
    with pytest.raises(gc.errors.DataLossError, match=r"cut.tfrecord: truncated record at \d+"):
        list(gc.python_io.tf_record_iterator(str(path)))


def test_bad_compressed_stream_and_missing_file(tmp_path):
    path = tmp_path / "not.gz"
    path.write_bytes(b"plain bytes, no gzip")
    with pytest.raises(gc.errors.DataLossError, match="not.gz: not a valid compressed stream"):
        list(gc.io.tf_record_iterator(str(path), "GZIP"))
    with pytest.raises(gc.errors.NotFoundError, match="missing.tfrecord"):
        gc.io.tf_record_iterator(str(tmp_path / "missing.tfrecord"))
    with gc.Graph().as_default():
        with pytest.raises(gc.errors.NotFoundError, match="TFRecordDataset: .*missing"):
            _all(gc.data.TFRecordDataset(str(tmp_path / "missing.tfrecord")))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="compression_type must be"):
        gc.io.TFRecordOptions("BZIP2")
    with pytest.raises(ValueError, match="compression_type must be"):
        gc.data.TFRecordDataset("a.tfrecord", compression_type="LZ4")
    with pytest.raises(ValueError, match="buffer_size"):
        gc.data.TFRecordDataset("a.tfrecord", buffer_size=-1)
    with pytest.raises(TypeError, match="filenames must be"):
        gc.data.TFRecordDataset([1, 2])


def test_write_refuses_non_bytes(tmp_path):
    with gc.io.TFRecordWriter(str(tmp_path / "t.tfrecord")) as writer:
        with pytest.raises(TypeError, match="takes bytes, got int"):
            writer.write(3)
    assert list(gc.io.tf_record_iterator(str(tmp_path / "t.tfrecord"))) == []


def test_dataset_pipeline_maps_batches_and_repeats(tmp_path):
    path = str(tmp_path / "n.tfrecord")
    with gc.io.TFRecordWriter(path) as writer:
        for value in range(5):
            writer.write(struct.pack("<i", value))
    dataset = (gc.data.TFRecordDataset(path)
               .map(lambda record: gc.io.decode_raw(record, gc.int32)[0])
               .repeat(2).batch(4))
    batches = _all(dataset)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 0, 1, 2], [3, 4]]
    assert os.path.getsize(path) == 5 * (16 + 4)


def _shards(tmp_path, count=3, per_file=3):
    for shard in range(count):
        with gc.io.TFRecordWriter(str(tmp_path / f"train-{shard}.tfrecord")) as writer:
            for index in range(per_file):
                writer.write(f"{shard}-{index}".encode())
    return str(tmp_path / "train-*.tfrecord")


def test_list_files_then_interleave_or_flat_map_shards(tmp_path):
    pattern = _shards(tmp_path)
    with gc.Graph().as_default():
        files = gc.data.Dataset.list_files(pattern, shuffle=False)
        interleaved = _all(files.interleave(gc.data.TFRecordDataset, cycle_length=2))
        in_order = _all(gc.data.TFRecordDataset(files))            # a dataset of names
        shuffled = _all(gc.data.Dataset.list_files(pattern, seed=5))
        again = _all(gc.data.Dataset.list_files([pattern], seed=5))
    assert interleaved[:4] == [b"0-0", b"1-0", b"0-1", b"1-1"] and len(interleaved) == 9
    assert in_order == [f"{s}-{i}".encode() for s in range(3) for i in range(3)]
    assert sorted(shuffled) == sorted(str(p).encode() for p in tmp_path.glob("*.tfrecord"))
    assert shuffled == again


def test_list_files_without_a_match_is_an_invalid_argument(tmp_path):
    with gc.Graph().as_default():
        names = gc.placeholder(gc.string, [None])
        files = gc.data.Dataset.list_files(names, shuffle=False)
        with pytest.raises(gc.errors.InvalidArgumentError, match="no files matched pattern: "):
            _all(files, {names: [str(tmp_path / "none-*.tfrecord")]})
        with pytest.raises(TypeError, match="file_pattern must be strings"):
            gc.data.Dataset.list_files(gc.constant([1]))
