"""tf.gfile / tf.io.gfile on the local filesystem: GFile round trips in text and binary
modes, the directory functions, both spellings, and TF's errors for missing and existing
paths (which change nothing)."""
import os

import numpy as np
import pytest

import graphc as tf
from graphc import errors


def test_gfile_text_round_trip_read_readline_iteration_seek_tell_size(tmp_path):
    path = str(tmp_path / "notes.txt")
    with tf.io.gfile.GFile(path, "w") as f:
        f.write("alpha\n")
        f.write("beta\ngamma\n")
        assert f.size() == 17
    with tf.gfile.GFile(path) as f:
        assert f.read(3) == "alp" and f.tell() == 3
        assert f.readline() == "ha\n"
        assert list(f) == ["beta\n", "gamma\n"]
        f.seek(0)
        assert f.readlines() == ["alpha\n", "beta\n", "gamma\n"]
        f.seek(position=6)
        assert f.read() == "beta\ngamma\n"
        assert f.size() == 17
    with tf.gfile.Open(path, "a") as f:
        f.write(b"delta\n")  # TF's GFile also takes bytes in text mode
    with tf.gfile.FastGFile(path, "rb") as f:
        data = f.read()
    assert isinstance(data, bytes) and data.endswith(b"gamma\ndelta\n")


def test_text_mode_is_utf8_and_keeps_carriage_returns_as_tfs(tmp_path):
    path = str(tmp_path / "crlf.txt")
    with open(path, "wb") as f:
        f.write("caf\u00e9\r\nline two\rstill two\n".encode())
    with tf.io.gfile.GFile(path) as f:
        assert f.readlines() == ["caf\u00e9\r\n", "line two\rstill two\n"]
    with tf.io.gfile.GFile(path, "w") as f:
        f.write("a\r\nb\n")
    assert open(path, "rb").read() == b"a\r\nb\n"


def test_gfile_opens_lazily_and_checks_its_mode(tmp_path):
    path = str(tmp_path / "later.bin")
    reader = tf.io.gfile.GFile(path, "rb")  # no error yet: opened on first use, as TF's
    with pytest.raises(errors.NotFoundError, match="later.bin"):
        reader.read()
    writer = tf.io.gfile.GFile(path, "wb")
    assert not os.path.exists(path)
    with pytest.raises(errors.PermissionDeniedError, match="isn't open for reading"):
        writer.read()
    writer.write(np.arange(3, dtype=np.uint8).tobytes())
    writer.close()
    with pytest.raises(errors.PermissionDeniedError, match="isn't open for writing"):
        tf.io.gfile.GFile(path, "rb").write(b"x")
    assert open(path, "rb").read() == b"\x00\x01\x02"
    with tf.io.gfile.GFile(str(tmp_path / "empty"), "w"):
        pass
    assert os.path.getsize(tmp_path / "empty") == 0  # created at close
    with pytest.raises(errors.InvalidArgumentError, match="invalid mode"):
        tf.io.gfile.GFile(path, "x")


def test_directory_functions_in_both_spellings(tmp_path):
    gfile = tf.io.gfile
    root = str(tmp_path / "a")
    gfile.makedirs(os.path.join(root, "b", "c"))
    tf.gfile.MakeDirs(os.path.join(root, "b", "c"))  # exists already: fine
    for name in ("one.txt", "b/two.txt", "b/c/three.log"):
        with gfile.GFile(os.path.join(root, name), "w") as f:
            f.write(name)
    assert gfile.exists(root) and tf.gfile.Exists(os.path.join(root, "one.txt"))
    assert gfile.isdir(os.path.join(root, "b")) and not tf.gfile.IsDirectory(
        os.path.join(root, "one.txt"))
    assert gfile.listdir(root) == ["b", "one.txt"] == tf.gfile.ListDirectory(root)
    assert gfile.glob(os.path.join(root, "*", "*.txt")) == [os.path.join(root, "b", "two.txt")]
    assert tf.gfile.Glob([os.path.join(root, "*.txt"), os.path.join(root, "b", "c", "*")]) \
        == [os.path.join(root, "b", "c", "three.log"), os.path.join(root, "one.txt")]
    walked = {d: (sorted(s), sorted(f)) for d, s, f in gfile.walk(root)}
    assert walked[os.path.join(root, "b")] == (["c"], ["two.txt"])
    stats = gfile.stat(os.path.join(root, "one.txt"))
    assert stats.length == 7 and not stats.is_directory and stats.mtime_nsec > 0
    assert tf.gfile.Stat(root).is_directory

    gfile.copy(os.path.join(root, "one.txt"), os.path.join(root, "copy.txt"))
    gfile.rename(os.path.join(root, "copy.txt"), os.path.join(root, "moved.txt"))
    assert gfile.GFile(os.path.join(root, "moved.txt")).read() == "one.txt"
    gfile.remove(os.path.join(root, "moved.txt"))
    tf.gfile.DeleteRecursively(os.path.join(root, "b"))
    assert gfile.listdir(root) == ["one.txt"]
    gfile.mkdir(os.path.join(root, "new"))
    assert gfile.isdir(os.path.join(root, "new"))
    assert gfile.rmtree is tf.gfile.DeleteRecursively


def test_errors_are_tfs_and_change_nothing(tmp_path):
    gfile = tf.io.gfile
    missing = str(tmp_path / "missing")
    src, dst = str(tmp_path / "src"), str(tmp_path / "dst")
    for path, text in ((src, "source"), (dst, "target")):
        with gfile.GFile(path, "w") as f:
            f.write(text)
    for call in (lambda: gfile.remove(missing), lambda: gfile.stat(missing),
                 lambda: gfile.listdir(missing), lambda: gfile.rmtree(missing),
                 lambda: gfile.rename(missing, str(tmp_path / "x")),
                 lambda: gfile.copy(missing, str(tmp_path / "x")),
                 lambda: gfile.mkdir(str(tmp_path / "no" / "parent"))):
        with pytest.raises(errors.NotFoundError):
            call()
    with pytest.raises(errors.AlreadyExistsError, match="dst"):
        gfile.rename(src, dst)
    with pytest.raises(errors.AlreadyExistsError, match="dst"):
        gfile.copy(src, dst)
    with pytest.raises(errors.AlreadyExistsError):
        gfile.mkdir(str(tmp_path))
    with pytest.raises(errors.FailedPreconditionError):
        gfile.rmtree(src)  # a file, not a directory: left alone
    assert open(src).read() == "source" and open(dst).read() == "target"
    gfile.copy(src, dst, overwrite=True)
    assert open(dst).read() == "source"
    assert list(gfile.walk(missing)) == []
    assert sorted(os.listdir(tmp_path)) == ["dst", "src"]


def test_tf_io_reads_writes_and_serializes_in_graphs(tmp_path):
    tf.reset_default_graph()
    source = str(tmp_path / "in.txt")
    with tf.io.gfile.GFile(source, "w") as f:
        f.write("payload")
    name = tf.placeholder(tf.string, [])
    contents = tf.io.read_file(name)
    write = tf.io.write_file(str(tmp_path / "out.txt"), contents)
    weights = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    parsed = tf.io.parse_tensor(tf.io.serialize_tensor(weights), tf.float32)
    wrong = tf.io.parse_tensor(tf.io.serialize_tensor(weights), tf.int32)
    with tf.Session() as sess:
        assert sess.run(contents, {name: source}) == b"payload"
        sess.run(write, {name: source})
        np.testing.assert_array_equal(sess.run(parsed), np.arange(6).reshape(2, 3))
        with pytest.raises(errors.InvalidArgumentError, match="NotFoundError.*nope"):
            sess.run(contents, {name: str(tmp_path / "nope")})
        with pytest.raises(errors.InvalidArgumentError, match="type mismatch"):
            sess.run(wrong)
    assert open(tmp_path / "out.txt").read() == "payload"
    assert tf.io.gfile is tf.gfile
    with pytest.raises(TypeError, match="ReadFile"):  # py_func ops stay in-process
        tf.io.write_graph(tf.get_default_graph(), str(tmp_path), "g.pbtxt")
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="one")
    path = tf.io.write_graph(graph.as_graph_def(), str(tmp_path), "g.pbtxt")
    assert path == os.path.join(str(tmp_path), "g.pbtxt")
    with tf.io.gfile.GFile(path, "rb") as f:
        assert [n.name for n in tf.GraphDef.FromString(f.read()).node] == ["one"]
