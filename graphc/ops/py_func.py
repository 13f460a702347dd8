"""``py_func`` / ``numpy_function``: a Python function on NumPy arrays as an op (TF1).

The op is stateful whatever ``stateful`` says: graphc never folds, merges or drops a call of
user code that a fetch needs. Its outputs have the dtypes of ``Tout`` and unknown shapes.
The function receives copies of its inputs (it may keep or modify them) and must return
arrays of exactly the declared dtypes (Python numbers and lists are converted when that loses
nothing), one per ``Tout`` entry; anything else, and any exception it raises, fails the run
with an InvalidArgumentError naming the op and the line that created it.

It has no gradient unless one is registered (TF1's idiom)::

    @gc.RegisterGradient("MySquareGrad")
    def _grad(op, dy):
        return [2.0 * op.inputs[0] * dy]

    with gc.get_default_graph().gradient_override_map({"PyFunc": "MySquareGrad"}):
        y = gc.py_func(np.square, [x], gc.float32)
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of, numpy_value
from graphc.errors import InvalidArgumentError, describe_op
from graphc.gradient_overrides import OVERRIDABLE, override_for
from graphc.ops.common import rand, randint
from graphc.ops.creation import zeros_like
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["py_func", "numpy_function"]

TF1_TYPES = ("PyFunc", "PyFuncStateless", "EagerPyFunc")  # names gradient overrides use
OVERRIDABLE.update(TF1_TYPES)


def _function_name(func) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def _converted(value, dtype: gdt.DType, index: int, func, op) -> np.ndarray:
    where = f"{describe_op(op)}: value {index} returned by {_function_name(func)}"
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype != dtype.np:
            raise InvalidArgumentError(None, op, f"{where} has dtype {value.dtype}, but Tout "
                                       f"declares {dtype.name}; return {dtype.name} arrays "
                                       "(e.g. .astype(np." + dtype.name + "))")
        return np.array(value, copy=True) if isinstance(value, np.ndarray) else \
            np.asarray(value)
    try:
        return numpy_value(value, dtype)
    except TypeError as err:
        raise InvalidArgumentError(None, op, f"{where} does not convert to {dtype.name}: "
                                   f"{err}") from None


def _py_func_kernel(ctx, *args, func, Tout, grad):
    op = ctx.op
    try:
        result = func(*[np.array(a, copy=True) for a in args])
    except Exception as err:  # noqa: BLE001 - user code: any failure fails the op's run
        raise InvalidArgumentError(None, op, f"{describe_op(op)}: the Python function "
                                   f"{_function_name(func)} raised {type(err).__name__}: "
                                   f"{err}") from err
    dtypes = [gdt.as_dtype(t) for t in Tout]
    if result is None and not dtypes:
        values = []
    else:  # as TF1: a list or tuple is one value per output, whatever Tout's form
        values = list(result) if isinstance(result, (list, tuple)) else [result]
    if len(values) != len(dtypes):
        raise InvalidArgumentError(None, op, f"{describe_op(op)}: {_function_name(func)} "
                                   f"returned {len(values)} values, but Tout declares "
                                   f"{len(dtypes)}")
    arrays = [_converted(v, d, i, func, op) for i, (v, d) in enumerate(zip(values, dtypes))]
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _py_func_dtypes(in_dtypes, attrs):
    if not callable(attrs["func"]):
        raise TypeError(f"py_func: func must be callable, got {attrs['func']!r}")
    return [gdt.as_dtype(t) for t in attrs["Tout"]]


def _py_func_grad(op, *dys):
    fn = op.attrs["grad"]
    if fn is None:
        raise LookupError(f"No gradient defined for {describe_op(op)}, a Python function; "
                          "register one with gc.RegisterGradient(name) and build the op "
                          "inside graph.gradient_override_map({'PyFunc': name})")
    dys = [zeros_like(t) if dy is None and t.dtype.is_floating else dy
           for t, dy in zip(op.outputs, dys)]
    grads = fn(op, *dys)
    return list(grads) if isinstance(grads, (list, tuple)) else [grads]


def _argsort(x):
    return np.argsort(x, axis=-1, kind="stable").astype(np.int64)


def _sum_and_add(a, b):
    return np.int32(a.sum()), (a + b).astype(np.int32)


PY_FUNC = registry.register(OpDef(
    name="py_func", dtypes=_py_func_dtypes,
    shapes=lambda ins, attrs: [TensorShape(None)] * len(attrs["Tout"]),
    kernel=_py_func_kernel, grad=_py_func_grad, needs_context=True, stateful=True,
    foldable=False, unknown_rank_ok=True,
    attrs={"func": None, "Tout": (), "grad": None},
    reference=lambda func, inp, Tout, stateful=True: func(*inp),
    # integer samples: without a registered gradient the op has none to check (tested,
    # with one registered, in tests/test_py_func.py)
    samples=lambda: [Sample((_argsort, [rand(3, 4)], gdt.int64)),
                     Sample((_sum_and_add, [randint(2, 3), randint(2, 3)],
                             [gdt.int32, gdt.int32]))],
    error_samples=lambda: [ErrorSample((np.sum, [rand(2, 3)], "words"), error=TypeError,
                                       match="Cannot convert the string 'words'"),
                           ErrorSample((3, [rand(2, 3)], gdt.float32), error=TypeError,
                                       match="func must be callable")],
    doc="A Python function on NumPy arrays (TF1 tf.py_func); stateful, outputs of unknown "
        "shape, no gradient unless one is registered."))


def _dtype_or_given(value):
    try:
        return gdt.as_dtype(value)
    except TypeError:
        return value  # the op's dtype rule raises, naming the op and its inputs


@registry.public(PY_FUNC)
def py_func(func, inp, Tout, stateful=True, name=None):  # noqa: N803 - TF1's argument names
    """Wrap ``func`` (NumPy arrays in, NumPy arrays out) as an op (TF1 ``tf.py_func``).

    Args:
        func: called with one array per input each time the op runs.
        inp: list of tensors (or values) passed to ``func``.
        Tout: a dtype (one output, returned as a Tensor) or a list of dtypes (returned as a
            list of Tensors; empty: returns the op).
        stateful: accepted for TF1; graphc always treats the op as stateful.

    Example:
        >>> def clip_norm(v):
        ...     return (v / max(1.0, np.linalg.norm(v))).astype(np.float32)
        >>> y = gc.py_func(clip_norm, [x], gc.float32)
    """
    single = not isinstance(Tout, (list, tuple))
    dtypes = tuple(_dtype_or_given(t) for t in ([Tout] if single else Tout))
    inputs = list(inp) if isinstance(inp, (list, tuple)) else [inp]
    graph = graph_of(inputs)
    with graph.as_default(), graph.atomic():
        tensors = [convert_to_tensor(v) for v in inputs]
        attrs = {"func": func, "Tout": dtypes, "grad": override_for(graph, TF1_TYPES)}
        op = graph.create_op("py_func", tensors, attrs, name=name or "PyFunc")
    if single:
        return op.outputs[0]
    return list(op.outputs) if op.outputs else op


def numpy_function(func, inp, Tout, stateful=True, name=None):  # noqa: N803
    """``py_func`` under its TF 1.14+ name (``tf.numpy_function``).

    Example:
        >>> counts = gc.numpy_function(np.bincount, [labels], gc.int64)
    """
    return py_func(func, inp, Tout, stateful=stateful, name=name)
