"""Ops whose running is seen beyond their values (an assignment, a variable read that fails
uninitialized, an integer division by zero) run wherever the unoptimized graph runs them,
whatever a rewrite stops needing (seed 344 of the long differential run: ``x - x -> 0``
dropped a ``truncatediv`` by zero, turning its error into zeros)."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.ops import elementwise


def _sessions():
    return gc.Session(), gc.Session(optimize=False)


def _outcome(session, fetch, feeds=None):
    try:
        return "value", str(np.asarray(session.run(fetch, feeds)).tolist())
    except gc.errors.OpError as err:
        return "error", type(err).__name__


@pytest.mark.parametrize("drop", [lambda y: y - y, lambda y: y * 0, gc.shape, gc.zeros_like,
                                  gc.size])
def test_an_assignment_whose_value_a_rewrite_drops_still_happens(drop):
    with gc.Graph().as_default():
        v = gc.Variable(np.int32([1, 2]))
        fetch = drop(gc.assign_add(v, [10, 10]))
        seen = []
        for session in _sessions():
            session.run(v.initializer)
            first = session.run(fetch)
            seen.append((np.asarray(first).tolist(), session.run(v).tolist()))
        assert seen[0] == seen[1] and seen[0][1] == [11, 12]


@pytest.mark.parametrize("drop", [lambda y: y - y, lambda y: y * 0, gc.shape])
def test_errors_a_rewrite_could_drop_are_still_raised(drop):
    with gc.Graph().as_default():
        a, b = gc.placeholder(gc.int32, [3]), gc.placeholder(gc.int32, [3])
        fetch = drop(gc.truncatediv(a, b))
        uninitialized = drop(gc.Variable(np.int32([1, 2, 3])).value())
        feeds = {a: [1, 2, 3], b: [1, 0, 1]}
        for tensor, expected in [(fetch, "InvalidArgumentError"),
                                 (uninitialized, "FailedPreconditionError")]:
            outcomes = {_outcome(session, tensor, feeds) for session in _sessions()}
            assert outcomes == {("error", expected)}
        ok = {_outcome(session, fetch, {a: [1, 2, 3], b: [1, 1, 1]}) for session in _sessions()}
        assert len(ok) == 1 and next(iter(ok))[0] == "value"


def test_a_loop_body_keeps_its_effects_and_raising_ops_stay_inside_the_loop():
    with gc.Graph().as_default():
        a, b = gc.placeholder(gc.int32, [2]), gc.placeholder(gc.int32, [2])
        n = gc.placeholder(gc.int32, [])

        def body(i, acc):  # the quotient is loop-invariant, and its value drops out
            q = gc.truncatediv(a, b)
            return i + 1, acc + (q - q)
        _, total = gc.while_loop(lambda i, acc: i < n, body,
                                 [gc.constant(0), gc.zeros([2], gc.int32)])
        for feeds, expected in [({n: 3, b: [1, 0]}, ("error", "InvalidArgumentError")),
                                ({n: 0, b: [1, 0]}, ("value", "[0, 0]")),  # never divides
                                ({n: 3, b: [1, 1]}, ("value", "[0, 0]"))]:
            feeds[a] = [4, 5]
            assert {_outcome(session, total, feeds) for session in _sessions()} == {expected}


def test_integer_division_ops_declare_that_they_raise_on_values():
    """Every op built on the raising integer division says so in its record (what prune,
    loop-invariant motion and the rules' value facts ask)."""
    raising = elementwise._raising_integer_division(np.floor_divide).__code__
    found = [op for op in registry.all_ops()
             if getattr(op.kernel, "__code__", None) is raising]
    assert {op.name for op in found} >= {"floordiv", "mod", "truncatediv", "truncatemod"}
    assert all(op.raises_on_values for op in found)
