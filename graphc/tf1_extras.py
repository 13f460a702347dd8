"""More of TF1's top-level names, as compositions of graphc's own: the gradient and variable
enums (``AggregationMethod``, ``UnconnectedGradients``, ``VariableAggregation``,
``VariableSynchronization``), deprecated scope spellings (``op_scope``,
``variable_op_scope``), checks (``assert_same_float_dtype``,
``assert_variables_initialized``, ``is_symbolic_tensor``), gradient helpers
(``grad_pass_through``, ``recompute_grad``), ``vectorized_map``, ``timestamp``,
``conv2d_backprop_*_v2`` and ``tf.Module``.

Example:
    >>> grads = gc.gradients(y, [x], unconnected_gradients=gc.UnconnectedGradients.ZERO)
    >>> quantized = gc.grad_pass_through(gc.round)(x)     # round forward, identity backward
"""
from __future__ import annotations

import enum
import re
import time

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.control_flow import map_fn
from graphc.graph import Tensor, get_default_graph
from graphc.function_tools import custom_gradient
from graphc.ops.array import stack
from graphc.ops.common import apply_op
from graphc.ops.conv_grads import conv2d_backprop_filter, conv2d_backprop_input
from graphc.ops.shape_ops import rank, shape
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.variable_scope import variable_scope
from graphc.variables import Variable, global_variables, local_variables

__all__ = ["AggregationMethod", "UnconnectedGradients", "VariableAggregation",
           "VariableSynchronization", "op_scope", "variable_op_scope",
           "assert_same_float_dtype", "assert_variables_initialized", "is_symbolic_tensor",
           "grad_pass_through", "recompute_grad", "vectorized_map", "timestamp",
           "conv2d_backprop_filter_v2", "conv2d_backprop_input_v2", "Module"]


class AggregationMethod:
    """How ``gc.gradients`` adds the gradients of a tensor's consumers (TF's constants);
    graphc sums them with one ``add_n`` whichever is asked for."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients(str, enum.Enum):
    """What ``gc.gradients`` gives for an x the ys do not depend on: None or zeros."""

    NONE = "none"
    ZERO = "zero"


class VariableSynchronization(enum.Enum):
    """When a distributed variable's replicas are synchronized (TF's enum; one replica
    here)."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """How a distributed variable's replica updates combine (TF's enum; one replica here)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def op_scope(values, name, default_name=None):
    """TF1's deprecated ``tf.op_scope(values, name, default_name)``: ``name_scope``.

    Example:
        >>> with gc.op_scope([x], None, "my_op"):
        ...     y = x + 1
    """
    return get_default_graph().name_scope(name or default_name)


def variable_op_scope(values, name_or_scope, default_name=None, **kwargs):
    """TF1's deprecated ``tf.variable_op_scope``: ``variable_scope(name_or_scope,
    default_name, values, ...)``.

    Example:
        >>> with gc.variable_op_scope([x], None, "layer"):
        ...     w = gc.get_variable("w", [3])
    """
    return variable_scope(name_or_scope, default_name, values, **kwargs)


def assert_same_float_dtype(tensors=None, dtype=None):
    """The float dtype of ``tensors`` (and ``dtype``, where given), which must all agree;
    float32 when there are none (TF's ``tf.assert_same_float_dtype``).

    Example:
        >>> gc.assert_same_float_dtype([x, y])    # gc.float32
    """
    found = None if dtype is None else gdt.as_dtype(dtype)
    for tensor in tensors or ():
        tensor_dtype = tensor.dtype.base_dtype if hasattr(tensor.dtype, "base_dtype") \
            else gdt.as_dtype(tensor.dtype)
        if found is not None and tensor_dtype is not found:
            raise ValueError(f"assert_same_float_dtype: {tensor} has dtype "
                             f"{tensor_dtype.name}, expected {found.name}")
        found = tensor_dtype
    if found is None:
        return gdt.float32
    if not found.is_floating:
        raise ValueError(f"assert_same_float_dtype: expected a float dtype, got {found.name}")
    return found


def assert_variables_initialized(var_list=None):
    """The ranks of ``var_list``'s variables (all global and local ones by default), read
    at run time: running it raises FailedPreconditionError while one is uninitialized (TF1's
    ``tf.assert_variables_initialized``); None when there are no variables.

    Example:
        >>> sess.run(gc.assert_variables_initialized())
    """
    if var_list is None:
        var_list = global_variables() + local_variables()
    if not var_list:
        return None
    ranks = [rank(variable) for variable in var_list]
    return ranks[0] if len(ranks) == 1 else stack(ranks)


def is_symbolic_tensor(tensor) -> bool:
    """Whether ``tensor`` is a graph tensor (not an eager value).

    Example:
        >>> gc.is_symbolic_tensor(gc.placeholder(gc.float32))    # True
    """
    return isinstance(tensor, Tensor) and not hasattr(tensor, "numpy")


def grad_pass_through(f):
    """``f`` in the forward pass, the identity in the backward one (a straight-through
    estimator, TF's ``tf.grad_pass_through``).

    Example:
        >>> y = gc.grad_pass_through(gc.round)(x)      # dy/dx = 1
    """
    @custom_gradient
    def passed_through(*args):
        def grad(*dys, variables=None):
            through = list(dys) if len(args) > 1 else dys[0]
            # variables f reads get no gradient, as in TF
            return through if variables is None else (through, [None] * len(variables))
        return f(*args), grad
    return passed_through


def recompute_grad(f):
    """``f`` whose gradient TF recomputes from its inputs to save memory; here the same
    values and gradients (graphc's plans free every intermediate after its last reader).

    Example:
        >>> block = gc.recompute_grad(lambda x: gc.nn.relu(x @ w))
    """
    def wrapped(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapped


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """``fn`` over the first dimension of ``elems`` (TF's ``tf.vectorized_map``; here a
    ``map_fn``, the same values).

    Example:
        >>> norms = gc.vectorized_map(lambda row: gc.norm(row), matrix)
    """
    return map_fn(fn, elems)


def _timestamp_kernel():
    return np.float64(time.time())


TIMESTAMP = registry.register(OpDef(
    name="timestamp", dtypes=lambda d, a: [gdt.float64],
    shapes=lambda ins, a: [TensorShape([])], kernel=_timestamp_kernel,
    grad=registry.NOT_DIFFERENTIABLE, stateful=True, foldable=False,
    tested_elsewhere="tests/test_tf1_extras.py",
    doc="The time of the run in seconds since the epoch (float64)."))


def timestamp(name=None):
    """The time when the op runs, float64 seconds since the epoch (TF's ``tf.timestamp``).

    Example:
        >>> start = gc.timestamp()
    """
    return apply_op("timestamp", [], {}, name=name or "Timestamp")


def conv2d_backprop_filter_v2(input, filter, out_backprop, strides, padding,  # noqa: A002
                              use_cudnn_on_gpu=True, data_format="NHWC", dilations=None,
                              name=None):
    """``conv2d_backprop_filter`` given the filter itself (its shape), TF1's ``_v2``.

    Example:
        >>> dw = gc.conv2d_backprop_filter_v2(x, w, dy, [1, 1, 1, 1], "SAME")
    """
    return conv2d_backprop_filter(input, shape(filter), out_backprop, strides, padding,
                                  dilations or (1, 1, 1, 1), data_format, name)


def conv2d_backprop_input_v2(input, filter, out_backprop, strides, padding,  # noqa: A002
                             use_cudnn_on_gpu=True, data_format="NHWC", dilations=None,
                             name=None):
    """``conv2d_backprop_input`` given the input itself (its shape), TF1's ``_v2``.

    Example:
        >>> dx = gc.conv2d_backprop_input_v2(x, w, dy, [1, 1, 1, 1], "SAME")
    """
    return conv2d_backprop_input(shape(input), filter, out_backprop, strides, padding,
                                 dilations or (1, 1, 1, 1), data_format, name)


_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CAMEL = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


class Module:
    """TF's ``tf.Module``: a named container whose attributes' variables and submodules it
    finds (``variables``, ``trainable_variables``, ``submodules``), under its own
    ``name_scope``.

    Example:
        >>> class Dense(gc.Module):
        ...     def __init__(self, n_in, n_out, name=None):
        ...         super().__init__(name=name)
        ...         with self.name_scope:
        ...             self.w = gc.Variable(gc.random_normal([n_in, n_out]), name="w")
        >>> Dense(3, 2).trainable_variables
    """

    def __init__(self, name=None):
        if name is None:
            # TF's camel-to-snake: MLP -> mlp, DenseLayer -> dense_layer, HTTPServer -> http_server
            name = _CAMEL.sub(r"_\1", type(self).__name__).lower()
        elif not _VALID_NAME.match(name):
            raise ValueError(f"Module: {name!r} is not a valid module name (letters, digits "
                             "and underscores, not starting with a digit)")
        self._name = name
        with get_default_graph().name_scope(name) as scope:
            self._scope_name = scope

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self):
        """The module's name scope, entered again (``with self.name_scope:``)."""
        return get_default_graph().name_scope(self._scope_name)

    def _walk(self, keep, seen=None):
        """Every value reachable through attributes, lists, tuples and dicts (not through
        other objects), each once, in attribute order; submodules are walked into."""
        seen = set() if seen is None else seen
        found = []

        def visit(value):
            if id(value) in seen:
                return
            if isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)
                return
            if isinstance(value, dict):
                for key in sorted(value, key=str):
                    visit(value[key])
                return
            seen.add(id(value))
            if keep(value):
                found.append(value)
            if isinstance(value, Module):
                found.extend(value._walk(keep, seen))
        for key in sorted(vars(self)):
            if not key.startswith("_"):
                visit(vars(self)[key])
        return found

    @property
    def variables(self) -> tuple:
        """The variables of this module and its submodules."""
        return tuple(self._walk(lambda v: isinstance(v, Variable)))

    @property
    def trainable_variables(self) -> tuple:
        """The trainable ones of ``variables``."""
        return tuple(v for v in self.variables if getattr(v, "trainable", True))

    @property
    def submodules(self) -> tuple:
        """The modules among this module's attributes, recursively."""
        return tuple(self._walk(lambda v: isinstance(v, Module)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"
