"""``gc.losses`` against NumPy reimplementations of TF1's formulas and of its
``compute_weighted_loss`` reductions; gradients against finite differences of the same
formulas; collections, names, dtypes and errors as in TF1."""
import numpy as np
import pytest
import scipy.special

import graphc as gc
from tests.reference_gradients import assert_gradient_matches_reference

R = gc.losses.Reduction
REDUCTIONS = [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS]
RNG = np.random.default_rng(11)
BATCH, CLASSES = 4, 3


def np_reduce(losses, weights, reduction):
    """TF1's compute_weighted_loss in NumPy (float64), with its safe division."""
    weighted = losses * weights
    if reduction == R.NONE:
        return weighted
    total = weighted.sum()
    denominator = {R.SUM: 1.0,
                   R.MEAN: (np.ones_like(losses) * weights).sum(),
                   R.SUM_OVER_BATCH_SIZE: float(losses.size),
                   R.SUM_BY_NONZERO_WEIGHTS: np.broadcast_to(weights != 0, losses.shape).sum()
                   }[reduction]
    return total / denominator if denominator != 0 else 0.0


def np_log_softmax(x):
    return x - scipy.special.logsumexp(x, axis=-1, keepdims=True)


def np_huber(labels, predictions, delta=1.0):
    error = np.abs(predictions - labels)
    return np.where(error <= delta, 0.5 * error ** 2, 0.5 * delta ** 2 + delta * (error - delta))


def np_sigmoid_xent(labels, logits, smoothing=0.2):
    z = labels * (1 - smoothing) + 0.5 * smoothing
    return np.maximum(logits, 0) - logits * z + np.log1p(np.exp(-np.abs(logits)))


def np_softmax_xent(labels, logits, smoothing=0.1):
    smoothed = labels * (1 - smoothing) + smoothing / labels.shape[-1]
    return -np.sum(smoothed * np_log_softmax(logits), axis=-1)


def np_pairwise(labels, predictions):
    """Per row: the mean over pairs i < j of ((p_i - p_j) - (l_i - l_j))^2, summed."""
    total = 0.0
    for row_p, row_l in zip(predictions, labels):
        d = row_p - row_l
        pairs = [(d[i] - d[j]) ** 2 for i in range(len(d)) for j in range(i + 1, len(d))]
        total += np.mean(pairs)
    return total


def _unit_rows(shape):
    raw = RNG.normal(size=shape)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def _onehot():
    return np.eye(CLASSES)[RNG.integers(0, CLASSES, BATCH)]


L = gc.losses
# name: (gc call (labels, second input, weights, reduction), NumPy elementwise losses,
#        labels, second input (predictions or logits) -- float32 values)
CASES = {
    "absolute_difference": (lambda y, p, w, r: L.absolute_difference(y, p, w, reduction=r),
                            lambda y, p: np.abs(p - y), RNG.normal(size=(BATCH, CLASSES)),
                            RNG.normal(size=(BATCH, CLASSES))),
    "mean_squared_error": (lambda y, p, w, r: L.mean_squared_error(y, p, w, reduction=r),
                           lambda y, p: (p - y) ** 2, RNG.normal(size=(BATCH, CLASSES)),
                           RNG.normal(size=(BATCH, CLASSES))),
    "huber_loss": (lambda y, p, w, r: L.huber_loss(y, p, w, delta=0.8, reduction=r),
                   lambda y, p: np_huber(y, p, 0.8), RNG.normal(size=(BATCH, CLASSES)),
                   2 * RNG.normal(size=(BATCH, CLASSES))),
    "log_loss": (lambda y, p, w, r: L.log_loss(y, p, w, epsilon=1e-4, reduction=r),
                 lambda y, p: -y * np.log(p + 1e-4) - (1 - y) * np.log(1 - p + 1e-4),
                 RNG.uniform(0, 1, (BATCH, CLASSES)), RNG.uniform(0.05, 0.95, (BATCH, CLASSES))),
    "hinge_loss": (lambda y, p, w, r: L.hinge_loss(y, p, w, reduction=r),
                   lambda y, p: np.maximum(0, 1 - (2 * y - 1) * p),
                   RNG.integers(0, 2, (BATCH, CLASSES)).astype(float),
                   2 * RNG.normal(size=(BATCH, CLASSES))),
    "cosine_distance": (lambda y, p, w, r: L.cosine_distance(y, p, axis=1, weights=w,
                                                             reduction=r),
                        lambda y, p: 1 - np.sum(p * y, axis=1, keepdims=True),
                        _unit_rows((BATCH, CLASSES)), _unit_rows((BATCH, CLASSES))),
    "sigmoid_cross_entropy": (lambda y, p, w, r: L.sigmoid_cross_entropy(
        y, p, w, label_smoothing=0.2, reduction=r), np_sigmoid_xent,
        RNG.uniform(0, 1, (BATCH, CLASSES)), 3 * RNG.normal(size=(BATCH, CLASSES))),
    "softmax_cross_entropy": (lambda y, p, w, r: L.softmax_cross_entropy(
        y, p, w, label_smoothing=0.1, reduction=r), np_softmax_xent, _onehot(),
        2 * RNG.normal(size=(BATCH, CLASSES))),
    "sparse_softmax_cross_entropy": (lambda y, p, w, r: L.sparse_softmax_cross_entropy(
        y, p, w, reduction=r),
        lambda y, p: -np.take_along_axis(np_log_softmax(p), y[:, None], axis=1)[:, 0],
        RNG.integers(0, CLASSES, BATCH), 2 * RNG.normal(size=(BATCH, CLASSES))),
}


def _weight_variants(loss_shape):
    """Scalar, zero, one per batch row (one of them 0), and one per element (some 0)."""
    per_row = np.array([0.5, 0.0, 2.0, 1.0]).reshape([BATCH] + [1] * (len(loss_shape) - 1))
    full = RNG.uniform(0.5, 2, loss_shape) * (RNG.uniform(size=loss_shape) > 0.3)
    return {"scalar": np.float64(2.5), "zero": np.float64(0.0), "per-row": per_row,
            "full": full}


def _inputs(name):
    _, _, labels, second = CASES[name]
    labels = labels.astype(np.int64 if labels.dtype.kind == "i" else np.float32)
    return labels, second.astype(np.float32)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_and_every_reduction_match_tf1s_formulas(name, graph):
    call, elementwise, *_ = CASES[name]
    labels, second = _inputs(name)
    losses = elementwise(labels.astype(np.float64) if labels.dtype.kind == "f" else labels,
                         second.astype(np.float64))
    fetches, expected = {}, {}
    for kind, weights in _weight_variants(losses.shape).items():
        for reduction in REDUCTIONS:
            fetches[kind, reduction] = call(labels, second, weights.astype(np.float32),
                                            reduction)
            expected[kind, reduction] = np_reduce(losses, weights, reduction)
    with gc.Session() as sess:
        got = sess.run(fetches)
    for key, value in got.items():
        assert value.dtype == np.float32 and np.shape(value) == np.shape(expected[key]), key
        np.testing.assert_allclose(value, expected[key], rtol=2e-5, atol=1e-6, err_msg=str(key))
    assert len(gc.losses.get_losses()) == len(fetches)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences_of_the_formula(name, graph):
    call, elementwise, *_ = CASES[name]
    labels, second = _inputs(name)
    weights = _weight_variants(elementwise(labels, second).shape)["per-row"]
    x = gc.placeholder(gc.float32, second.shape)
    loss = call(labels, x, weights.astype(np.float32), R.SUM_BY_NONZERO_WEIGHTS)
    assert_gradient_matches_reference(
        loss, {x: second}, [x],
        lambda s: np_reduce(elementwise(labels, s), weights, R.SUM_BY_NONZERO_WEIGHTS))


@pytest.mark.parametrize("reduction", [R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM])
def test_gradient_reaches_the_weights_too(reduction, graph):
    labels, predictions = _inputs("mean_squared_error")
    weights_value = RNG.uniform(0.5, 2.0, (BATCH, 1)).astype(np.float32)
    p = gc.placeholder(gc.float32, predictions.shape)
    w = gc.placeholder(gc.float32, weights_value.shape)
    loss = gc.losses.mean_squared_error(labels, p, weights=w, reduction=reduction)
    assert_gradient_matches_reference(
        loss, {p: predictions, w: weights_value}, [p, w],
        lambda pv, wv: np_reduce((pv - labels) ** 2, wv, reduction))


def test_zero_weights_give_zero_loss_and_zero_gradient(graph):
    """The safe division: nothing present means 0, never NaN, in the value and gradient."""
    p = gc.placeholder(gc.float32, [3])
    losses = [gc.losses.mean_squared_error([1.0, 2.0, 3.0], p, weights=0.0),
              gc.losses.absolute_difference([1.0, 2.0, 3.0], p, weights=[0.0, 0.0, 0.0],
                                            reduction=R.MEAN)]
    grads = gc.gradients(gc.add_n(losses), [p])
    with gc.Session() as sess:
        values, (grad,) = sess.run([losses, grads], {p: [0.0, 0.0, 0.0]})
    assert values == [0.0, 0.0]
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])


def test_label_smoothing_and_label_shapes_as_tf1(graph):
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], np.float32)
    smoothed = gc.losses.softmax_cross_entropy(np.eye(3)[[0, 1]], logits, label_smoothing=0.3,
                                               reduction=R.NONE)
    # labels of shape [batch, 1] lose the trailing axis, and so do weights of that shape
    column = gc.losses.sparse_softmax_cross_entropy([[0], [1]], logits, weights=[[1.0], [3.0]],
                                                    reduction=R.NONE)
    with gc.Session() as sess:
        smoothed_value, column_value = sess.run([smoothed, column])
    np.testing.assert_allclose(smoothed_value, np_softmax_xent(np.eye(3)[[0, 1]], logits, 0.3),
                               rtol=1e-5)
    np.testing.assert_allclose(column_value, [1, 3] * -np_log_softmax(logits)[[0, 1], [0, 1]],
                               rtol=1e-5)
    assert smoothed.shape.as_list() == [2] and column.shape.as_list() == [2]


def test_mean_pairwise_squared_error_is_the_mean_over_pairs(graph):
    labels = RNG.normal(size=(3, 4)).astype(np.float32)
    predictions = RNG.normal(size=(3, 4)).astype(np.float32)
    loss = gc.losses.mean_pairwise_squared_error(labels, predictions, weights=2.0)
    nothing = gc.losses.mean_pairwise_squared_error(labels, predictions, weights=0.0)
    with gc.Session() as sess:
        value, zero = sess.run([loss, nothing])
    np.testing.assert_allclose(value, 2.0 * np_pairwise(labels, predictions), rtol=1e-5)
    assert zero == 0.0
    x = gc.placeholder(gc.float32, predictions.shape)
    assert_gradient_matches_reference(gc.losses.mean_pairwise_squared_error(labels, x),
                                      {x: predictions}, [x],
                                      lambda p: np_pairwise(labels, p))


def test_names_collections_and_total_loss(graph):
    y = gc.placeholder(gc.float32, [None, 1], name="y")
    pred = gc.placeholder(gc.float32, [None, 1], name="pred")
    mse = gc.losses.mean_squared_error(y, pred)
    abs_loss = gc.losses.absolute_difference(y, pred, scope="l1")
    gc.losses.huber_loss(y, pred, loss_collection=None)  # in no collection
    custom = gc.losses.hinge_loss(y, pred, loss_collection="mine")
    gc.get_variable("W", [2], regularizer=lambda w: 0.5 * gc.reduce_sum(w * w))
    assert mse.name == "mean_squared_error/value:0" and abs_loss.name == "l1/value:0"
    assert gc.losses.get_losses() == [mse, abs_loss] == gc.get_collection(gc.GraphKeys.LOSSES)
    assert gc.losses.get_losses(loss_collection="mine") == [custom]
    assert gc.losses.get_losses(scope="l1") == [abs_loss]
    total = gc.losses.get_total_loss()
    data_only = gc.losses.get_total_loss(add_regularization_losses=False, name="data")
    assert total.name == "total_loss:0" and data_only.name == "data:0"
    extra = gc.constant(5.0)
    gc.losses.add_loss(extra)
    assert gc.losses.get_losses()[-1] is extra
    feeds = {y: [[1.0], [2.0]], pred: [[0.0], [4.0]]}
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        w, total_value, data_value = sess.run(["W:0", total, data_only], feeds)
    assert data_value == pytest.approx(2.5 + 1.5)
    assert total_value == pytest.approx(2.5 + 1.5 + 0.5 * np.sum(w * w))


def test_dtypes_follow_tf1(graph):
    """Regression losses cast to float32 (as TF1); cross-entropies keep the logits' dtype."""
    double = np.array([[0.5, -0.5]], np.float64)
    assert gc.losses.mean_squared_error(double, double).dtype == gc.float32
    assert gc.losses.softmax_cross_entropy([[0, 1]], double).dtype == gc.float64
    assert gc.losses.sigmoid_cross_entropy([[0, 1]], double).dtype == gc.float64
    assert gc.losses.sparse_softmax_cross_entropy([1], double).dtype == gc.float64
    assert gc.losses.mean_squared_error([1, 2], [1, 3]).dtype == gc.float32  # ints cast


@pytest.mark.parametrize("build,error,match", [
    (lambda: gc.losses.mean_squared_error([[1.0, 2.0]], [[1.0, 2.0]], weights=[1.0, 2.0, 3.0]),
     ValueError, "weights can not be broadcast to values. values.rank=2. weights.rank=1"),
    (lambda: gc.losses.absolute_difference([[1.0, 2.0]], [[1.0, 2.0]], weights=[[1.0, 2.0, 3.0]]),
     ValueError, "Mismatch at dim 1"),
    (lambda: gc.losses.mean_squared_error([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError,
     r"mean_squared_error: predictions of shape \(3,\) and labels of shape \(2,\)"),
    (lambda: gc.losses.compute_weighted_loss([1.0], reduction="mean"), ValueError,
     "Invalid Reduction Key mean"),
    (lambda: gc.losses.log_loss(None, [0.5]), ValueError, "labels must not be None"),
    (lambda: gc.losses.huber_loss([0.5], [0.5], weights=None), ValueError,
     "weights must not be None"),
    (lambda: gc.losses.cosine_distance([1.0], [1.0]), ValueError, "You must specify 'axis'"),
    (lambda: gc.losses.get_total_loss(), ValueError, "no losses"),
])
def test_bad_arguments_raise_tf1s_errors_and_change_nothing(build, error, match, graph):
    before = len(graph.get_operations())
    with pytest.raises(error, match=match):
        build()
    assert len(graph.get_operations()) == before and not gc.losses.get_losses()


def test_weights_are_checked_at_run_time_where_shapes_are_unknown(graph):
    """TF1's dynamic assert_broadcastable: NumPy would broadcast a [2, 1] loss against [2, 3]
    weights; TF1 refuses, naming both shapes."""
    losses = gc.placeholder(gc.float32, [None, None], name="losses")
    weights = gc.placeholder(gc.float32, [None, 3], name="weights")
    loss = gc.losses.compute_weighted_loss(losses, weights)
    static = gc.losses.compute_weighted_loss(np.ones((2, 3), np.float32), np.ones((1, 3)))
    assert [op.type for op in graph.get_operations()].count("Assert") == 1
    good = {losses: np.ones((2, 3)), weights: [[1.0, 0.0, 2.0]]}
    with gc.Session() as sess:
        assert sess.run([loss, static], good) == [pytest.approx(1.5), 1.0]
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"weights can not be broadcast to values.*\[2 3\].*\[2 1\]"):
            sess.run(loss, {losses: np.ones((2, 1)), weights: np.ones((2, 3))})


def np_weighted_xent(labels, logits, pos_weight):
    return (-pos_weight * labels * np.log(scipy.special.expit(logits))
            - (1 - labels) * np.log(1 - scipy.special.expit(logits)))


def test_weighted_cross_entropy_with_logits(graph):
    labels = RNG.uniform(0, 1, (3, 4))
    logits = 3 * RNG.normal(size=(3, 4))
    x = gc.placeholder(gc.float64, logits.shape)
    loss = gc.nn.weighted_cross_entropy_with_logits(labels=labels, logits=x, pos_weight=2.5)
    huge = gc.nn.weighted_cross_entropy_with_logits(targets=[1.0, 0.0, 1.0],
                                                    logits=[800.0, -800.0, -800.0],
                                                    pos_weight=2.0)
    assert loss.op.name == "logistic_loss" and loss.dtype == gc.float64
    with gc.Session() as sess:
        value, huge_value = sess.run([loss, huge], {x: logits})
    np.testing.assert_allclose(value, np_weighted_xent(labels, logits, 2.5), rtol=1e-10)
    np.testing.assert_allclose(huge_value, [0.0, 0.0, 1600.0])  # stable: no inf, no NaN
    assert_gradient_matches_reference(gc.reduce_sum(loss), {x: logits}, [x],
                                      lambda v: np_weighted_xent(labels, v, 2.5).sum(), 1e-7)
    with pytest.raises(ValueError, match="same shape"):
        gc.nn.weighted_cross_entropy_with_logits(labels=[1.0], logits=[1.0, 2.0], pos_weight=1.0)


def np_log_poisson(targets, log_input, full):
    result = np.exp(log_input) - log_input * targets
    if full:
        safe = np.where(targets > 0, targets, 1.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe)
        result = result + np.where((targets >= 0) & (targets <= 1), 0.0, stirling)
    return result


@pytest.mark.parametrize("full", [False, True])
def test_log_poisson_loss(full, graph):
    targets = np.array([[0.0, 0.5, 1.0, 3.0], [7.0, 2.0, 1.5, 12.0]])
    log_input = RNG.normal(size=targets.shape)
    x = gc.placeholder(gc.float64, targets.shape)
    loss = gc.nn.log_poisson_loss(targets, x, compute_full_loss=full)
    with gc.Session() as sess:
        value = sess.run(loss, {x: log_input})
    np.testing.assert_allclose(value, np_log_poisson(targets, log_input, full), rtol=1e-12)
    assert_gradient_matches_reference(gc.reduce_sum(loss), {x: log_input}, [x],
                                      lambda v: np_log_poisson(targets, v, full).sum(), 1e-7)
