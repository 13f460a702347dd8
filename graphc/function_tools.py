"""TF1's function-level helpers: ``custom_gradient`` (a function whose gradient you write),
``make_template`` (a function whose variables are created once and shared by every call),
``init_scope``, ``is_tensor``, ``get_seed`` and ``NotDifferentiable``.

Example:
    >>> @gc.custom_gradient
    ... def clip_gradient(x):
    ...     def grad(dy):
    ...         return gc.clip_by_value(dy, -1.0, 1.0)
    ...     return gc.identity(x), grad
    >>> dense = gc.make_template("dense", lambda x: gc.layers.dense(x, 4))
    >>> a, b = dense(x1), dense(x2)          # one set of weights: dense/dense/kernel...
"""
from __future__ import annotations

import contextlib
import functools
import inspect

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.gradient_overrides import normalized_type
from graphc.graph import Tensor, get_default_graph
from graphc.ops.random import get_seed
from graphc.ops.shape_checks import identity_n
from graphc.variable_scope import VariableScope, variable_scope
from graphc.variables import GraphKeys, Variable

__all__ = ["custom_gradient", "make_template", "Template", "init_scope", "is_tensor",
           "get_seed", "NotDifferentiable", "NoGradient", "no_gradient"]


def _flat(result):
    if isinstance(result, (list, tuple)):
        return list(result), type(result)
    return [result], None


def custom_gradient(f):
    """Decorate ``f(*tensors) -> (outputs, grad_fn)`` so its gradient is ``grad_fn(*dys)``
    (the gradients of the inputs, one per input) instead of the gradient of the ops inside
    (TF1 ``tf.custom_gradient``, graph mode). If ``f`` reads variables, ``grad_fn`` takes
    ``variables=`` and returns ``(input_grads, variable_grads)``.

    Example:
        >>> @gc.custom_gradient
        ... def log1pexp(x):
        ...     e = gc.exp(x)
        ...     return gc.log(1 + e), lambda dy: dy * (1 - 1 / (1 + e))
    """
    @functools.wraps(f)
    def decorated(*args, **kwargs):
        if kwargs:
            raise ValueError(f"custom_gradient: {f.__name__} was called with keyword "
                             f"arguments {sorted(kwargs)}; pass tensors positionally")
        graph = get_default_graph()
        inputs = [convert_to_tensor(a) for a in args]
        result, grad_fn = f(*inputs)
        outputs, kind = _flat(result)
        outputs = [convert_to_tensor(o) for o in outputs]
        found = _variables_read(graph, outputs, inputs)
        variables, handles = [v for v, _ in found], [t for _, t in found]
        takes_variables = "variables" in inspect.signature(grad_fn).parameters
        if variables and not takes_variables:
            raise TypeError(f"custom_gradient: {f.__name__} reads variables "
                            f"({', '.join(v.op.name for v in variables)}), so its gradient "
                            "function must take a 'variables' keyword argument")

        def gradient(op, *dys):
            dys = list(dys[:len(outputs)])
            if takes_variables:
                input_grads, variable_grads = grad_fn(*dys, variables=variables)
            else:
                input_grads, variable_grads = grad_fn(*dys), []
            input_grads, _ = _flat(input_grads)
            if len(input_grads) != len(inputs) or len(variable_grads) != len(variables):
                raise ValueError(f"custom_gradient: the gradient function of {f.__name__} "
                                 f"returned {len(input_grads)} input and "
                                 f"{len(variable_grads)} variable gradients for "
                                 f"{len(inputs)} inputs and {len(variables)} variables")
            return [None] * len(outputs) + list(input_grads) + list(variable_grads)
        through = identity_n(outputs + inputs + handles, name=f"{f.__name__}_custom_gradient")
        through[0].op.gradient_override = gradient
        results = through[:len(outputs)]
        return results[0] if kind is None else kind(results)
    return decorated


def _variables_read(graph, outputs, inputs) -> list:
    """``(variable, read tensor)`` for each Variable whose value reaches ``outputs`` other
    than through ``inputs`` (what the gradient function must also differentiate)."""
    found, seen = [], set()
    stack = [t for t in outputs]
    stops = {id(t) for t in inputs}
    reads = getattr(graph, "_variable_reads", {})
    while stack:
        tensor = stack.pop()
        if id(tensor) in stops or id(tensor.op) in seen:
            continue
        seen.add(id(tensor.op))
        if tensor.op.type == "read_variable":
            variable = reads.get(tensor.op.inputs[0].op)
            if isinstance(variable, Variable) and all(v is not variable for v, _ in found):
                found.append((variable, tensor))
            continue
        stack.extend(tensor.op.inputs)
    return found


class Template:
    """A function whose first call creates its variables under its own variable scope and
    whose later calls reuse them (TF1 ``tf.make_template``'s result).

    Example:
        >>> encode = gc.make_template("encoder", build_encoder)
        >>> z1, z2 = encode(x1), encode(x2)           # shared weights
        >>> encode.trainable_variables                # the variables it made
    """

    def __init__(self, name, func, create_scope_now=False, unique_name=None,
                 custom_getter=None):
        self._name, self._func, self._unique_name = name, func, unique_name
        self._custom_getter = custom_getter
        self._scope = None
        if create_scope_now:
            with variable_scope(unique_name, name, custom_getter=custom_getter) as scope:
                self._scope = scope

    def __call__(self, *args, **kwargs):
        if self._scope is None:
            with variable_scope(self._unique_name, self._name,
                                custom_getter=self._custom_getter) as scope:
                self._scope = scope
                return self._func(*args, **kwargs)
        graph = get_default_graph()
        trainable = len(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES))
        with variable_scope(self._scope, reuse=True):
            result = self._func(*args, **kwargs)
        if len(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)) != trainable:
            raise ValueError(f"Trainable variable created when calling a template after the "
                             f"first time, perhaps you used tf.Variable when you meant "
                             f"tf.get_variable (template {self._name!r})")
        return result

    @property
    def name(self) -> str:
        return self._name

    @property
    def variable_scope(self) -> VariableScope:
        return self._scope

    @property
    def variable_scope_name(self) -> str:
        return self._scope.name if self._scope is not None else None

    def _collection(self, key) -> list:
        if self._scope is None:
            return []
        return get_default_graph().get_collection(key, self._scope.name + "/")

    @property
    def trainable_variables(self) -> list:
        return self._collection(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def global_variables(self) -> list:
        return self._collection(GraphKeys.GLOBAL_VARIABLES)

    @property
    def local_variables(self) -> list:
        return self._collection(GraphKeys.LOCAL_VARIABLES)

    variables = global_variables


def make_template(name_, func_, create_scope_now_=False, unique_name_=None,
                  custom_getter_=None, **kwargs) -> Template:
    """``func_`` (with ``kwargs`` bound) wrapped so its variables are made by the first
    call and shared by all later ones (TF1 ``tf.make_template``).

    Example:
        >>> scale = gc.make_template("scale", lambda x: x * gc.get_variable("w", []))
    """
    func = functools.partial(func_, **kwargs) if kwargs else func_
    return Template(name_, func, create_scope_now_, unique_name_, custom_getter_)


@contextlib.contextmanager
def init_scope():
    """A context outside any control dependencies of the default graph, for creating
    variables and their initializers (TF1 ``tf.init_scope`` in graph mode).

    Example:
        >>> with gc.control_dependencies([op]), gc.init_scope():
        ...     v = gc.Variable(0.0)     # its initializer does not wait for op
    """
    with get_default_graph().control_dependencies(None):
        yield


def is_tensor(x) -> bool:
    """Whether ``x`` is a graphc tensor or variable (TF1 ``tf.is_tensor``).

    Example:
        >>> gc.is_tensor(gc.constant(1.0)), gc.is_tensor(1.0)   # (True, False)
    """
    return isinstance(x, (Tensor, Variable))


def NotDifferentiable(op_type: str) -> None:  # noqa: N802 - TF1's name
    """Declare ops of ``op_type`` to have no gradient (TF1 ``tf.NotDifferentiable``). An op
    type graphc knows must already declare it (graphc ops declare their gradient in the
    registry): one with a gradient rule raises, so no rule is silently dropped.

    Example:
        >>> gc.NotDifferentiable("Shape")
    """
    if not isinstance(op_type, str):
        raise TypeError(f"NotDifferentiable: op_type must be a string, got {op_type!r}")
    for opdef in registry.all_ops():
        if normalized_type(opdef.name) == normalized_type(op_type) and callable(opdef.grad):
            raise ValueError(f"NotDifferentiable: graphc's op {opdef.name!r} has a gradient "
                             "rule; use gradient_override_map to replace it in a scope")


NoGradient = no_gradient = NotDifferentiable
