"""TF1's ``gc.RegisterGradient`` and ``Graph.gradient_override_map``: gradient functions
registered by name, and a scope in which ops of some types take one of them.

Only op families that declare it honour an override (``OVERRIDABLE`` lists their TF1 type
names: ``PyFunc`` for ``gc.py_func``); naming any other type raises NotImplementedError, so
no override is silently ignored.

Example:
    >>> @gc.RegisterGradient("SquareGrad")
    ... def _square_grad(op, dy):
    ...     return [2.0 * op.inputs[0] * dy]
    >>> with gc.get_default_graph().gradient_override_map({"PyFunc": "SquareGrad"}):
    ...     y = gc.py_func(np.square, [x], gc.float32)
"""
from __future__ import annotations

import contextlib
from typing import Callable, Optional

__all__ = ["RegisterGradient", "OVERRIDABLE", "override_scope", "override_for"]

_GRADIENTS: dict = {}
OVERRIDABLE: set = set()  # TF1 op type names whose gradient an override may replace


class RegisterGradient:
    """Decorator registering ``fn(op, *output_grads) -> input grads`` under a name (TF1)."""

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError(f"RegisterGradient: the name must be a string, got {op_type!r}")
        self._name = op_type

    def __call__(self, fn: Callable) -> Callable:
        if self._name in _GRADIENTS:
            raise KeyError(f"Registering two gradient with name {self._name!r}!")
        _GRADIENTS[self._name] = fn
        return fn


@contextlib.contextmanager
def override_scope(graph, op_type_map: dict):
    """The body of ``Graph.gradient_override_map``: ops of the mapped TF1 types created
    inside take the gradient registered under the mapped name."""
    unknown = sorted(set(op_type_map) - OVERRIDABLE)
    if unknown:
        raise NotImplementedError(f"gradient_override_map: graphc can replace the gradient of "
                                  f"{', '.join(sorted(OVERRIDABLE))} ops only, not {unknown}")
    saved = graph._gradient_overrides
    graph._gradient_overrides = {**saved, **op_type_map}
    try:
        yield
    finally:
        graph._gradient_overrides = saved


def override_for(graph, tf_types) -> Optional[Callable]:
    """The gradient function the current overrides give ops of ``tf_types``, or None;
    raises LookupError for a mapped name no ``RegisterGradient`` registered."""
    for tf_type in tf_types:
        name = graph._gradient_overrides.get(tf_type)
        if name is not None:
            if name not in _GRADIENTS:
                raise LookupError(f"gradient_override_map maps {tf_type!r} to {name!r}, but "
                                  f"no gradient is registered under that name "
                                  "(gc.RegisterGradient)")
            return _GRADIENTS[name]
    return None
