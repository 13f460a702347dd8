"""tf.metrics and tf.confusion_matrix: TF1's results and variable names on a two-batch
scenario (tests/metrics_scenario.py; the TF1 results were stored by
tests/data/make_tf_metrics.py), plus the behaviour around them."""
import os

import numpy as np
import pytest

import graphc as gc
from tests import metrics_scenario

TF_RESULTS = os.path.join(os.path.dirname(__file__), "data", "tf_metrics.npz")


@pytest.fixture(scope="module")
def graphc_results():
    with gc.Graph().as_default(), gc.Session() as sess:
        return metrics_scenario.run(gc, sess)


def _tf_keys():
    stored = np.load(TF_RESULTS)
    return sorted(k for k in stored.files if k not in ("variable_names", "tensorflow_version"))


@pytest.mark.parametrize("key", _tf_keys())
def test_every_metric_update_and_value_equals_tf1s(graphc_results, key):
    want = np.load(TF_RESULTS)[key]
    got = graphc_results[0][key]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_local_variable_names_are_tf1s(graphc_results):
    assert graphc_results[1] == list(np.load(TF_RESULTS)["variable_names"])


def test_metric_variables_are_local_and_reset_by_the_local_initializer():
    with gc.Graph().as_default() as graph:
        values = gc.placeholder(gc.float32, [None])
        mean, update = gc.metrics.mean(values)
        assert not gc.trainable_variables() and not gc.global_variables()
        assert {v.op.name for v in gc.get_collection(gc.GraphKeys.METRIC_VARIABLES)} == \
            {"mean/total", "mean/count"}
        with gc.Session(graph=graph) as sess:
            sess.run(gc.local_variables_initializer())
            assert sess.run(mean) == 0.0  # nothing seen yet: 0, not NaN
            sess.run(update, {values: [1.0, 2.0, 3.0]})
            assert sess.run(update, {values: [6.0]}) == pytest.approx(3.0)
            sess.run(gc.local_variables_initializer())
            assert sess.run(update, {values: [10.0]}) == pytest.approx(10.0)


def test_collections_arguments_receive_the_value_and_the_update():
    with gc.Graph().as_default():
        acc, update = gc.metrics.accuracy([1, 0], [1, 1], metrics_collections=["m"],
                                          updates_collections=["u"])
        assert gc.get_collection("m") == [acc] and gc.get_collection("u") == [update]


def test_a_trailing_dimension_of_one_is_squeezed_as_in_tf1():
    with gc.Graph().as_default() as graph:
        acc, update = gc.metrics.accuracy(labels=[[1], [0], [1]], predictions=[1, 1, 1])
        with gc.Session(graph=graph) as sess:
            sess.run(gc.local_variables_initializer())
            assert sess.run(update) == pytest.approx(2 / 3)


def test_mismatched_shapes_and_bad_arguments_are_named():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match=r"accuracy.*\(3,\).*\(4,\)"):
            gc.metrics.accuracy(labels=np.zeros(4), predictions=np.zeros(3))
        with pytest.raises(ValueError, match=r"weights of shape \(2, 1\) cannot be broadcast.*\(3, 2\)"):
            gc.metrics.mean(np.zeros((3, 2)), weights=np.ones((2,)))
        with pytest.raises(ValueError, match="curve must be 'ROC' or 'PR'"):
            gc.metrics.auc([1, 0], [0.5, 0.5], curve="XY")
        with pytest.raises(ValueError, match="num_classes must be a positive Python int"):
            gc.metrics.mean_iou([1], [1], num_classes=0)


def test_auc_rejects_predictions_outside_0_1_at_run_time_and_counts_nothing():
    with gc.Graph().as_default() as graph:
        predictions = gc.placeholder(gc.float32, [None])
        area, update = gc.metrics.auc(labels=[1, 0], predictions=predictions)
        counts = gc.get_collection(gc.GraphKeys.METRIC_VARIABLES)
        with gc.Session(graph=graph) as sess:
            sess.run(gc.local_variables_initializer())
            with pytest.raises(gc.errors.InvalidArgumentError, match=r"predictions must be in"):
                sess.run(update, {predictions: [0.5, 1.5]})
            assert all(not sess.run(v).any() for v in counts)  # the failed run changed nothing


def test_confusion_matrix_rejects_out_of_range_ids_at_run_time():
    with gc.Graph().as_default() as graph:
        labels = gc.placeholder(gc.int32, [None])
        matrix = gc.confusion_matrix(labels, [0, 1], num_classes=2)
        with gc.Session(graph=graph) as sess:
            np.testing.assert_array_equal(sess.run(matrix, {labels: [1, 1]}), [[0, 0], [1, 1]])
            with pytest.raises(gc.errors.InvalidArgumentError, match="labels out of bound"):
                sess.run(matrix, {labels: [2, 1]})


def test_metrics_refuse_eager_execution_as_tf1_does():
    with gc.eager(), pytest.raises(RuntimeError, match="not supported when eager"):
        gc.metrics.accuracy([1], [1])


def test_the_usual_tf1_evaluation_loop():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 4)).astype(np.float32)
    labels = (data[:, 0] > 0).astype(np.int64)
    with gc.Graph().as_default() as graph:
        x = gc.placeholder(gc.float32, [None, 4])
        y = gc.placeholder(gc.int64, [None])
        logits = gc.layers.dense(x, 2, kernel_initializer=gc.constant_initializer(
            [[1.0, -1.0], [0, 0], [0, 0], [0, 0]]))
        acc, acc_op = gc.metrics.accuracy(labels=y, predictions=gc.argmax(logits, 1))
        with gc.Session(graph=graph) as sess:
            sess.run([gc.global_variables_initializer(), gc.local_variables_initializer()])
            for start in range(0, 64, 16):
                sess.run(acc_op, {x: data[start:start + 16], y: labels[start:start + 16]})
            want = np.mean(np.argmax(data[:, :1] * [1.0, -1.0], 1) == labels)
            assert sess.run(acc) == pytest.approx(want)
