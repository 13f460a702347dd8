"""Finite-difference gradient checks of composed functions (the registry tests cover single
OpDefs; ``tf.nn`` functions composed of several are checked with this, the same way)."""
from __future__ import annotations

import numpy as np

import graphc as gc

EPS = 1e-6


def assert_gradients_match(build, *arrays, seed: int = 0, rtol: float = 1e-5):
    """For ``outputs = build(*placeholders)`` (a tensor or tuple), the gradient of
    ``sum(C * output)`` over floating outputs, for random C, dotted with a random direction T
    must equal the central difference along T (float64, every input at once)."""
    rng = np.random.default_rng(seed)
    graph = gc.Graph()
    with graph.as_default():
        xs = [gc.placeholder(gc.float64, np.shape(a)) for a in arrays]
        outs = build(*xs)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        objective = gc.add_n([gc.reduce_sum(o * gc.constant(rng.normal(size=o.shape.as_list())))
                              for o in outs if o.dtype.is_floating])
        grads = gc.gradients(objective, xs)
    feeds = {x: np.asarray(a, np.float64) for x, a in zip(xs, arrays)}
    directions = [rng.normal(size=np.shape(a)) for a in arrays]
    with gc.Session(graph=graph) as sess:
        values = sess.run(grads, feeds)
        shifted = []
        for sign in (1.0, -1.0):
            moved = {x: feeds[x] + sign * EPS * d for x, d in zip(xs, directions)}
            shifted.append(sess.run(objective, moved))
    numeric = (shifted[0] - shifted[1]) / (2 * EPS)
    analytic = sum(float(np.sum(v * d)) for v, d in zip(values, directions))
    assert abs(numeric - analytic) <= rtol * max(1.0, abs(numeric)), (numeric, analytic)
