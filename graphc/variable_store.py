"""The per-graph store behind ``get_variable`` (TF1's ``_VariableStore``): it creates a
variable on first use and hands the same object back on reuse, checking what the caller
asked for (reuse mode, shape, dtype) against what exists.

A variable made here is an ordinary ``Variable`` named by its full scope name; its
initializer runs inside ``<name>/Initializer/`` and its regularizer inside
``<name>/Regularizer/``, whose penalty goes into ``GraphKeys.REGULARIZATION_LOSSES``.
A failed creation (a bad initializer, a regularizer that raises) leaves the graph, its
collections and the store as they were.
"""
from __future__ import annotations

import functools
import inspect
import threading

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import numpy_value
from graphc.graph import Tensor, get_default_graph
from graphc.initializers import GlorotUniform, Zeros
from graphc.shapes import as_shape
from graphc.variables import GraphKeys, Variable

__all__ = ["VariableStore"]


class VariableStore:
    """Full variable name -> the Variable ``get_variable`` made (one store per graph)."""

    def __init__(self):
        self._variables: dict = {}
        self._lock = threading.RLock()

    def variables(self) -> list:
        """The variables made so far, in creation order."""
        return list(self._variables.values())

    def get_variable(self, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None,
                     partitioner=None, validate_shape=True, use_resource=None, constraint=None,
                     synchronization=None, aggregation=None, default_dtype=gdt.float32):
        """The variable ``name`` (a full name), created unless it exists (see module doc).

        ``dtype`` is the dtype the caller gave (None: ``default_dtype``, or for a value
        initializer the value's dtype); ``reuse`` is False/None, True or AUTO_REUSE.
        """
        if partitioner is not None:
            raise NotImplementedError(f"get_variable '{name}': partitioned variables "
                                      "(partitioner=...) are not supported")
        from_value = initializer is not None and not callable(initializer)
        if from_value:
            if shape is not None:
                raise ValueError(f"get_variable '{name}': if initializer is a constant, do not "
                                 "specify shape (the variable takes the value's shape)")
            initializer, dtype = _initial_value(name, initializer, dtype)
        else:
            dtype = gdt.as_dtype(default_dtype if dtype is None else dtype)
        shape = as_shape(shape)
        with self._lock:
            found = self._variables.get(name)
            if found is not None:
                return _checked_reuse(name, found, shape, dtype, reuse)
            if reuse is True:
                raise ValueError(f"Variable {name} does not exist, or was not created with "
                                 "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE "
                                 "in VarScope?")
            variable = _create(name, shape, dtype, initializer, from_value, regularizer,
                               True if trainable is None else trainable, collections,
                               validate_shape, constraint)
            self._variables[name] = variable
            return variable


def _initial_value(name, value, dtype):
    """``(value, dtype)`` of a value initializer. Tensors, Variables and arrays keep their
    dtype (a different explicit dtype is an error, as in TF1); Python numbers and lists take
    the explicit dtype when it holds them exactly, else TF1's default (float32, int32)."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)) or hasattr(value,
                                                                      "_as_graph_element"):
        value_dtype = gdt.as_dtype(value.dtype)
        if dtype is not None and gdt.as_dtype(dtype) is not value_dtype:
            raise ValueError(f"get_variable '{name}': initializer type '{value_dtype.name}' and "
                             f"explicit dtype '{gdt.as_dtype(dtype).name}' don't match.")
        return value, value_dtype
    array = numpy_value(value, None if dtype is None else gdt.as_dtype(dtype),
                        context=f"get_variable '{name}': ")
    return array, gdt.as_dtype(array.dtype)


def _checked_reuse(name, found, shape, dtype, reuse):
    if not reuse:
        raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set "
                         f"reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined "
                         f"at: {found.op.location}")
    if not shape.is_compatible_with(found.shape):
        raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and "
                         f"found shape {found.shape}.")
    if dtype is not found.dtype:
        raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} "
                         f"and found dtype {found.dtype.name}.")
    return found


def _default_initializer(name, dtype):
    """TF1's default: glorot_uniform for floats, zeros for integers and bool."""
    if dtype.is_floating:
        return GlorotUniform()
    if dtype.is_integer or dtype.is_bool:
        return Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


def _parameters(fn) -> dict:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # a callable without a readable signature
        return {}


def _takes_no_arguments(fn) -> bool:
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in _parameters(fn).values())


def _initial_value_fn(name, shape, dtype, initializer):
    """A zero-argument function building the initial value (called by ``Variable`` inside
    its ``Initializer`` name scope)."""
    if initializer is None:
        initializer = _default_initializer(name, dtype)
    if inspect.isclass(initializer):
        initializer = initializer()
    if shape.is_fully_defined():
        arguments = {"dtype": dtype}
        if "partition_info" in _parameters(initializer):
            arguments["partition_info"] = None
        return functools.partial(initializer, shape.as_list(), **arguments)
    if _takes_no_arguments(initializer):
        return initializer
    raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead "
                     f"was {shape}.")


def _create(name, shape, dtype, initializer, from_value, regularizer, trainable, collections,
            validate_shape, constraint):
    graph = get_default_graph()
    initial_value = initializer if from_value else _initial_value_fn(name, shape, dtype,
                                                                     initializer)
    with graph.atomic():
        variable = Variable(initial_value, trainable=trainable, collections=collections,
                            validate_shape=validate_shape, name=name,
                            dtype=None if from_value else dtype, constraint=constraint)
        try:
            if regularizer is not None:
                with graph.name_scope(name + "/Regularizer/"), \
                        graph.control_dependencies(None):
                    penalty = regularizer(variable)
                if penalty is not None:
                    graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, penalty)
        except BaseException:
            for key in graph.get_all_collection_keys():
                graph.get_collection_ref(key)[:] = [item for item in graph.get_collection_ref(key)
                                                    if item is not variable]
            raise
    return variable
