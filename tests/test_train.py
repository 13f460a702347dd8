"""Training with TF1 optimizers: convergence, exact update rules, all-or-nothing steps."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(1234)
LINEAR_X = RNG.normal(size=(200, 3))
LINEAR_Y = LINEAR_X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.01 * RNG.normal(size=(200, 1))
CENTERS = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
BLOB_LABELS = np.repeat(np.arange(3), 60)
BLOB_X = CENTERS[BLOB_LABELS] + 0.5 * RNG.normal(size=(180, 2))
RING_X = RNG.uniform(-1, 1, size=(256, 2))
RING_LABELS = (np.sum(RING_X ** 2, axis=1) < 0.45).astype(np.int32)  # not linearly separable

OPTIMIZERS = {
    "sgd": lambda lr: gc.train.GradientDescentOptimizer(lr),
    "momentum": lambda lr: gc.train.MomentumOptimizer(lr, momentum=0.9),
    "nesterov": lambda lr: gc.train.MomentumOptimizer(lr, momentum=0.9, use_nesterov=True),
    "adam": lambda lr: gc.train.AdamOptimizer(lr),
    "rmsprop": lambda lr: gc.train.RMSPropOptimizer(lr),
}


def _train(build, feeds, optimizer, steps):
    g = gc.Graph()
    with g.as_default():
        gc.set_random_seed(0)
        loss = build()
        train_op = optimizer.minimize(loss)
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        feed = {g.get_tensor_by_name(k): v for k, v in feeds.items()}
        for _ in range(steps):
            sess.run(train_op, feed)
        return sess.run(loss, feed)


def _linear_regression():
    x = gc.placeholder(gc.float32, (None, 3), name="x")
    y = gc.placeholder(gc.float32, (None, 1), name="y")
    w = gc.Variable(gc.zeros([3, 1]))
    b = gc.Variable(gc.zeros([1]))
    return gc.reduce_mean(gc.square(gc.matmul(x, w) + b - y))


def _softmax_regression():
    x = gc.placeholder(gc.float32, (None, 2), name="x")
    labels = gc.placeholder(gc.int32, (None,), name="labels")
    w = gc.Variable(gc.zeros([2, 3]))
    b = gc.Variable(gc.zeros([3]))
    return gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=gc.matmul(x, w) + b))


def _mlp():
    x = gc.placeholder(gc.float32, (None, 2), name="x")
    labels = gc.placeholder(gc.int32, (None,), name="labels")
    w1 = gc.Variable(gc.random_normal([2, 32], stddev=1.0, seed=1))
    b1 = gc.Variable(gc.zeros([32]))
    w2 = gc.Variable(gc.random_normal([32, 2], stddev=0.3, seed=2))
    b2 = gc.Variable(gc.zeros([2]))
    hidden = gc.nn.relu(gc.matmul(x, w1) + b1)
    return gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=gc.matmul(hidden, w2) + b2))


PROBLEMS = {
    # name: (builder, feeds, steps, loss to reach, learning rate per optimizer)
    "linear-regression": (_linear_regression, {"x:0": LINEAR_X, "y:0": LINEAR_Y}, 200, 5e-3,
                          dict(sgd=0.1, momentum=0.03, nesterov=0.03, adam=0.1, rmsprop=0.03)),
    "softmax-regression": (_softmax_regression, {"x:0": BLOB_X, "labels:0": BLOB_LABELS}, 200,
                           0.05, dict(sgd=0.3, momentum=0.1, nesterov=0.1, adam=0.1,
                                      rmsprop=0.03)),
    "two-layer-mlp": (_mlp, {"x:0": RING_X, "labels:0": RING_LABELS}, 400, 0.1,
                      dict(sgd=0.3, momentum=0.1, nesterov=0.1, adam=0.03, rmsprop=0.01)),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_training_reaches_the_stated_loss(problem, optimizer):
    build, feeds, steps, target, rates = PROBLEMS[problem]
    final = _train(build, feeds, OPTIMIZERS[optimizer](rates[optimizer]), steps)
    assert final < target, f"{problem} with {optimizer}: loss {final} >= {target}"


def _numpy_mlp_grads(x, labels, w1, b1, w2, b2):
    """Hand-written backprop of mean sparse softmax cross-entropy over a ReLU MLP."""
    pre = x @ w1 + b1
    hidden = np.maximum(pre, 0)
    logits = hidden @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    dlogits = probs.copy()
    dlogits[np.arange(len(labels)), labels] -= 1
    dlogits /= len(labels)
    dw2, db2 = hidden.T @ dlogits, dlogits.sum(axis=0)
    dpre = (dlogits @ w2.T) * (pre > 0)
    return [x.T @ dpre, dpre.sum(axis=0), dw2, db2]


def test_mlp_gradients_equal_handwritten_backprop():
    rng = np.random.default_rng(5)
    params = [rng.normal(size=(4, 16)), rng.normal(size=16) * 0.1,
              rng.normal(size=(16, 3)), rng.normal(size=3) * 0.1]
    x_value, labels_value = rng.normal(size=(32, 4)), rng.integers(0, 3, size=32)
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (None, 4))
        labels = gc.placeholder(gc.int64, (None,))
        w1, b1, w2, b2 = [gc.Variable(p) for p in params]
        logits = gc.matmul(gc.nn.relu(gc.matmul(x, w1) + b1), w2) + b2
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        grads = gc.gradients(loss, [w1, b1, w2, b2])
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        ours = sess.run(grads, {x: x_value, labels: labels_value})
    for got, want in zip(ours, _numpy_mlp_grads(x_value, labels_value, *params)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-12)


def _quadratic_problem(optimizer):
    """loss = sum((A w - t)^2) for one variable; returns (session, w, grad, train_op)."""
    g = gc.Graph()
    with g.as_default():
        a = gc.constant(np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]]))
        target = gc.constant(np.array([[1.0], [0.0], [-1.0]]))
        w = gc.Variable(np.array([[0.3], [-0.2]]), name="w")
        loss = gc.reduce_sum(gc.square(gc.matmul(a, w) - target))
        [grad] = gc.gradients(loss, [w])
        train_op = optimizer.minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=g)
    sess.run(init)
    return sess, w, grad, train_op


def test_adam_matches_the_published_update_rule_step_by_step():
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    opt = gc.train.AdamOptimizer(lr, beta1, beta2, eps)
    sess, w, grad, train_op = _quadratic_problem(opt)
    theta = sess.run(w).copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t in range(1, 6):
        g_value = sess.run(grad)
        sess.run(train_op)
        m = beta1 * m + (1 - beta1) * g_value
        v = beta2 * v + (1 - beta2) * g_value ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        # TF1 adds epsilon before the bias correction: the paper's "epsilon hat" form
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - beta2 ** t))
        np.testing.assert_allclose(sess.run(w), theta, rtol=1e-10)
        np.testing.assert_allclose(sess.run(opt.get_slot(w, "m")), m, rtol=1e-10)
    sess.close()


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_update_rule(nesterov):
    lr, mu = 0.05, 0.9
    sess, w, grad, train_op = _quadratic_problem(
        gc.train.MomentumOptimizer(lr, mu, use_nesterov=nesterov))
    theta, accum = sess.run(w).copy(), 0.0
    for _ in range(4):
        g_value = sess.run(grad)
        sess.run(train_op)
        accum = mu * accum + g_value
        theta = theta - lr * ((g_value + mu * accum) if nesterov else accum)
        np.testing.assert_allclose(sess.run(w), theta, rtol=1e-10)
    sess.close()


def test_rmsprop_update_rule():
    lr, decay, mu, eps = 0.01, 0.9, 0.5, 1e-10
    sess, w, grad, train_op = _quadratic_problem(
        gc.train.RMSPropOptimizer(lr, decay=decay, momentum=mu, epsilon=eps))
    theta, ms, mom = sess.run(w).copy(), 1.0, 0.0
    for _ in range(4):
        g_value = sess.run(grad)
        sess.run(train_op)
        ms = decay * ms + (1 - decay) * g_value ** 2
        mom = mu * mom + lr * g_value / np.sqrt(ms + eps)
        theta = theta - mom
        np.testing.assert_allclose(sess.run(w), theta, rtol=1e-10)
    sess.close()


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_failed_step_leaves_variables_slots_and_step_unchanged(optimize):
    """A step failing before any update (a bad label) and one failing after every update was
    staged (a NaN check that runs after the train op) both change nothing."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 2), name="x")
        labels = gc.placeholder(gc.int32, (None,), name="labels")
        scale = gc.placeholder_with_default(1.0, (), name="scale")
        w = gc.Variable(np.ones((2, 3), np.float32), name="w")
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=gc.matmul(x, w)))
        step = gc.train.get_or_create_global_step()
        opt = gc.train.AdamOptimizer(0.1)
        train_op = opt.minimize(loss, global_step=step)
        with gc.control_dependencies([train_op]):
            checked = gc.check_numerics(scale * gc.reduce_sum(w), "after the update")
        init = gc.global_variables_initializer()
    state = g.get_collection(gc.GraphKeys.GLOBAL_VARIABLES)
    assert {v.op.name for v in state} >= {"w", "global_step", "w/Adam", "w/Adam_1",
                                          "beta1_power", "beta2_power"}
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        good = {x: np.ones((2, 2)), labels: [0, 1]}
        sess.run(train_op, good)
        before = sess.run(state)
        with pytest.raises(gc.errors.InvalidArgumentError, match="label value of 7"):
            sess.run(train_op, {x: np.ones((2, 2)), labels: [0, 7]})
        with pytest.raises(gc.errors.InvalidArgumentError, match="after the update"):
            sess.run(checked, {**good, scale: np.nan})
        for saved, now in zip(before, sess.run(state)):
            np.testing.assert_array_equal(saved, now)
        sess.run(checked, good)
        assert sess.run(step) == 2
        assert not np.array_equal(sess.run(w), before[[v.op.name for v in state].index("w")])


def test_compute_and_apply_gradients_with_clipping():
    g = gc.Graph()
    with g.as_default():
        w = gc.Variable([3.0, -4.0], dtype=gc.float64, name="w")
        loss = gc.reduce_sum(gc.square(w)) * 10.0
        opt = gc.train.GradientDescentOptimizer(0.1)
        pairs = opt.compute_gradients(loss)
        assert [v for _, v in pairs] == [w]
        clipped = [(gc.clip_by_value(grad, -1.0, 1.0), var) for grad, var in pairs]
        train_op = opt.apply_gradients(clipped, global_step=gc.train.get_or_create_global_step())
        init = gc.global_variables_initializer()
    assert gc.train.get_or_create_global_step(g) is gc.train.get_global_step(g)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), [2.9, -3.9])


def test_minimize_without_a_path_to_the_variables_is_refused():
    g = gc.Graph()
    with g.as_default():
        gc.Variable(1.0, name="unused")
        x = gc.placeholder(gc.float32, ())
        with pytest.raises(ValueError, match="No gradients provided"):
            gc.train.GradientDescentOptimizer(0.1).minimize(x * 2.0)
