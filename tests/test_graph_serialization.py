"""Graphs as files: as_graph_def -> bytes -> import_graph_def / meta graphs give graphs that run
with the same outputs and names; bad files are refused with clear errors and change nothing."""
import hashlib
import json
import os
import pickle
import struct

import numpy as np
import pytest

import graphc as gc
from graphc.serialization import container
from tests import registry_cases

SAMPLES, SAMPLE_IDS = registry_cases.sample_cases()


def _portable(opdef, sample):
    graph, outputs, feeds = registry_cases.build(opdef, sample)
    try:
        graph.as_graph_def().SerializeToString()
    except TypeError:  # py_func holds a Python function: refused on export (tested below)
        return None
    return graph, outputs, feeds


@pytest.mark.parametrize("opdef,sample", SAMPLES, ids=SAMPLE_IDS)
def test_every_sampled_op_survives_a_round_trip_through_bytes(opdef, sample):
    built = _portable(opdef, sample)
    if built is None:
        pytest.skip("holds a Python function")
    graph, outputs, feeds = built
    for as_text in (False, True):
        data = graph.as_graph_def().SerializeToString(as_text=as_text)
        again = gc.Graph()
        with again.as_default():
            gc.import_graph_def(gc.GraphDef.FromString(data), name="")
        assert [op.name for op in again.get_operations()] == \
            [op.name for op in graph.get_operations()]
        copies = [again.get_tensor_by_name(t.name) for t in outputs]
        assert [(t.shape.as_list() if t.shape.rank is not None else None, t.dtype)
                for t in copies] == [(t.shape.as_list() if t.shape.rank is not None else None,
                                      t.dtype) for t in outputs]
        want = registry_cases.run(graph, outputs, feeds)
        got = registry_cases.run(again, copies, {again.get_tensor_by_name(p.name): v
                                                 for p, v in feeds.items()})
        for w, g in zip(want, got):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def _model():
    """A graph with scopes, a device, control deps, variables, collections and a train op."""
    graph = gc.Graph()
    with graph.as_default():
        gc.set_random_seed(3)
        x = gc.placeholder(gc.float32, (None, 3), name="x")
        y = gc.placeholder(gc.float32, (None, 1), name="y")
        with gc.variable_scope("dense"):
            W = gc.get_variable("W", [3, 1], initializer=gc.random_normal_initializer())
            b = gc.Variable(gc.zeros([1]), name="b")
        with gc.name_scope("head"), gc.device("/cpu:0"):
            pred = gc.add(gc.matmul(x, W), b, name="pred")
        loss = gc.reduce_mean(gc.square(pred - y), name="loss")
        step = gc.train.get_or_create_global_step()
        train = gc.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step,
                                                                   name="train")
        with gc.control_dependencies([train]):
            gc.identity(loss, name="after_train")
        gc.add_to_collection("train_op", train)
        gc.add_to_collection("layer_tree", {"name": "model", "children": [
            {"name": "dense", "params": 4, "shape": (None, 1)}], "scale": float("inf")})
        init = gc.global_variables_initializer()
    return graph, init


def _train_twice(graph, sess, xs, ys):
    train = graph.get_collection("train_op")[0]
    sess.run(train, {"x:0": xs, "y:0": ys})
    return sess.run(["head/pred:0", "after_train:0"], {"x:0": xs, "y:0": ys})


def test_a_meta_graph_round_trip_keeps_names_collections_control_deps_and_results(tmp_path):
    graph, init = _model()
    path = str(tmp_path / "model.meta")
    gc.train.export_meta_graph(path, graph=graph)
    xs = np.random.RandomState(0).rand(4, 3).astype(np.float32)
    ys = xs.sum(1, keepdims=True)
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        want = _train_twice(graph, sess, xs, ys)
    again = gc.Graph()
    with again.as_default():
        saver = gc.train.import_meta_graph(path)
        assert isinstance(saver, gc.train.Saver)
        assert [v.name for v in gc.global_variables()] == ["dense/W:0", "dense/b:0",
                                                           "global_step:0"]
        assert [v.name for v in gc.trainable_variables()] == ["dense/W:0", "dense/b:0"]
        assert gc.get_collection("layer_tree") == graph.get_collection("layer_tree")
    # a meta graph without a Saver gets a new one, as in TF1: its ops come after the graph's
    names = [op.name for op in again.get_operations()]
    assert names[:len(graph)] == [op.name for op in graph.get_operations()]
    assert all(name.startswith("save/") for name in names[len(graph):])
    for op in graph.get_operations():
        copy = again.get_operation_by_name(op.name)
        assert [c.name for c in copy.control_inputs] == [c.name for c in op.control_inputs]
        assert (copy.type, copy.device, copy.location) == (op.type, op.device, op.location)
    assert again.seed == graph.seed
    with gc.Session(graph=again) as sess:
        sess.run(again.get_operation_by_name("init"))
        got = _train_twice(again, sess, xs, ys)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)
    with again.as_default(), gc.name_scope("dense"):  # scope names stay taken, as when saved
        assert gc.identity(1.0).op.name.startswith("dense_1/")


def test_import_graph_def_prefixes_names_remaps_inputs_and_returns_elements():
    graph, _ = _model()
    target = gc.Graph()
    with target.as_default():
        images = gc.placeholder(gc.float32, (None, 3), name="images")
        pred, train = gc.import_graph_def(graph.as_graph_def(), input_map={"x": images * 2.0},
                                          return_elements=["head/pred:0", "train"])
        again, = gc.import_graph_def(graph.as_graph_def(), return_elements=["head/pred:0"])
    assert pred.name == "import/head/pred:0" and train.name == "import/train"
    assert again.name == "import_1/head/pred:0"
    reads = pred.op.inputs[0].op.inputs[0]
    assert reads.op.inputs[0] is images  # x:0 was replaced by images * 2
    xs = np.ones((2, 3), np.float32)
    with gc.Session(graph=target) as sess:
        sess.run([target.get_operation_by_name("import/init")])
        W = sess.run("import/dense/W:0")
        np.testing.assert_allclose(sess.run(pred, {images: xs}), (xs * 2) @ W, rtol=1e-6)


def _broken(graph_def, edit):
    def mutate():
        nodes = {n.name: n for n in graph_def.node}
        edit(graph_def, nodes)
    return mutate


@pytest.mark.parametrize("edit,error,match", [
    (lambda gd, n: setattr(n["pred"], "op", "no_such_op"), ValueError, "no_such_op"),
    (lambda gd, n: n["pred"].input.__setitem__(0, "ghost:0"), ValueError, "ghost"),
    (lambda gd, n: n["x"].input.append("^pred"), ValueError, "cycle"),
    (lambda gd, n: n["pred"].attr.update(bogus=1), ValueError, "bogus"),
    (lambda gd, n: n["pred"].attr.update(transpose_a="yes"), ValueError, "pred"),
    (lambda gd, n: n["pred"].input.__setitem__(0, "x:7"), ValueError, "x:7"),
])
def test_bad_graph_defs_are_refused_naming_the_node_and_change_nothing(edit, error, match):
    source = gc.Graph()
    with source.as_default():
        x = gc.placeholder(gc.float32, (2, 2), name="x")
        gc.matmul(x, x, name="pred")
    graph_def = source.as_graph_def()
    _broken(graph_def, edit)()
    target = gc.Graph()
    with target.as_default():
        gc.constant(1.0, name="existing")
        before = [op.name for op in target.get_operations()]
        for prefix in ("", None):
            with pytest.raises(error, match=match):
                gc.import_graph_def(graph_def, name=prefix)
        assert [op.name for op in target.get_operations()] == before
        assert gc.identity(1.0, name="pred").op.name == "pred"  # no name was left taken
        assert target.unique_name("import", mark_used=False) == "import"


def test_input_map_errors_name_the_key():
    source = gc.Graph()
    with source.as_default():
        gc.identity(gc.placeholder(gc.float32, (2,), name="x"), name="y")
    with gc.Graph().as_default():
        wrong = gc.placeholder(gc.int32, (2,))
        with pytest.raises(ValueError, match="nope:0"):
            gc.import_graph_def(source.as_graph_def(), input_map={"nope:0": wrong})
        with pytest.raises(TypeError, match="int32.*float32"):
            gc.import_graph_def(source.as_graph_def(), input_map={"x:0": wrong})


def test_a_graph_with_a_python_function_is_refused_on_export():
    graph = gc.Graph()
    with graph.as_default():
        gc.py_func(lambda a: a, [gc.constant(1.0)], gc.float32, name="callback")
    with pytest.raises(TypeError, match="callback.func.*function"):
        graph.as_graph_def().SerializeToString()


def _signed(header: dict, data: bytes) -> bytes:
    """A container with any header, its file checksum right: what a crafted file can be."""
    text = json.dumps({"format": "graphc", "version": 1, **header}).encode()
    body = container.MAGIC + struct.pack("<IQ", 1, len(text)) + text + data
    return body + hashlib.sha256(body).digest()


def _entry(**fields):
    entry = {"name": "a", "dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8,
             "sha256": hashlib.sha256(b"\0" * 8).hexdigest()}
    entry.update(fields)
    return entry


@pytest.mark.parametrize("tensors,match", [
    ([_entry(dtype="<U4")], "dtype"),
    ([_entry(shape=[3])], "do not hold"),
    ([_entry(shape=[-2])], "invalid shape"),
    ([_entry(offset=4)], "outside the data section"),
    ([_entry(sha256="00")], "checksum"),
    ([_entry(), _entry()], "stored twice"),
    ([_entry(name=["a"])], "not a string"),
    ([{"name": "a"}], "corrupted tensor table"),
    ("nothing", "no tensor table"),
])
def test_crafted_tensor_tables_are_refused(tensors, match):
    good = _signed({"kind": "graph", "graph": {"node": []}, "tensors": [_entry()]}, b"\0" * 8)
    assert gc.GraphDef.FromString(good).node == []
    with pytest.raises(gc.errors.DataLossError, match=match):
        gc.GraphDef.FromString(_signed({"kind": "graph", "graph": {"node": []},
                                        "tensors": tensors}, b"\0" * 8))


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_files_with_pickles_object_arrays_or_unknown_tags_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pickled = pickle.dumps(_Payload())
    np.savez(tmp_path / "evil.npz", a=np.array([_Payload()], dtype=object))
    npz = (tmp_path / "evil.npz").read_bytes()
    for data in (pickled, npz):
        with pytest.raises(gc.errors.DataLossError, match="not a graphc file"):
            gc.GraphDef.FromString(data)
        path = tmp_path / "evil.meta"
        path.write_bytes(data)
        with gc.Graph().as_default(), pytest.raises(gc.errors.DataLossError):
            gc.train.import_meta_graph(str(path))
    with pytest.raises(gc.errors.DataLossError, match="object"):
        gc.GraphDef.FromString(_signed({"kind": "graph", "graph": {"node": []}, "tensors": [
            {"name": "a", "dtype": "object", "shape": [1], "offset": 0, "nbytes": 8,
             "sha256": ""}]}, b"\0" * 8))
    text = b'{"format": "graphc", "version": 1, "kind": "graph", "tensors": [], "graph": ' \
           b'{"node": [{"name": "c", "op": "const", "attr": {"value": {"$eval": "1"}}}]}}'
    with pytest.raises(ValueError, match=r"\$eval"):
        gc.GraphDef.FromString(text)
    assert not (tmp_path / "PWNED").exists()


def test_truncated_corrupted_and_other_version_graph_files_are_refused():
    graph, _ = _model()
    data = graph.as_graph_def().SerializeToString()
    for length in (len(data) // 2, 5):
        with pytest.raises(gc.errors.DataLossError, match="truncated"):
            gc.GraphDef.FromString(data[:length])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    with pytest.raises(gc.errors.DataLossError, match="checksum"):
        gc.GraphDef.FromString(bytes(flipped))
    newer = data[:8] + struct.pack("<I", container.FORMAT_VERSION + 1) + data[12:]
    with pytest.raises(gc.errors.DataLossError,
                       match=f"version {container.FORMAT_VERSION + 1}.*upgrade"):
        gc.GraphDef.FromString(newer)
    with pytest.raises(gc.errors.DataLossError, match="holds a 'graph', not a meta_graph"):
        gc.train.MetaGraphDef.FromString(data)


def test_write_graph_writes_text_or_binary_files_that_load(tmp_path):
    graph, _ = _model()
    with gc.Session(graph=graph) as sess:
        graph_def = sess.graph_def  # TF1 tutorials write this one
    for as_text, name in ((True, "graph.pbtxt"), (False, "graph.pb")):
        path = gc.train.write_graph(graph if as_text else graph_def, str(tmp_path), name,
                                    as_text=as_text)
        data = open(path, "rb").read()
        assert data.startswith(b"{") == as_text
        loaded = gc.GraphDef.FromString(data)
        assert [n.name for n in loaded.node] == [n.name for n in graph.as_graph_def().node]
