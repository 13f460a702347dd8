"""TF1's ``gc.RegisterGradient`` and ``Graph.gradient_override_map``: gradient functions
registered by name, and a scope in which ops of some types take one of them.

A key of the map names an op type: a graphc type or its TF1 spelling, compared without case
and underscores (``"Sign"``, ``"StopGradient"``, ``"MatMul"``), or a TF1 type an op family
declares in ``OVERRIDABLE`` (``PyFunc`` for ``gc.py_func``, which reads its override
itself). A key matching no op type raises NotImplementedError, so no override is silently
ignored. A value names a ``RegisterGradient`` function or, as in TF1, an op type whose own
gradient to use (``{"Sign": "Identity"}``: the straight-through estimator).

Example:
    >>> @gc.RegisterGradient("SquareGrad")
    ... def _square_grad(op, dy):
    ...     return [2.0 * op.inputs[0] * dy]
    >>> with gc.get_default_graph().gradient_override_map({"PyFunc": "SquareGrad"}):
    ...     y = gc.py_func(np.square, [x], gc.float32)
    >>> with gc.get_default_graph().gradient_override_map({"Round": "Identity"}):
    ...     q = gc.round(x)   # gradient 1, not 0
"""
from __future__ import annotations

import contextlib
import difflib
from typing import Callable, Optional

from graphc import registry

__all__ = ["RegisterGradient", "OVERRIDABLE", "override_scope", "override_for",
           "override_for_op", "normalized_type"]

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
    types = {normalized_type(opdef.name): opdef.name for opdef in registry.all_ops()}
    unknown = sorted(key for key in op_type_map
                     if key not in OVERRIDABLE and normalized_type(key) not in types)
    if unknown:
        close = difflib.get_close_matches(normalized_type(unknown[0]), list(types), n=3)
        hint = f" (close: {', '.join(types[c] for c in close)})" if close else ""
        raise NotImplementedError(
            f"gradient_override_map: no graphc op type matches {unknown}{hint}; keys name "
            f"graphc op types (any spelling of case and underscores) or "
            f"{', '.join(sorted(OVERRIDABLE))}")
    for key, name in op_type_map.items():  # fail here, not when an op inside is created
        if key not in OVERRIDABLE:
            _resolve(key, name)
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
            return _resolve(tf_type, name)
    return None


def override_for_op(graph, op_type: str) -> Optional[Callable]:
    """The gradient function the current overrides give a new op of graphc type
    ``op_type`` (None: its own rule); ``Operation`` asks it when created in a scope."""
    for key, name in graph._gradient_overrides.items():
        if key not in OVERRIDABLE and normalized_type(key) == normalized_type(op_type):
            return _resolve(key, name)
    return None


def normalized_type(type_name: str) -> str:
    """An op type's spelling without case and underscores ("MatMul" ~ "matmul")."""
    return type_name.replace("_", "").lower()


def _resolve(key: str, name: str) -> Callable:
    """The function registered as ``name``, else the gradient rule of the op type ``name``."""
    if name in _GRADIENTS:
        return _GRADIENTS[name]
    for opdef in registry.all_ops():
        if normalized_type(opdef.name) == normalized_type(name) and callable(opdef.grad):
            return opdef.grad
    raise LookupError(f"gradient_override_map maps {key!r} to {name!r}, but no gradient is "
                      "registered under that name (gc.RegisterGradient) and no op type of "
                      "that name has a gradient rule")
