"""Define-by-run on the same IR: eager tensors that remember how they were computed,
gradient tapes over them, and Python functions traced into optimized graphs.

Example:
    >>> import graphc as gc
    >>> with gc.eager():
    ...     x = gc.constant([0.1, 0.2], dtype=gc.float64)
    ...     theta = gc.constant([0.1, -0.1], dtype=gc.float64)
    ...     yhat = x[0] * theta[0] + x[1] * theta[1]
    ...     yhat.data, yhat.partial(theta[0]).data      # (-0.01, 0.1)
"""
from .context import eager, eager_graph, enable_eager_execution, executing_eagerly  # noqa
from .core import EagerGraph, EagerOperation, EagerTensor  # noqa: F401
from .tape import GradientTape, UnconnectedGradients, partial  # noqa: F401
from .function import ConcreteFunction, Function, TensorSpec, function  # noqa: F401
from .variable_values import install_variable_values

install_variable_values()
