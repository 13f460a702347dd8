"""A ``gc.function`` called while a GradientTape records: its optimized plan runs, and the
tape records one call op whose gradient is the traced graph's gradient, compiled too.

The call op is a ``py_func`` of the eager graph: its kernel runs the function's plan; its
inputs are what a gradient may reach (the tensor arguments, the eager tensors the trace
captured, and a read of each variable it reads, so the tape's watching rules apply as to any
op); its ``grad`` calls the *backward function*, a ``gc.function`` of those inputs and the
output gradients that replays the traced ops into its own trace and returns their
``gc.gradients``. A tape's gradient calls the backward function as any function is called,
so under an outer tape it too runs its plan and records one op: each order of derivative is
traced once, then runs from its plan.

A function whose graph has effects other than variable reads (assigns, random draws) keeps
the op-by-op replay (``ConcreteFunction._replayed``): a backward replay would repeat them.

Example:
    >>> f = gc.function(lambda x: gc.reduce_sum(gc.tanh(x) * 2.0))
    >>> with gc.eager():
    ...     x = gc.constant([0.5, 1.0])
    ...     with gc.GradientTape() as tape:
    ...         tape.watch(x)
    ...         y = f(x)                 # the plan runs; the tape records one py_func
    ...     tape.gradient(y, x)          # the backward function's plan runs
"""
from __future__ import annotations

from graphc.convert import convert_to_tensor
from graphc.data.structure import flatten, pack_as
from graphc.graph import Tensor, get_default_graph
from graphc.passes.gradients import gradients

__all__ = ["runs_as_one_op", "recorded_call"]


def runs_as_one_op(concrete) -> bool:
    """Whether a tape may record a call of ``concrete`` as one op: its only effects are
    variable reads (a backward replay repeats nothing then)."""
    return all(op.type == "read_variable" for op in concrete.graph.stateful_ops)


def recorded_call(concrete, graph, values: list, function_class):
    """The call of ``concrete`` on ``values`` as one recorded ``py_func`` op of the eager
    ``graph``, its outputs in the function's output structure; ``function_class`` makes the
    backward function (``gc.function``'s ``Function``)."""
    arguments = [v if isinstance(v, Tensor) else convert_to_tensor(v) for v in values]
    captured, reads = [], []
    with graph.as_default():
        for tensor, stand_in in concrete.graph.captures.values():
            if stand_in.op.type == "variable":  # read now, where the tape sees the read
                reads.append(graph._variable_reads[tensor.op].read_value())
            else:
                captured.append(tensor)
        count = len(arguments)
        outputs = concrete.outputs
        backward = _backward_function(concrete, function_class)
        floating = [i for i, t in enumerate(outputs) if t.dtype.is_floating]

        def forward(*arrays):
            return concrete._run_plan(list(arrays[:count]))

        def grad(op, *dys):
            return list(backward(*op.inputs, *[dys[i] for i in floating]))

        op = graph.create_op("py_func", arguments + captured + reads,
                             {"func": forward, "Tout": tuple(t.dtype for t in outputs),
                              "grad": grad}, name=concrete.graph.name)
    results = iter(op.outputs)
    flat = []
    for leaf in flatten(concrete.structured_outputs):
        if isinstance(leaf, Tensor):
            result = next(results)
            result.set_shape(result.numpy().shape)  # py_func's outputs have unknown shapes
            leaf = result
        flat.append(leaf)
    return pack_as(concrete.structured_outputs, flat)


def _backward_function(concrete, function_class):
    """The ``gc.function`` of (arguments, captured tensors, variable values, gradients of
    the floating outputs) returning the gradient of each of the first three (None: none)."""
    if concrete._backward is not None:
        return concrete._backward
    traced = concrete.graph
    stand_ins = list(concrete.inputs)
    variables = []
    for _, stand_in in traced.captures.values():
        (variables if stand_in.op.type == "variable" else stand_ins).append(stand_in)
    targets = [t for t in concrete.outputs if t.dtype.is_floating]
    order = concrete._replay_order()

    def backward(*flat):
        sources = list(flat[:len(stand_ins) + len(variables)])
        mapped = dict(zip(stand_ins, sources))
        values = dict(zip(variables, sources[len(stand_ins):]))  # a handle -> its value
        here = get_default_graph()
        for op in order:
            if op.type == "variable" or (op.outputs and all(t in mapped for t in op.outputs)):
                continue  # a handle, an argument or a capture
            if op.type == "read_variable":
                mapped[op.outputs[0]] = values[op.inputs[0]]
                continue
            made = here.create_op(op.type, [mapped[t] for t in op.inputs], dict(op.attrs),
                                  name=op.name)
            mapped.update(zip(op.outputs, made.outputs))
        wanted = [s for s in sources if s.dtype.is_floating]
        grads = iter(gradients([mapped[t] for t in targets], wanted,
                               grad_ys=list(flat[len(sources):])) if wanted and targets else [])
        return [next(grads) if s.dtype.is_floating else None for s in sources]

    concrete._backward = function_class(backward, name=f"{traced.name}_backward")
    return concrete._backward
