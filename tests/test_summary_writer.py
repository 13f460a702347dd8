"""FileWriter writes event files TensorBoard reads: read back with TensorBoard's own
EventAccumulator (scalars, histograms, images, text per step, the graph) and event loader."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

import graphc as gc

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.compat.proto.summary_pb2 import Summary  # noqa: E402
from tensorboard.util.tensor_util import make_ndarray  # noqa: E402


def accumulated(logdir):
    keep_all = {kind: 0 for kind in (event_accumulator.SCALARS, event_accumulator.IMAGES,
                                     event_accumulator.HISTOGRAMS, event_accumulator.TENSORS,
                                     event_accumulator.AUDIO)}
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance=keep_all)
    acc.Reload()
    return acc


def small_model():
    x = gc.placeholder(gc.float32, [None, 4], name="x")
    y = gc.placeholder(gc.float32, [None, 1], name="y")
    with gc.variable_scope("dense"):
        W = gc.get_variable("W", [4, 1], initializer=gc.zeros_initializer())
        b = gc.get_variable("b", [1], initializer=gc.zeros_initializer())
        prediction = gc.matmul(x, W) + b
    with gc.name_scope("loss"):
        loss = gc.reduce_mean(gc.square(prediction - y))
    train_op = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
    return x, y, W, loss, train_op


def test_training_summaries_read_back_step_by_step(graph, tmp_path):
    x, y, W, loss, train_op = small_model()
    gc.summary.scalar("loss", loss)
    gc.summary.histogram("W", W)
    gc.summary.image("inputs", gc.reshape(x, [-1, 2, 2, 1]), max_outputs=1)
    step_text = gc.placeholder(gc.string, [])
    gc.summary.text("note", step_text)
    merged = gc.summary.merge_all()
    rng = np.random.RandomState(0)
    features = rng.randn(16, 4).astype(np.float32)
    targets = features.dot([[1.0], [-2.0], [0.5], [0.0]]).astype(np.float32)
    losses, weights = [], []
    with gc.Session() as sess, gc.summary.FileWriter(tmp_path, sess.graph) as writer:
        sess.run(gc.global_variables_initializer())
        for step in range(5):
            feed = {x: features, y: targets, step_text: f"step {step}"}
            summary, value, w, _ = sess.run([merged, loss, W, train_op], feed)
            losses.append(float(value))
            weights.append(w)
            writer.add_summary(summary, global_step=step)
        assert writer.get_logdir() == str(tmp_path)
    acc = accumulated(tmp_path)
    assert acc.Tags()["graph"]
    scalars = acc.Scalars("loss_1")  # TF1's tag: the name scope "loss" is taken
    assert [e.step for e in scalars] == [0, 1, 2, 3, 4]
    assert [e.value for e in scalars] == pytest.approx(losses, rel=1e-6)
    assert losses[-1] < losses[0]
    histograms = acc.Histograms("W")
    assert [e.step for e in histograms] == list(range(5))
    assert [e.histogram_value.num for e in histograms] == [4] * 5
    assert [e.histogram_value.max for e in histograms] == pytest.approx(
        [w.max() for w in weights], rel=1e-6)
    images = acc.Images("inputs/image")
    assert [(e.step, e.width, e.height) for e in images] == [(s, 2, 2) for s in range(5)]
    texts = acc.Tensors("note")
    assert [make_ndarray(e.tensor_proto).item() for e in texts] == [
        f"step {s}".encode() for s in range(5)]
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"


def test_the_graph_holds_scoped_names_ops_inputs_and_shapes(graph, tmp_path):
    x, y, W, loss, train_op = small_model()
    first, second = gc.split(x, 2, axis=1)
    with gc.control_dependencies([train_op]):
        after = gc.identity(second, name="after_train")
    with gc.summary.FileWriter(tmp_path, graph=graph):
        pass
    nodes = {node.name: node for node in accumulated(tmp_path).Graph().node}
    assert set(nodes) == {op.name for op in graph.get_operations()}
    matmul = nodes["dense/MatMul"]
    assert matmul.op == "matmul" and list(matmul.input) == ["x", "dense/W/read"]
    assert nodes["x"].op == "placeholder" and nodes["x"].attr["dtype"].type == 1  # DT_FLOAT
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1, 4]
    assert [[d.size for d in s.dim] for s in matmul.attr["_output_shapes"].list.shape] == [
        [-1, 1]]
    assert matmul.attr["T"].type == 1 and matmul.attr["transpose_a"].b is False
    assert list(nodes[after.op.name].input) == [second.op.name + ":1", "^" + train_op.name]
    assert len(nodes[first.op.name].attr["_output_shapes"].list.shape) == 2
    assert any(name.startswith("gradients/") for name in nodes)
    assert nodes[loss.op.name].op == "reduce_mean" and loss.op.name.startswith("loss/")


def test_events_after_close_are_dropped_and_reopen_starts_a_new_file(graph, tmp_path):
    def summary(value):
        return Summary(value=[Summary.Value(tag="v", simple_value=value)])
    writer = gc.summary.FileWriter(tmp_path, filename_suffix=".graphc")
    writer.add_summary(summary(1.0), 1)
    writer.close()
    writer.add_summary(summary(2.0), 2)  # TF1: dropped
    writer.reopen()
    writer.add_summary(summary(3.0).SerializeToString(), 3)
    writer.flush()
    # in the order written: by the writer counter before the suffix, a number ("...10" comes
    # after "...9"; sorting names as text fails once a process has made ten writers)
    files = sorted(glob.glob(os.path.join(tmp_path, "events.out.tfevents.*.graphc")),
                   key=lambda path: int(path.rsplit(".", 2)[-2]))
    assert len(files) == 2
    per_file = [[(e.step, e.summary.value[0].simple_value)
                 for e in gc.summary.summary_iterator(path) if e.HasField("summary")]
                for path in files]
    assert per_file == [[(1, 1.0)], [(3, 3.0)]]
    assert next(gc.summary.summary_iterator(files[0])).file_version == "brain.Event:2"
    writer.close()
    with pytest.raises(TypeError, match="add_summary takes a Summary protobuf"):
        writer.add_summary(1.5)


def test_a_tags_metadata_is_written_with_its_first_value_only(graph, tmp_path):
    note = gc.summary.text("note", gc.constant("hi"))
    with gc.Session() as sess, gc.summary.FileWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_summary(sess.run(note), step)
    events = [e for e in gc.summary.summary_iterator(glob.glob(f"{tmp_path}/events*")[0])
              if e.HasField("summary")]
    assert [e.summary.value[0].HasField("metadata") for e in events] == [True, False, False]


def test_graph_defs_of_every_kind_are_written(graph, tmp_path):
    """TF1 programs pass sess.graph_def (graphc's GraphDef) where a graph goes, too."""
    gc.constant(1.0, name="c")
    with gc.Session() as sess:
        for index, given in enumerate([sess.graph_def, gc.summary.graph_def(graph)]):
            with gc.summary.FileWriter(tmp_path / str(index), given):
                pass
            assert [n.name for n in accumulated(tmp_path / str(index)).Graph().node] == ["c"]
    with gc.summary.FileWriter(tmp_path / "2") as writer, pytest.raises(
            TypeError, match="add_graph takes a gc.Graph .* or a GraphDef, got str"):
        writer.add_graph("graph")


def test_graph_def_and_run_metadata_and_session_log_events(graph, tmp_path):
    gc.constant(1.0, name="c")
    proto = gc.summary.graph_def(graph)
    with gc.summary.FileWriter(tmp_path, graph_def=proto) as writer:
        writer.add_run_metadata(gc.RunMetadata(), "step1", global_step=1)
        writer.add_session_log(gc.SessionLog(status=gc.SessionLog.START), 0)
        with pytest.raises(ValueError, match="a graph or a graph_def, not both"):
            writer.add_graph(graph, graph_def=proto)
    acc = accumulated(tmp_path)
    assert [n.name for n in acc.Graph().node] == ["c"]
    assert acc.Tags()["run_metadata"] == ["step1"]


def test_file_writer_cache_shares_one_writer_per_logdir(graph, tmp_path):
    gc.constant(1.0, name="cached")
    writer = gc.summary.FileWriterCache.get(tmp_path / "a")
    assert gc.summary.FileWriterCache.get(tmp_path / "a") is writer
    assert gc.summary.FileWriterCache.get(tmp_path / "b") is not writer
    gc.summary.FileWriterCache.clear()
    assert gc.summary.FileWriterCache.get(tmp_path / "a") is not writer
    gc.summary.FileWriterCache.clear()
    assert [n.name for n in accumulated(tmp_path / "a").Graph().node] == ["cached"]


def test_a_writer_left_open_is_closed_when_python_exits(tmp_path):
    script = (f"import graphc as tf\n"
              f"w = tf.summary.FileWriter({str(tmp_path)!r}, flush_secs=3600)\n"
              f"w.add_summary(tf.Summary(value=[tf.Summary.Value(tag='t', simple_value=7)]), 5)\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    (path,) = glob.glob(os.path.join(tmp_path, "events.out.tfevents.*"))
    assert [(e.step, e.summary.value[0].simple_value) for e in
            gc.summary.summary_iterator(path) if e.HasField("summary")] == [(5, 7.0)]

