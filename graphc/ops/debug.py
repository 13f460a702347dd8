"""Run-time printing and checks: ``Print`` (TF1's identity that prints), ``print`` (TF2's
print op) and ``Assert``.

All three are stateful: they are never folded, merged or dropped while a fetch needs them
(directly or through ``control_dependencies``), and they run in plan order, so prints appear
in run order. A failing ``Assert`` raises InvalidArgumentError, and since variable writes are
published only after every step succeeded, the failed run changes no variable.

Strings among the printed items are kept in the op's ``template`` attribute (graphc has no
string tensors); each None entry of the template stands for the next tensor input.
"""
from __future__ import annotations

import sys
import weakref

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.errors import InvalidArgumentError, describe_op
from graphc.ops.common import rand, randint
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.static_values import constant_value

__all__ = ["Print", "print_v2", "Assert", "legacy_summary", "format_template", "format_scalar",
           "static_message"]

ND = registry.NOT_DIFFERENTIABLE
_STREAMS = {"stderr", "stdout"}


# -- formatting ---------------------------------------------------------------------------
def format_scalar(value) -> str:
    """One element as TF prints it: floats in the shortest of 6 or 9 (float32) / 17 digits
    that reads back the same (``1``, ``0.1``, ``-2.5``), others as Python prints them."""
    if isinstance(value, (float, np.floating)):
        for digits in (6, 9 if np.asarray(value).dtype.itemsize <= 4 else 17):
            text = f"{value:.{digits}g}"
            if np.asarray(float(text), np.asarray(value).dtype) == value or value != value:
                return text
        return text
    return str(value)


def legacy_summary(array, limit: int = 3) -> str:
    """TF1's summary of a tensor for ``Print``/``Assert`` (without the outer brackets those
    add): at most ``limit`` elements (all when negative), inner dims bracketed, then
    ``...``: ``1 2 3...`` for a vector, ``[1 2][3...`` for a matrix, ``5`` for a scalar."""
    array = np.asarray(array)
    if array.ndim == 0:
        return format_scalar(array[()])
    budget = [array.size if limit is None or limit < 0 else limit]

    def walk(block) -> str:
        parts, cut = [], False
        for item in block:
            if budget[0] <= 0:
                cut = True
                break
            if item.ndim == 0:
                budget[0] -= 1
                parts.append(format_scalar(item[()]))
            else:
                parts.append(f"[{walk(item)}]")
        return (" " if block.ndim == 1 else "").join(parts) + ("..." if cut else "")
    return walk(array)


def _numpy_summary(array, limit) -> str:
    """TF2's ``tf.print`` form: NumPy's layout with TF's numbers, the first and last
    ``limit`` items of each axis (3 when None, all when -1)."""
    array = np.asarray(array)
    threshold, edge = (sys.maxsize, 3) if limit is not None and limit < 0 else \
        (0, 3 if limit is None else limit)
    return np.array2string(array, threshold=threshold, edgeitems=edge, separator=" ",
                           formatter={"float_kind": format_scalar})


def format_template(template, arrays, summarize, legacy: bool = True) -> list:
    """The parts of a template: strings as they are, each None the next array summarized
    (TF1's legacy form, or TF2's NumPy-like form)."""
    values = iter(arrays)
    return [item if item is not None else
            legacy_summary(next(values), summarize) if legacy else
            _numpy_summary(next(values), summarize) for item in template]


def _template(data, op_name: str):
    """``(template, tensors)`` for a list of printed items: strings stay text, others become
    tensors."""
    if isinstance(data, (str, bytes)) or not isinstance(data, (list, tuple)):
        raise TypeError(f"{op_name}: data must be a list of tensors and strings, got "
                        f"{data!r}")
    template, tensors = [], []
    for item in data:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        if isinstance(item, str):
            template.append(item)
        else:
            template.append(None)
            tensors.append(convert_to_tensor(item))
    return tuple(template), tensors


def _check_count(op_name: str, attrs, key: str) -> None:
    value = attrs[key]
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if value is not None and not is_int:
        raise ValueError(f"{op_name}: {key} must be an int or None, got {value!r}")


# -- Print ----------------------------------------------------------------------------------
_PRINT_COUNTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # session -> counts


def _print_kernel(ctx, input_, *data, message, first_n, summarize, template):
    # first_n counts per Session (its state object) and op, as TF1's kernel does
    counts = _PRINT_COUNTS.setdefault(ctx.state, {})
    seen = counts.get(ctx.op.name, 0)
    counts[ctx.op.name] = seen + 1
    if first_n is None or first_n < 0 or seen < first_n:
        parts = format_template(template, data, 3 if summarize is None else summarize)
        text = "".join(part if item is not None else f"[{part}]"
                       for item, part in zip(template, parts))
        sys.stderr.write(f"{message}{text}\n")
    return input_


def _print_shapes(inputs, attrs):
    for key in ("first_n", "summarize"):
        _check_count("Print", attrs, key)
    return [inputs[0].shape]


PRINT = registry.register(OpDef(
    name="Print", dtypes=lambda d, a: [d[0]], shapes=_print_shapes, kernel=_print_kernel,
    grad=lambda op, dy: [dy] + [None] * (len(op.inputs) - 1), needs_context=True,
    attrs={"message": "", "first_n": None, "summarize": None, "template": ()},
    stateful=True, foldable=False, unknown_rank_ok=True,
    reference=lambda input_, data, message=None, first_n=None, summarize=None: input_,
    samples=lambda: [Sample((rand(2, 3), [rand(4), "text", randint(2, 2)], "x: ")),
                     Sample((randint(3), [], None, 1, 2))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [rand(2)]), {"summarize": "all"},
                                       match="summarize must be an int")],
    doc="Its first input; prints the data list to stderr each time it runs (TF1 tf.Print)."))


@registry.public(PRINT)
def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """``input_``, printing ``message`` and the ``data`` tensors to stderr when it runs
    (TF1 ``tf.Print``): ``message[d0][d1]...`` with ``summarize`` (default 3) elements of
    each tensor, only the first ``first_n`` times when given.

    Example:
        >>> loss = gc.Print(loss, [loss, step], "loss, step: ", summarize=10)
    """
    graph = graph_of(input_, data)
    with graph.as_default(), graph.atomic():
        template, tensors = _template(data, "Print")
        attrs = {"message": "" if message is None else str(message), "first_n": first_n,
                 "summarize": summarize, "template": template}
        op = graph.create_op("Print", [convert_to_tensor(input_)] + tensors, attrs,
                             name=name or "Print")
    return op.outputs[0]


# -- print (TF2's tf.print) --------------------------------------------------------------------
def _print_v2_kernel(*data, template, output_stream, summarize, sep, end):
    text = sep.join(format_template(template, data, summarize, legacy=False))
    if callable(output_stream):  # a logging function such as gc.logging.info
        output_stream(text)
    elif not isinstance(output_stream, str):
        output_stream.write(text + end)
    elif output_stream.startswith("file://"):
        with open(output_stream[len("file://"):], "a", encoding="utf-8") as stream:
            stream.write(text + end)
    else:
        getattr(sys, output_stream).write(text + end)
    return ()


PRINT_V2 = registry.register(OpDef(
    name="print", dtypes=lambda d, a: [], shapes=lambda ins, a: [], kernel=_print_v2_kernel,
    grad=ND, attrs={"template": (), "output_stream": "stderr", "summarize": 3, "sep": " ",
                    "end": "\n"},
    stateful=True, foldable=False, unknown_rank_ok=True,
    tested_elsewhere="tests/test_debug_ops.py (an op without outputs)",
    error_samples=lambda: [ErrorSample(("loss",), {"output_stream": 3},
                                       match="output_stream must be")],
    doc="Prints its inputs when it runs (TF2 tf.print); has no outputs."))


def _stream_name(stream) -> object:
    """The ``output_stream`` attribute: 'stderr'/'stdout' (looked up when the op runs, so
    redirections made later apply), a file:// path, or a logging function."""
    if stream is None or stream is sys.stderr or stream is sys.__stderr__:
        return "stderr"
    if stream is sys.stdout or stream is sys.__stdout__:
        return "stdout"
    if isinstance(stream, str) and (stream in _STREAMS or stream.startswith("file://")):
        return stream
    if callable(stream) or callable(getattr(stream, "write", None)):
        return stream
    raise ValueError(f"print: output_stream must be sys.stdout, sys.stderr, a 'file://' path, "
                     f"a logging function or an object with a write method, got {stream!r}")


@registry.public(PRINT_V2)
def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """An op printing ``inputs`` (tensors and Python values) when it runs (TF2 ``tf.print``),
    to ``output_stream`` (default: sys.stderr as it is when the op runs); run it or use it
    in ``control_dependencies``. Tensors print as NumPy arrays with the first and last
    ``summarize`` items of each axis (3 when None, all when -1).

    Example:
        >>> op = gc.print("loss:", loss, output_stream=sys.stdout)
        >>> with gc.control_dependencies([op]):
        ...     train = optimizer.minimize(loss)
    """
    stream = _stream_name(output_stream)
    graph = graph_of(list(inputs))
    with graph.as_default(), graph.atomic():
        items = [v if isinstance(v, (str, bytes)) or _is_graph_value(v) else str(v)
                 for v in inputs]
        template, tensors = _template(items, "print")
        attrs = {"template": template, "output_stream": stream, "summarize": summarize,
                 "sep": str(sep), "end": str(end)}
        return graph.create_op("print", tensors, attrs, name=name or "PrintV2")


def _is_graph_value(value) -> bool:
    return hasattr(value, "graph") or hasattr(value, "_as_graph_element") or \
        isinstance(value, np.ndarray)


# -- Assert ----------------------------------------------------------------------------------
def _assert_kernel(ctx, condition, *data, template, summarize):
    if condition.ndim != 0:
        raise InvalidArgumentError(None, ctx.op, f"Assert: the condition must be a scalar, "
                                   f"got shape {condition.shape} ({describe_op(ctx.op)})")
    if not condition:
        parts = format_template(template, data, 3 if summarize is None else summarize)
        listed = " ".join(f"[{part}]" for part in parts)
        raise InvalidArgumentError(None, ctx.op, f"assertion failed: {listed} "
                                   f"({describe_op(ctx.op)})")
    return ()


def _assert_dtypes(in_dtypes, attrs):
    if not in_dtypes[0].is_bool:
        raise TypeError(f"Assert requires a bool condition, got {in_dtypes[0].name}")
    return []


def _assert_shapes(inputs, attrs):
    _check_count("Assert", attrs, "summarize")
    rank = inputs[0].shape.rank
    if rank not in (None, 0):
        raise ValueError(f"Assert requires a scalar condition, got shape {inputs[0].shape}; "
                         "reduce it first (gc.reduce_all)")
    return []


ASSERT = registry.register(OpDef(
    name="Assert", dtypes=_assert_dtypes, shapes=_assert_shapes, kernel=_assert_kernel,
    grad=ND, attrs={"template": (), "summarize": None}, needs_context=True, stateful=True,
    foldable=False, unknown_rank_ok=True,
    tested_elsewhere="tests/test_debug_ops.py (an op without outputs)",
    error_samples=lambda: [
        ErrorSample((rand(2, 3), ["x"]), error=TypeError, match="requires a bool condition"),
        ErrorSample((np.array([True, False]), ["x"]), match="requires a scalar condition")],
    doc="Raises InvalidArgumentError with its data summarized when the condition is false."))


@registry.public(ASSERT)
def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF1's name
    """An op that fails the run with InvalidArgumentError, listing ``data`` (tensors and
    strings, ``summarize`` elements of each; default 3), when the scalar bool ``condition``
    is false (TF1 ``tf.Assert``).

    Example:
        >>> check = gc.Assert(gc.reduce_all(x > 0), ["x must be positive:", x])
        >>> with gc.control_dependencies([check]):
        ...     y = gc.log(x)
    """
    graph = graph_of(condition, data)
    with graph.as_default(), graph.atomic():
        template, tensors = _template(data, "Assert")
        condition = convert_to_tensor(condition, dtype_hint=gdt.bool)
        return graph.create_op("Assert", [condition] + tensors,
                               {"template": template, "summarize": summarize},
                               name=name or "Assert")


def static_message(data) -> str:
    """The text of ``data`` when an assertion fails at graph-build time (TF1 lists the data
    one per line, constant tensors by value, others by name)."""
    lines = []
    for item in data:
        if isinstance(item, str):
            lines.append(item)
            continue
        value = constant_value(convert_to_tensor(item))
        lines.append(str(item) if value is None else str(value))
    return "\n".join(lines)

