"""Checking a graph's symbolic gradient against finite differences of a NumPy reference.

For compositions (losses, clipping) the reference is the TF1 formula written in NumPy and
evaluated in float64, so the check covers both the formula and the gradient graphc derives
for it: along a random direction ``t``, ``<grad, t>`` must equal ``(f(x + eps t) - f(x - eps
t)) / (2 eps)`` (JAX's inner-product check).
"""
from __future__ import annotations

import numpy as np

import graphc as gc


def assert_gradient_matches_reference(objective, feeds: dict, xs: list, reference,
                                      rtol: float = 1e-4, eps: float = 1e-6, seed: int = 0):
    """``objective`` (a scalar tensor) differentiated for the placeholders ``xs`` at
    ``feeds`` against ``reference(*values of xs)``, a float64 NumPy function."""
    with objective.graph.as_default():
        grads = gc.gradients(objective, xs)
    assert all(g is not None for g in grads), f"no gradient for {[x.name for x in xs]}"
    with gc.Session(graph=objective.graph) as sess:
        values = sess.run(grads, feeds)
    rng = np.random.default_rng(seed)
    base = [np.asarray(feeds[x], np.float64) for x in xs]
    directions = [rng.normal(size=b.shape) for b in base]
    plus = reference(*(b + eps * d for b, d in zip(base, directions)))
    minus = reference(*(b - eps * d for b, d in zip(base, directions)))
    numeric = (plus - minus) / (2 * eps)
    analytic = sum(float(np.sum(v * d)) for v, d in zip(values, directions))
    for x, v in zip(xs, values):
        assert np.shape(v) == np.shape(feeds[x]), f"gradient shape of {x.name}"
        assert np.all(np.isfinite(v)), f"gradient of {x.name} is not finite: {v}"
    assert abs(numeric - analytic) <= rtol * max(1.0, abs(numeric)), (
        f"finite differences {numeric} vs gradient {analytic}")
