"""Adagrad, Adadelta, proximal gradient descent, proximal Adagrad and FTRL against NumPy
reimplementations of TF1's kernels over several steps; TF1's slot names for every
optimizer; hyperparameter checks; training to a stated loss."""
import numpy as np
import pytest

import graphc as gc

A = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]])
TARGET = np.array([[1.0], [0.0], [-1.0]])
START = np.array([[0.3], [-0.2]])
STEPS = 6


def _grad(theta):
    """Gradient of sum((A theta - target)^2), written by hand."""
    return 2.0 * A.T @ (A @ theta - TARGET)


def _trajectory(optimizer, dtype=np.float64):
    """The variable after each of STEPS training steps of ``optimizer`` (and the optimizer's
    slot values at the end)."""
    g = gc.Graph()
    with g.as_default():
        w = gc.Variable(START.astype(dtype), name="w")
        loss = gc.reduce_sum(gc.square(gc.matmul(gc.constant(A.astype(dtype)), w)
                                       - TARGET.astype(dtype)))
        train_op = optimizer.minimize(loss)
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        values = []
        for _ in range(STEPS):
            sess.run(train_op)
            values.append(sess.run(w).copy())
        slots = {name: sess.run(optimizer.get_slot(w, name)) for name in
                 optimizer.get_slot_names()}
    return values, slots


def _reference(step, state):
    """Run a NumPy update ``step(theta, grad, state) -> theta`` for STEPS steps."""
    theta, values = START.copy(), []
    for _ in range(STEPS):
        theta = step(theta, _grad(theta), state)
        values.append(theta.copy())
    return values


def _adagrad(lr, initial):
    def step(theta, g, state):
        state["accumulator"] = state.get("accumulator", initial) + g * g
        return theta - g * lr / np.sqrt(state["accumulator"])
    return step


def _adadelta(lr, rho, eps):
    def step(theta, g, state):
        accum = state.get("accum", 0.0) * rho + g * g * (1 - rho)
        previous = state.get("accum_update", 0.0)
        update = np.sqrt(previous + eps) / np.sqrt(accum + eps) * g
        state["accum"], state["accum_update"] = accum, previous * rho + update ** 2 * (1 - rho)
        return theta - update * lr
    return step


def _proximal(prox, rate, l1, l2):
    return np.sign(prox) * np.maximum(np.abs(prox) - rate * l1, 0) / (1 + rate * l2)


def _proximal_sgd(lr, l1, l2):
    return lambda theta, g, state: _proximal(theta - lr * g, lr, l1, l2)


def _proximal_adagrad(lr, initial, l1, l2):
    def step(theta, g, state):
        state["accumulator"] = state.get("accumulator", initial) + g * g
        rate = lr / np.sqrt(state["accumulator"])
        return _proximal(theta - rate * g, rate, l1, l2)
    return step


def _ftrl(lr, power, initial, l1, l2, shrinkage):
    def step(theta, g, state):
        accum = state.get("accum", initial)
        new_accum = accum + g * g
        sigma = (new_accum ** -power - accum ** -power) / lr
        linear = state.get("linear", 0.0) + g + 2 * shrinkage * theta - sigma * theta
        quadratic = new_accum ** -power / lr + 2 * l2
        state["accum"], state["linear"] = new_accum, linear
        return np.where(np.abs(linear) > l1, (l1 * np.sign(linear) - linear) / quadratic, 0.0)
    return step


CASES = {
    "adagrad": (lambda: gc.train.AdagradOptimizer(0.3, initial_accumulator_value=0.2),
                _adagrad(0.3, 0.2)),
    "adadelta": (lambda: gc.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-4),
                 _adadelta(1.0, 0.9, 1e-4)),
    "proximal-sgd": (lambda: gc.train.ProximalGradientDescentOptimizer(0.05),
                     _proximal_sgd(0.05, 0.0, 0.0)),
    "proximal-sgd-l1-l2": (lambda: gc.train.ProximalGradientDescentOptimizer(
        0.05, l1_regularization_strength=0.5, l2_regularization_strength=0.3),
        _proximal_sgd(0.05, 0.5, 0.3)),
    "proximal-adagrad": (lambda: gc.train.ProximalAdagradOptimizer(
        0.2, l1_regularization_strength=0.1, l2_regularization_strength=0.2),
        _proximal_adagrad(0.2, 0.1, 0.1, 0.2)),
    "ftrl": (lambda: gc.train.FtrlOptimizer(0.5), _ftrl(0.5, -0.5, 0.1, 0.0, 0.0, 0.0)),
    "ftrl-l1-l2": (lambda: gc.train.FtrlOptimizer(0.5, l1_regularization_strength=0.05,
                                                  l2_regularization_strength=0.1),
                   _ftrl(0.5, -0.5, 0.1, 0.05, 0.1, 0.0)),
    "ftrl-power-shrinkage": (lambda: gc.train.FtrlOptimizer(
        0.5, learning_rate_power=-0.3, initial_accumulator_value=0.5,
        l1_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.2),
        _ftrl(0.5, -0.3, 0.5, 0.01, 0.0, 0.2)),
    "ftrl-fixed-rate": (lambda: gc.train.FtrlOptimizer(0.1, learning_rate_power=0.0),
                        _ftrl(0.1, 0.0, 0.1, 0.0, 0.0, 0.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_rule_matches_tf1s_kernel_step_by_step(name):
    make, step = CASES[name]
    state: dict = {}
    expected = _reference(step, state)
    got, slots = _trajectory(make())
    for t, (value, want) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(value, want, rtol=1e-10, atol=1e-14, err_msg=f"step {t + 1}")
    for slot, value in slots.items():
        np.testing.assert_allclose(value, state[slot], rtol=1e-10, err_msg=slot)


def test_float32_variables_take_python_hyperparameters():
    got, _ = _trajectory(gc.train.AdagradOptimizer(0.3, 0.2), dtype=np.float32)
    assert got[-1].dtype == np.float32
    np.testing.assert_allclose(got[-1], _reference(_adagrad(0.3, 0.2), {})[-1], rtol=1e-5)


def test_l1_drives_weights_to_exact_zero():
    got, _ = _trajectory(gc.train.FtrlOptimizer(0.5, l1_regularization_strength=20.0))
    np.testing.assert_array_equal(got[-1], np.zeros((2, 1)))
    got, _ = _trajectory(gc.train.ProximalGradientDescentOptimizer(
        0.05, l1_regularization_strength=100.0))
    np.testing.assert_array_equal(got[-1], np.zeros((2, 1)))


SLOT_NAMES = [
    (lambda: gc.train.AdagradOptimizer(0.1), {"accumulator": "Adagrad"}),
    (lambda: gc.train.AdadeltaOptimizer(), {"accum": "Adadelta", "accum_update": "Adadelta_1"}),
    (lambda: gc.train.ProximalAdagradOptimizer(0.1), {"accumulator": "ProximalAdagrad"}),
    (lambda: gc.train.FtrlOptimizer(0.1), {"accum": "Ftrl", "linear": "Ftrl_1"}),
    (lambda: gc.train.FtrlOptimizer(0.1, accum_name="acc", linear_name="lin"),
     {"accum": "acc", "linear": "lin"}),
    (lambda: gc.train.MomentumOptimizer(0.1, 0.9), {"momentum": "Momentum"}),
    (lambda: gc.train.AdamOptimizer(), {"m": "Adam", "v": "Adam_1"}),
    (lambda: gc.train.RMSPropOptimizer(0.1), {"rms": "RMSProp", "momentum": "RMSProp_1"}),
    (lambda: gc.train.RMSPropOptimizer(0.1, centered=True),
     {"rms": "RMSProp", "mg": "RMSProp_1", "momentum": "RMSProp_2"}),
]


@pytest.mark.parametrize("make,slots", SLOT_NAMES,
                         ids=[f"{i}-{'-'.join(s)}" for i, (_, s) in enumerate(SLOT_NAMES)])
def test_slots_are_named_as_tf1_names_them(make, slots):
    g = gc.Graph()
    with g.as_default(), gc.variable_scope("layer"):
        w = gc.get_variable("W", [2, 2])
        b = gc.get_variable("b", [2], initializer=gc.zeros_initializer())
        opt = make()
        opt.minimize(gc.reduce_sum(gc.square(gc.matmul(gc.ones([1, 2]), w) + b)))
    for var in (w, b):
        for slot, suffix in slots.items():
            variable = opt.get_slot(var, slot)
            assert variable.name == f"{var.op.name}/{suffix}:0" and not variable.trainable
            assert variable in g.get_collection(gc.GraphKeys.GLOBAL_VARIABLES)
    assert opt.get_slot_names() == sorted(slots)
    assert set(opt.variables()) >= {opt.get_slot(w, s) for s in slots}


@pytest.mark.parametrize("make,match", [
    (lambda: gc.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0),
     "initial_accumulator_value must be positive: 0.0"),
    (lambda: gc.train.FtrlOptimizer(0.1, learning_rate_power=0.5),
     "learning_rate_power 0.500000 needs to be negative or zero"),
    (lambda: gc.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0),
     "l1_regularization_strength -1.000000 needs to be positive or zero"),
    (lambda: gc.train.FtrlOptimizer(0.1, initial_accumulator_value=-0.1),
     "initial_accumulator_value -0.100000 needs to be positive or zero"),
])
def test_bad_hyperparameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make", [
    lambda: gc.train.AdagradOptimizer(0.5), lambda: gc.train.AdadeltaOptimizer(1.0, epsilon=1e-3),
    lambda: gc.train.ProximalGradientDescentOptimizer(0.1),
    lambda: gc.train.ProximalAdagradOptimizer(0.5), lambda: gc.train.FtrlOptimizer(1.0)],
    ids=["adagrad", "adadelta", "proximal-sgd", "proximal-adagrad", "ftrl"])
def test_linear_regression_trains(make):
    rng = np.random.default_rng(3)
    x_value = rng.normal(size=(100, 3)).astype(np.float32)
    y_value = x_value @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
    g = gc.Graph()
    with g.as_default():
        x, y = gc.constant(x_value), gc.constant(y_value)
        w, b = gc.Variable(gc.zeros([3, 1])), gc.Variable(gc.zeros([1]))
        loss = gc.losses.mean_squared_error(y, gc.matmul(x, w) + b)
        train_op = make().minimize(loss)
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        first = sess.run(loss)
        for _ in range(300):
            sess.run(train_op)
        assert sess.run(loss) < 0.01 * first
