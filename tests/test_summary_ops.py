"""The summary ops (graphc/summary/): tags, scopes and collections as TF1 makes them, and
values read back as TensorBoard's protobufs, checked against independent implementations
(histogram buckets by TF's C++ loop, PNG decoded by Pillow, WAV by the wave module)."""
import io
import sys
import wave

import numpy as np
import pytest

import graphc as gc
from graphc import registry

pytest.importorskip("tensorboard")
from PIL import Image  # noqa: E402 - a dependency of tensorboard
from tensorboard.compat.proto.summary_pb2 import Summary  # noqa: E402
from tensorboard.util.tensor_util import make_ndarray  # noqa: E402

SUMMARY_OPS = ("scalar_summary", "histogram_summary", "image_summary", "audio_summary",
               "tensor_summary", "merge_summary")


def run(fetch, feed=None):
    with gc.Session(graph=fetch.graph) as sess:
        value = sess.run(fetch, feed)
    assert isinstance(value, bytes)
    return Summary.FromString(value)


def test_tags_follow_name_scopes_uniqueness_and_family(graph):
    loss = gc.constant(0.25, name="loss")
    first = gc.summary.scalar("loss", loss)  # the op "loss" exists: TF1 makes it loss_1
    with gc.name_scope("eval"):
        scoped = gc.summary.scalar("accuracy", loss)
    family = gc.summary.scalar("xent", loss, family="train")
    cleaned = gc.summary.scalar("loss (raw)", loss)
    assert [t.op.name for t in (first, scoped, family, cleaned)] == [
        "loss_1", "eval/accuracy", "train/xent", "loss__raw_"]
    assert [run(t).value[0].tag for t in (first, scoped, family, cleaned)] == [
        "loss_1", "eval/accuracy", "train/train/xent", "loss__raw_"]
    assert first.dtype is gc.string and first.shape.rank == 0
    assert gc.get_collection(gc.GraphKeys.SUMMARIES) == [first, scoped, family, cleaned]


def test_scalar_value_and_its_errors(graph):
    x = gc.placeholder(gc.float32, None)
    summary = gc.summary.scalar("x", x * 2.0)
    assert run(summary, {x: 1.25}).value[0].simple_value == 2.5
    vector, flag = gc.zeros([3]), gc.constant(True)
    before = len(graph.get_operations())
    with pytest.raises(ValueError, match="needs a scalar, got shape"):
        gc.summary.scalar("v", vector)
    with pytest.raises(TypeError, match="needs a real number tensor, got bool"):
        gc.summary.scalar("b", flag)
    assert len(graph.get_operations()) == before
    assert gc.summary.scalar("v", 1.0).op.name == "v"  # the failed build left the name free
    assert gc.get_collection(gc.GraphKeys.SUMMARIES)[0] is summary
    with gc.Session() as sess, pytest.raises(gc.errors.InvalidArgumentError,
                                             match="tags and values are not the same shape"):
        sess.run(summary, {x: [1.0, 2.0]})


def tf_histogram(values):
    """TF's Histogram::Add and EncodeToProto, written as the C++ loops are."""
    positive, v = [], 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    limits = [-p for p in reversed(positive)] + [0.0] + positive
    counts = [0.0] * len(limits)
    for value in values:
        counts[next((i for i, limit in enumerate(limits) if limit > value), -1)] += 1
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        end, count, j = limits[i], counts[i], i + 1
        while count <= 0 and j < len(counts) and counts[j] <= 0:
            end, count, j = limits[j], counts[j], j + 1
        out_limits.append(end)
        out_counts.append(count)
        i = j
    return out_limits, out_counts


def test_histogram_buckets_are_tf1s(graph):
    values = np.array([[0.0, 1e-13, -3.5, 2.0], [2.0, 2.05, 1e6, -1e-3]], np.float32)
    histo = run(gc.summary.histogram("w", gc.constant(values))).value[0].histo
    as_double = values.astype(np.float64).ravel()
    assert (histo.min, histo.max, histo.num) == (-3.5, 1e6, 8)
    assert histo.sum == pytest.approx(as_double.sum(), rel=1e-15)
    assert histo.sum_squares == pytest.approx(np.sum(as_double ** 2), rel=1e-15)
    limits, counts = tf_histogram(as_double)
    assert list(histo.bucket_limit) == limits and list(histo.bucket) == counts
    assert sum(histo.bucket) == 8 and len(histo.bucket) < 20


def test_histogram_values_on_bucket_limits_go_to_the_next_bucket(graph):
    from graphc.summary.histogram import DEFAULT_BUCKET_LIMITS as limits
    values = np.array([limits[0], limits[1], -1e-12, 0.0, limits[900], limits[900],
                       np.nextafter(limits[900], 0), limits[-1]])
    histo = run(gc.summary.histogram("edges", gc.constant(values))).value[0].histo
    assert (list(histo.bucket_limit), list(histo.bucket)) == tf_histogram(values)
    assert histo.bucket[-1] == 1  # DBL_MAX itself counts in the last bucket


def test_histogram_of_nan_fails_the_run_but_an_unfetched_one_does_not_run(graph):
    x = gc.placeholder(gc.float32, [None])
    gc.summary.histogram("activations", gc.log(x))
    loss = gc.reduce_sum(x)
    with gc.Session() as sess:
        assert sess.run(loss, {x: [-1.0, 2.0]}) == 1.0  # the summary is no part of this run
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match="Nan in summary histogram for: activations"):
            sess.run(gc.summary.merge_all(), {x: [-1.0, 2.0]})


def decoded(image_value):
    pixels = np.asarray(Image.open(io.BytesIO(image_value.encoded_image_string)))
    return pixels.reshape(image_value.height, image_value.width, -1)


def test_images_are_pngs_scaled_as_tf1_scales_them(graph):
    rng = np.random.RandomState(0)
    positive = rng.uniform(0, 2, (3, 4, 5, 3)).astype(np.float32)
    signed = rng.uniform(-1, 3, (1, 2, 6, 1)).astype(np.float32)
    signed[0, 1, 2, 0] = np.nan
    batch = gc.summary.image("positive", gc.constant(positive), max_outputs=2)
    one = gc.summary.image("signed", gc.constant(signed), max_outputs=1)
    raw = gc.summary.image("raw", gc.constant(np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3)))
    values = run(batch).value
    assert [v.tag for v in values] == ["positive/image/0", "positive/image/1"]
    for value, image in zip(values, positive):
        assert (value.image.height, value.image.width, value.image.colorspace) == (4, 5, 3)
        expected = (image * (255 / image.max())).astype(np.uint8)
        np.testing.assert_array_equal(decoded(value.image), expected)
    (value,) = run(one).value
    assert value.tag == "signed/image"
    finite = signed[0][np.isfinite(signed[0])]
    expected = (signed[0] * (127 / np.abs(finite).max()) + 128)
    expected = np.where(np.isfinite(expected), expected, 0).astype(np.uint8)
    expected[1, 2] = 255  # a NaN pixel is bad_color: red, cut to one channel
    np.testing.assert_array_equal(decoded(value.image), expected)
    np.testing.assert_array_equal(decoded(run(raw).value[0].image), np.arange(12).reshape(2, 2, 3))


@pytest.mark.parametrize("images,kwargs,error,match", [
    (np.zeros((2, 3, 3), np.float32), {}, ValueError, "needs images of shape"),
    (np.zeros((1, 3, 3, 2), np.float32), {}, ValueError, "with 1, 3 or 4 channels"),
    (np.zeros((1, 3, 3, 1), np.float32), {"max_outputs": 0}, ValueError, "max_outputs must"),
    (np.zeros((1, 3, 3, 1), np.int32), {}, TypeError, "uint8, float16, float32 or float64"),
])
def test_bad_images_are_refused_when_built(graph, images, kwargs, error, match):
    with pytest.raises(error, match=match):
        gc.summary.image("bad", gc.constant(images), **kwargs)
    assert not gc.get_collection(gc.GraphKeys.SUMMARIES)


def test_audio_is_16_bit_wav(graph):
    t = np.arange(200, dtype=np.float32) / 8000
    clips = np.stack([np.sin(2 * np.pi * 440 * t), 1.5 * np.cos(2 * np.pi * 220 * t)])
    stereo = np.stack([clips.T, -clips.T])  # [2 clips, 200 frames, 2 channels]
    mono = run(gc.summary.audio("mono", gc.constant(clips), 8000, max_outputs=1)).value
    both = run(gc.summary.audio("stereo", gc.constant(stereo), 8000.0)).value
    assert [v.tag for v in mono] == ["mono/audio"]
    assert [v.tag for v in both] == ["stereo/audio/0", "stereo/audio/1"]
    audio = both[1].audio
    assert (audio.sample_rate, audio.num_channels, audio.length_frames) == (8000, 2, 200)
    assert audio.content_type == "audio/wav"
    with wave.open(io.BytesIO(audio.encoded_audio_string)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 2, 2)
        samples = np.frombuffer(wav.readframes(200), "<i2").reshape(200, 2)
    scaled = stereo[1].astype(np.float64) * 32768
    expected = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -32768, 32767)
    np.testing.assert_array_equal(samples, expected)


def test_text_summaries_hold_string_tensors_for_the_text_plugin(graph):
    note = gc.placeholder(gc.string, [])
    table = gc.constant([["a", "b"], ["ü", "d"]])
    values = run(gc.summary.merge([gc.summary.text("note", note),
                                   gc.summary.text("table", table)]),
                 {note: "step **3**"}).value
    assert [v.tag for v in values] == ["note", "table"]
    assert all(v.metadata.plugin_data.plugin_name == "text" for v in values)
    assert make_ndarray(values[0].tensor) == b"step **3**"
    assert make_ndarray(values[1].tensor).tolist() == [[b"a", b"b"], ["ü".encode(), b"d"]]
    with pytest.raises(ValueError, match="to have dtype string, got float32"):
        gc.summary.text("number", gc.constant(1.0))


def test_tensor_summary_keeps_the_tensor_and_metadata(graph):
    values = np.arange(6, dtype=np.int32).reshape(2, 3)
    summary = gc.summary.tensor_summary("t", values, summary_description="counts",
                                        display_name="Counts")
    (value,) = run(summary).value
    np.testing.assert_array_equal(make_ndarray(value.tensor), values)
    assert (value.metadata.display_name, value.metadata.summary_description) == ("Counts",
                                                                                "counts")


def test_merge_concatenates_and_refuses_duplicate_tags(graph):
    a = gc.summary.scalar("a", 1.0)
    b = gc.summary.histogram("b", [1.0, 2.0], collections=["extra"])
    merged = gc.summary.merge([a, b])
    assert merged.op.name == "Merge/MergeSummary"
    assert [v.tag for v in run(merged).value] == ["a", "b"]
    assert [v.tag for v in run(gc.summary.merge_all()).value] == ["a"]  # b is not in SUMMARIES
    assert [v.tag for v in run(gc.summary.merge_all("extra")).value] == ["b"]
    assert gc.summary.merge_all("empty") is None
    twice = gc.summary.merge([a, merged], name="twice")
    assert twice.op.name == "twice/twice"
    with gc.Session() as sess, pytest.raises(gc.errors.InvalidArgumentError,
                                             match="Duplicate tag a found in summary inputs"):
        sess.run(twice)
    with pytest.raises(TypeError, match="merges string tensors"):
        gc.summary.merge([a, gc.constant(1.0)])


def test_merge_all_scope_filters_by_name(graph):
    with gc.name_scope("train"):
        gc.summary.scalar("loss", 1.0)
    gc.summary.scalar("lr", 0.1)
    assert [v.tag for v in run(gc.summary.merge_all(scope="train")).value] == ["train/loss"]


def test_summary_ops_are_pure_not_foldable_and_not_differentiable():
    for name in SUMMARY_OPS:
        opdef = registry.get(name)
        assert not opdef.stateful and not opdef.foldable and not opdef.random
        assert opdef.grad is registry.NOT_DIFFERENTIABLE


def test_a_missing_tensorboard_is_named_where_the_summary_is_built(graph, monkeypatch):
    from graphc.summary import protos
    protos.protos.cache_clear()
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    try:
        with pytest.raises(ImportError, match=r"pip install 'graphc\[tensorboard\]'"):
            gc.summary.scalar("loss", 1.0)
        with pytest.raises(ImportError, match="graphc.tensorboard"):
            gc.summary.FileWriter("unused")
    finally:
        protos.protos.cache_clear()
    assert graph.get_operations() == [] and not gc.get_collection(gc.GraphKeys.SUMMARIES)


def test_string_tensors_hold_utf8_bytes(graph):
    """gc.string (the dtype of summaries and of what tf.summary.text shows)."""
    words = gc.placeholder(gc.string, [None], name="words")
    mixed = gc.constant(["é", b"b"])
    assert gc.as_dtype("string") is gc.string and gc.as_dtype(np.str_) is gc.string
    assert mixed.dtype is gc.string and gc.constant("x").shape.rank == 0
    with gc.Session() as sess:
        fed = sess.run(gc.identity(words), {words: ["a", "bc"]})
        assert fed.dtype == object and fed.tolist() == [b"a", b"bc"]
        assert sess.run(mixed).tolist() == ["é".encode("utf-8"), b"b"]
        with pytest.raises(TypeError, match="elements are no str or bytes"):
            sess.run(words, {words: [1, 2]})
    with pytest.raises(TypeError, match="to a tensor of dtype string"):
        gc.constant([1.0], dtype=gc.string)
    with pytest.raises(TypeError, match="requires a numeric input, got string"):
        mixed + mixed


def test_string_constants_survive_a_graph_def_round_trip(graph):
    """A text summary of a constant is saved with the graph (Saver's meta graph)."""
    gc.summary.text("note", gc.constant([["a", "ü"], ["", "d"]]))
    data = graph.as_graph_def().SerializeToString()
    restored = gc.Graph()
    with restored.as_default():
        gc.import_graph_def(gc.GraphDef.FromString(data), name="")
        with gc.Session() as sess:
            value = Summary.FromString(sess.run("note:0")).value[0]
    assert make_ndarray(value.tensor).tolist() == [[b"a", "ü".encode()], [b"", b"d"]]
