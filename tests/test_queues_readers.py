"""TF1's readers on file-name queues: records, TF1's keys (checked against TensorFlow 2.21),
read_up_to, the counters, reset, and errors."""
import pytest

import graphc as gc
from tests.queue_threads import no_thread_left  # noqa: F401 - autouse fixture


def _files(tmp_path, **contents):
    paths = {}
    for name, data in contents.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def _queue_of(paths):
    q = gc.FIFOQueue(10, gc.string, shapes=[[]])
    return q, q.enqueue_many([list(paths)]), q.close()


def test_text_line_reader_keys_skip_header_and_line_endings(graph, tmp_path):
    paths = _files(tmp_path, **{"a.txt": b"h1\nl1\r\nl2\n\nl4", "b.txt": b"m1\nm2\n"})
    q, fill, close = _queue_of(paths.values())
    reader = gc.TextLineReader(skip_header_lines=1)
    key, value = reader.read(q)
    assert (key.op.name, key.dtype, key.shape.as_list()) == ("ReaderReadV2", gc.string, [])
    with gc.Session() as sess:
        sess.run([fill, close])
        records = [sess.run([key, value]) for _ in range(5)]
        with pytest.raises(gc.errors.OutOfRangeError, match="is closed and has insufficient"):
            sess.run(value)
        counts = sess.run([reader.num_records_produced(), reader.num_work_units_completed()])
    a, b = paths["a.txt"], paths["b.txt"]
    assert records == [[f"{a}:2".encode(), b"l1"], [f"{a}:3".encode(), b"l2"],
                       [f"{a}:4".encode(), b""], [f"{a}:5".encode(), b"l4"],
                       [f"{b}:2".encode(), b"m2"]]
    assert counts == [5, 2]


def test_fixed_length_record_reader_header_footer_and_hop(graph, tmp_path):
    data = bytes(range(2)) + bytes(range(10, 30)) + b"FF"
    path = _files(tmp_path, **{"f.bin": data})["f.bin"]
    for hop, starts in [(0, [2, 7, 12, 17]), (3, [2, 5, 8, 11, 14, 17])]:
        g = gc.Graph()
        with g.as_default():
            q, fill, close = _queue_of([path])
            key, value = gc.FixedLengthRecordReader(record_bytes=5, header_bytes=2,
                                                    footer_bytes=2, hop_bytes=hop).read(q)
            with gc.Session() as sess:
                sess.run([fill, close])
                got = [sess.run([key, value]) for _ in starts]
                with pytest.raises(gc.errors.OutOfRangeError):
                    sess.run(key)
        assert got == [[f"{path}:{i}".encode(), data[s:s + 5]] for i, s in enumerate(starts)]


def test_whole_file_and_identity_readers(graph, tmp_path):
    paths = _files(tmp_path, **{"x.bin": b"\x00\x01xyz"})
    q = gc.FIFOQueue(10, gc.string, shapes=[[]])
    whole, identity = gc.WholeFileReader().read(q), gc.IdentityReader().read(q)
    with gc.Session() as sess:
        sess.run(q.enqueue_many([[paths["x.bin"], "work-1"]]))
        assert sess.run(list(whole)) == [paths["x.bin"].encode(), b"\x00\x01xyz"]
        assert sess.run(list(identity)) == [b"work-1", b"work-1"]


def test_read_up_to_stops_at_the_end_of_a_file(graph, tmp_path):
    paths = _files(tmp_path, **{"a.txt": b"1\n2\n3\n", "b.txt": b"4\n5\n"})
    q, fill, close = _queue_of(paths.values())
    reader = gc.TextLineReader()
    keys, values = reader.read_up_to(q, 2)
    assert values.shape.as_list() == [None]
    with gc.Session() as sess:
        sess.run([fill, close])
        batches = [sess.run(values).tolist() for _ in range(3)]
        assert batches == [[b"1", b"2"], [b"3"], [b"4", b"5"]]
        assert sess.run(reader.num_records_produced()) == 5
        sess.run(reader.reset())
        assert sess.run([reader.num_records_produced(),
                         reader.num_work_units_completed()]) == [0, 0]


def test_a_missing_file_is_not_found_and_the_reader_moves_on(graph, tmp_path):
    paths = _files(tmp_path, **{"ok.txt": b"fine\n"})
    q, fill, close = _queue_of([str(tmp_path / "missing.txt"), paths["ok.txt"]])
    value = gc.TextLineReader().read(q)[1]
    with gc.Session() as sess:
        sess.run([fill, close])
        with pytest.raises(gc.errors.NotFoundError, match="missing.txt; No such file"):
            sess.run(value)
        assert sess.run(value) == b"fine"


def test_readers_need_a_string_queue_and_valid_sizes(graph):
    numbers = gc.FIFOQueue(3, gc.int32)
    with pytest.raises(TypeError, match="queue of strings"):
        gc.WholeFileReader().read(numbers)
    with pytest.raises(ValueError, match="record_bytes must be positive"):
        gc.FixedLengthRecordReader(record_bytes=0)
    with pytest.raises(ValueError, match="skip_header_lines"):
        gc.TextLineReader(skip_header_lines=-1)


def test_read_waits_for_work_and_two_sessions_read_apart(graph, tmp_path):
    paths = _files(tmp_path, **{"a.txt": b"1\n2\n"})
    q, fill, _ = _queue_of(paths.values())
    value = gc.TextLineReader().read(q)[1]
    with gc.Session() as first, gc.Session() as second:
        first.run(fill)
        second.run(fill)
        assert [first.run(value), first.run(value), second.run(value)] == [b"1", b"2", b"1"]


def test_read_file_and_matching_files_at_the_top_level(graph, tmp_path):
    paths = _files(tmp_path, **{"a.csv": b"1,2", "b.csv": b"3"})
    contents = gc.read_file(paths["a.csv"])
    found = gc.matching_files(str(tmp_path / "*.csv"))
    with gc.Session() as sess:
        assert sess.run(contents) == b"1,2"
        assert sess.run(found).tolist() == sorted(p.encode() for p in paths.values())
    assert gc.io.read_file is gc.read_file
