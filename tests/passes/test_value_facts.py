"""provably_finite: what the registry's finite_outputs facts prove, and what they must not."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.passes.value_facts import MAX_OPS_EXAMINED, provably_finite

F = gc.float32


def _tensor(make):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        i = gc.placeholder(gc.int32, (3,), name="i")
        u = gc.placeholder(gc.uint16, (3,), name="u")
        return make(x, i, u)


@pytest.mark.parametrize("make, finite", [
    (lambda x, i, u: i, True),
    (lambda x, i, u: gc.cast(i, F), True),
    (lambda x, i, u: gc.nn.softmax(gc.sin(gc.cast(i, F)) * 1.0), False),  # multiply overflows
    (lambda x, i, u: gc.nn.softmax(gc.sin(gc.cast(i, F))), True),
    (lambda x, i, u: gc.maximum(gc.tanh(gc.cast(i, F)), gc.constant(2.0, F)), True),
    (lambda x, i, u: gc.reshape(gc.transpose(gc.cast(i, F)), [3, 1]), True),
    (lambda x, i, u: gc.zeros_like(x), True),  # whatever x holds
    (lambda x, i, u: gc.one_hot(i, 4), True),
    (lambda x, i, u: gc.one_hot(i, 4, on_value=np.inf), False),
    (lambda x, i, u: gc.random_normal([3]), False),  # draw * stddev + mean may overflow
    (lambda x, i, u: x, False),  # a feed may hold NaN
    (lambda x, i, u: gc.tanh(x), False),  # tanh(NaN) is NaN
    (lambda x, i, u: gc.constant([1.0, np.inf], F), False),
    (lambda x, i, u: gc.exp(gc.cast(i, F)), False),  # exp overflows
    (lambda x, i, u: gc.cast(u, gc.float16), False),  # 65535 > 65504: inf
    (lambda x, i, u: gc.cast(gc.cast(i, gc.float64), F), False),  # 1e300 -> inf in float32
    (lambda x, i, u: gc.cast(gc.cast(i, F), gc.float64), True),
])
def test_provably_finite(make, finite):
    assert provably_finite(_tensor(make)) is finite


def test_the_proof_gives_up_on_long_chains_instead_of_walking_them():
    def chain(x, i, u):
        value = gc.cast(i, F)
        for _ in range(MAX_OPS_EXAMINED + 1):
            value = gc.sin(value)
        return value
    assert not provably_finite(_tensor(chain))
    assert provably_finite(_tensor(lambda x, i, u: gc.sin(gc.sin(gc.cast(i, F)))))


def test_every_finite_outputs_fact_holds_on_the_op_samples():
    """An op that claims finite outputs from finite inputs gives them on its samples."""
    claimed = [op for op in registry.all_ops() if op.finite_outputs is not None
               and op.samples is not None and not op.needs_context]
    assert len(claimed) >= 20
    for opdef in claimed:
        for sample in opdef.samples():
            arrays = [np.asarray(a) for a in sample.args if isinstance(a, np.ndarray)]
            if not all(np.all(np.isfinite(a)) for a in arrays if a.dtype.kind == "f"):
                continue
            fn = registry.api_for(opdef.name)
            g = gc.Graph()
            with g.as_default():
                out = fn(*sample.args, **sample.kwargs)
            with gc.Session(graph=g, optimize=False) as sess:
                values = sess.run(out)
            for value in values if isinstance(values, list) else [values]:
                value = np.asarray(value)
                if value.dtype.kind == "f":
                    assert np.all(np.isfinite(value)), opdef.name
