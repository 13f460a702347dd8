"""TF1's learning-rate schedules step by step against their NumPy formulas, their dtype
and argument checks, and a schedule driving an optimizer whose ``minimize`` advances the
global step."""
import math

import numpy as np
import pytest

import graphc as gc

STEPS = np.arange(0, 40)
T = gc.train


def np_cosine_restarts(step, first, t_mul, m_mul, alpha):
    """TF1's SGDR: which period the step is in, and how far into it."""
    fraction = step / first
    if t_mul == 1.0:
        restart = np.floor(fraction)
        fraction = fraction - restart
    else:
        restart = np.floor(np.log(1 - fraction * (1 - t_mul)) / np.log(t_mul))
        total = (1 - t_mul ** restart) / (1 - t_mul)
        fraction = (fraction - total) / t_mul ** restart
    decayed = 0.5 * m_mul ** restart * (1 + np.cos(np.pi * fraction))
    return (1 - alpha) * decayed + alpha


def np_linear_cosine(step, steps, periods, alpha, beta):
    s = np.minimum(step, steps)
    cosine = 0.5 * (1 + np.cos(np.pi * 2 * periods * s / steps))
    return (alpha + (steps - s) / steps) * cosine + beta


def np_piecewise(step, boundaries, values):
    return values[int(np.searchsorted(boundaries, step, side="left"))]


# name: (schedule of a step tensor, NumPy formula of an int step)
SCHEDULES = {
    "exponential": (lambda s: T.exponential_decay(0.1, s, 7, 0.5),
                    lambda s: 0.1 * 0.5 ** (s / 7)),
    "exponential-staircase": (lambda s: T.exponential_decay(0.1, s, 7, 0.5, staircase=True),
                              lambda s: 0.1 * 0.5 ** np.floor(s / 7)),
    "natural-exp": (lambda s: T.natural_exp_decay(0.1, s, 5, 0.3),
                    lambda s: 0.1 * np.exp(-0.3 * s / 5)),
    "natural-exp-staircase": (lambda s: T.natural_exp_decay(0.1, s, 5, 0.3, staircase=True),
                              lambda s: 0.1 * np.exp(-0.3 * np.floor(s / 5))),
    "inverse-time": (lambda s: T.inverse_time_decay(0.1, s, 4, 0.5),
                     lambda s: 0.1 / (1 + 0.5 * s / 4)),
    "inverse-time-staircase": (lambda s: T.inverse_time_decay(0.1, s, 4, 0.5, staircase=True),
                               lambda s: 0.1 / (1 + 0.5 * np.floor(s / 4))),
    "polynomial": (lambda s: T.polynomial_decay(0.1, s, 20, 0.01),
                   lambda s: 0.09 * (1 - min(s, 20) / 20) + 0.01),
    "polynomial-power": (lambda s: T.polynomial_decay(0.1, s, 20, 0.0, power=2.0),
                         lambda s: 0.1 * (1 - min(s, 20) / 20) ** 2),
    "polynomial-cycle": (lambda s: T.polynomial_decay(0.1, s, 15, 0.01, power=0.5, cycle=True),
                         lambda s: 0.09 * (1 - s / (15 * max(1, math.ceil(s / 15)))) ** 0.5
                         + 0.01),
    "cosine": (lambda s: T.cosine_decay(0.1, s, 25),
               lambda s: 0.1 * 0.5 * (1 + np.cos(np.pi * min(s, 25) / 25))),
    "cosine-alpha": (lambda s: T.cosine_decay(0.1, s, 25, alpha=0.2),
                     lambda s: 0.1 * (0.8 * 0.5 * (1 + np.cos(np.pi * min(s, 25) / 25)) + 0.2)),
    "cosine-restarts": (lambda s: T.cosine_decay_restarts(0.1, s, 5, m_mul=0.8, alpha=0.1),
                        lambda s: 0.1 * np_cosine_restarts(s, 5, 2.0, 0.8, 0.1)),
    "cosine-restarts-constant-period": (
        lambda s: T.cosine_decay_restarts(0.1, s, 6, t_mul=1.0),
        lambda s: 0.1 * np_cosine_restarts(s, 6, 1.0, 1.0, 0.0)),
    "linear-cosine": (lambda s: T.linear_cosine_decay(0.1, s, 30, num_periods=2.0, alpha=0.1),
                      lambda s: 0.1 * np_linear_cosine(s, 30, 2.0, 0.1, 0.001)),
    "piecewise": (lambda s: T.piecewise_constant(s, [5, 12, 30], [1.0, 0.5, 0.1, 0.01]),
                  lambda s: np_piecewise(s, [5, 12, 30], [1.0, 0.5, 0.1, 0.01])),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_follows_its_formula_step_by_step(name, graph):
    schedule, formula = SCHEDULES[name]
    step = gc.placeholder(gc.int64, [], name="step")
    rate = schedule(step)
    assert rate.dtype == gc.float32 and rate.shape.as_list() == []
    with gc.Session() as sess:
        got = [sess.run(rate, {step: s}) for s in STEPS]
    np.testing.assert_allclose(got, [formula(int(s)) for s in STEPS], rtol=2e-6, atol=1e-7)  # float32 cancellation near 0


def test_names_dtypes_and_step_dtypes(graph):
    step = gc.train.get_or_create_global_step()
    assert T.exponential_decay(0.1, step, 10, 0.9).name == "ExponentialDecay:0"
    assert T.cosine_decay(0.1, step, 10, name="lr").name == "lr:0"
    assert T.piecewise_constant(step, [10], [0.1, 0.01]).name == "PiecewiseConstant:0"
    double = T.polynomial_decay(np.float64(0.1), step, 10)
    assert double.dtype == gc.float64
    int32_step = gc.placeholder(gc.int32, [])
    float_step = gc.placeholder(gc.float32, [])
    with gc.Session() as sess:
        assert sess.run(T.inverse_time_decay(1.0, int32_step, 1, 1.0), {int32_step: 3}) == 0.25
        assert sess.run(T.piecewise_constant(float_step, [0.5], [1, 2]),
                        {float_step: 0.7}) == 2  # int values, float boundaries


@pytest.mark.parametrize("build,match", [
    (lambda s: T.piecewise_constant(s.graph.get_tensor_by_name("float_step:0"), [5, 10],
                                    [0.1, 0.2, 0.3]),
     r"Boundaries \(int32\) must have the same dtype as x \(float32\)"),
    (lambda s: T.piecewise_constant(s, [5, 10], [0.1, 1, 0.3]),
     r"Values must have elements all with the same dtype \(float32 vs int32\)"),
    (lambda s: T.piecewise_constant(s, [5, 10], [0.1, 0.2]),
     "length of boundaries should be 1 less than the length of values"),
    (lambda s: T.piecewise_constant(s, [10, 5], [0.1, 0.2, 0.3]), "increasing order"),
    (lambda s: T.exponential_decay(0.1, None, 10, 0.9), "global_step is required for "
     "exponential_decay"),
    (lambda s: T.cosine_decay(0.1, None, 10), "global_step is required for cosine_decay"),
])
def test_bad_arguments_raise_and_change_nothing(build, match, graph):
    step = gc.train.get_or_create_global_step()
    gc.placeholder(gc.float32, [], name="float_step")
    before = len(graph.get_operations())
    with pytest.raises(ValueError, match=match):
        build(step)
    assert len(graph.get_operations()) == before


def test_noisy_linear_cosine_decay_draws_noise_that_fades(graph):
    step = gc.placeholder(gc.int64, [])
    rate = T.noisy_linear_cosine_decay(0.1, step, 10, initial_variance=1.0)
    with gc.Session() as sess:
        start = np.array([sess.run(rate, {step: 0}) for _ in range(300)])
        end = {float(sess.run(rate, {step: 10})) for _ in range(5)}
    # at step 0: 0.1 * ((1 + N(0, 1)) * 1 + 0.001); at decay_steps the cosine factor is 0
    assert abs(start.mean() - 0.1001) < 0.03 and 0.08 < start.std() < 0.12
    assert len(end) == 1 and end.pop() == pytest.approx(0.1 * 0.001)


def test_schedule_drives_an_optimizer_and_minimize_advances_the_step(graph):
    """w -= lr(step) * grad each run, with step = the global step before the update."""
    step = gc.train.get_or_create_global_step()
    rate = T.exponential_decay(0.5, step, 2, 0.5, staircase=True)
    w = gc.Variable(4.0, dtype=gc.float64, name="w")
    loss = 0.5 * gc.square(w)  # gradient w
    train_op = T.GradientDescentOptimizer(rate).minimize(loss, global_step=step)
    theta = 4.0
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        for t in range(7):
            assert sess.run(step) == t
            sess.run(train_op)
            theta -= np.float32(0.5 * 0.5 ** (t // 2)) * theta
            assert sess.run(w) == pytest.approx(theta, rel=1e-12)
        assert sess.run([step, rate]) == [7, pytest.approx(0.5 * 0.5 ** 3)]
