"""Eager variables are values too (TF2's eager ``tf.Variable``): ``numpy()``, printing with
the value, NumPy and Python conversions, and ``value()`` reading the value *now*.

A ``gc.Variable`` made in eager execution is the graph mode's ``Variable`` (graphc/variables.py)
living in the eager graph, so every read and assign is an eager op that runs at once. What
differs is only what a value-like object answers; the methods installed here ask the
variable's graph and leave graph-mode variables as they were (``numpy()`` there raises, as
TF2's does outside eager execution).

Example:
    >>> with gc.eager():
    ...     v = gc.Variable([1.0, 2.0], name="v")
    ...     v.assign_add([1.0, 1.0]).numpy()     # array([2., 3.], dtype=float32)
    ...     v.numpy(), v.value().numpy()          # the value now, both
    ...     print(v)
    <gc.Variable 'v:0' shape=(2,) dtype=float32, numpy=[2., 3.]>
"""
from __future__ import annotations

import numpy as np

from graphc.variables import Variable

__all__ = ["install_variable_values"]


def _eager(variable) -> bool:
    return bool(getattr(variable.graph, "executes_eagerly", False))


def _numpy(self) -> np.ndarray:
    """The variable's value now, as a read-only NumPy array (eager execution only).

    Raises:
        NotImplementedError: a graph-mode variable (its value lives in a Session).
    """
    if not _eager(self):
        raise NotImplementedError(f"Variable {self.name!r}: numpy() is only available in "
                                  "eager execution; run it in a Session (sess.run(v)) instead")
    return self.read_value().numpy()


def install_variable_values() -> None:
    """Give ``Variable`` its eager-value behaviour (graph-mode variables keep theirs)."""
    graph_value, graph_repr = Variable.value, Variable.__repr__

    def value(self):
        """The variable's value: in eager execution a read of it now (TF2); in a graph the
        snapshot tensor ``W/read`` made with the variable."""
        return self.read_value() if _eager(self) else graph_value(self)

    def __repr__(self) -> str:
        if not _eager(self):
            return graph_repr(self)
        shown = np.array2string(np.asarray(_numpy(self)), separator=", ", threshold=20)
        return f"{graph_repr(self)[:-1]}, numpy={shown}>"

    def __array__(self, dtype=None, copy=None):
        if not _eager(self):  # as before: NumPy holds the Variable object itself
            held = np.empty((), dtype=object)
            held[()] = self
            return held
        array = _numpy(self)
        return array if dtype is None else array.astype(dtype)

    def __bool__(self) -> bool:
        return bool(np.asarray(self)) if _eager(self) else True

    Variable.value, Variable.__repr__, Variable.numpy = value, __repr__, _numpy
    Variable.__array__ = __array__
    Variable.__float__ = lambda self: float(np.asarray(self))
    Variable.__int__ = lambda self: int(np.asarray(self))
    Variable.__index__ = lambda self: int(np.asarray(self))
    Variable.__bool__ = __bool__
    Variable.__format__ = lambda self, spec: (format(np.asarray(self), spec) if spec
                                              else repr(self))
