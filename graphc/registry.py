"""The op registry: every op type is one declarative ``OpDef`` with all its parts side by side.

Passes and the runtime ask the registry for what they need (kernels, flags such as
``stateful`` or ``elementwise``); they never keep op-name lists of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

__all__ = ["OpDef", "LoopExpr", "Sample", "ErrorSample", "NOT_DIFFERENTIABLE", "Split", "Blocks",
           "ELEMENTWISE", "ROWWISE", "SHAPE_ONLY", "declared_split", "batch_reduction",
           "rowwise_unless_axis0",
           "finite_if_inputs_finite", "always_finite", "register", "get", "all_ops", "api_for",
           "public", "declare_export"]


class _NotDifferentiable:
    """Marks an op whose inputs receive no gradient (argmax, comparisons, shape...)."""

    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = _NotDifferentiable()


def finite_if_inputs_finite(op, finite_inputs) -> bool:
    """``finite_outputs`` of ops that cannot overflow or make NaN from finite values
    (sin, tanh, maximum, reshape...): finite outputs exactly when every input is finite."""
    return all(finite_inputs)


def always_finite(op, finite_inputs) -> bool:
    """``finite_outputs`` of ops whose outputs are finite whatever the inputs hold
    (zeros_like, random draws, check_numerics, which raises on NaN and Inf)."""
    return True


@dataclass(frozen=True)
class Sample:
    """Arguments for one call of an op's public function, used by the registry-driven tests.

    NumPy arrays in ``args`` become placeholders (fed with the array); everything else is
    passed as is. ``reference`` of the OpDef receives the same arguments with the arrays.
    """

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    rtol: float = 1e-6


@dataclass(frozen=True)
class ErrorSample:
    """A call that must fail at graph-build time with ``error`` whose text contains ``match``."""

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    error: type = ValueError
    match: str = ""


@dataclass(frozen=True)
class LoopExpr:
    """How an elementwise op runs on single elements inside a compiled fused loop
    (``graphc.runtime.fused``). An engine may only run the op this way because the result is
    the kernel's: bitwise for exact arithmetic, within ``ulp`` for transcendental functions,
    and always with the kernel's NaN, +-Inf and signed zeros (tests/test_fused_differential.py
    checks every op and chains of them on such values).

    Attributes:
        scalar: the op on scalars for the compiled-loop engine: a format string over argument
            names (``"{0} + {1}"``; NumPy functions as ``np.``, ``math`` as ``math.``) or a
            callable from the list of names to one.
        plain: ``scalar`` is exact arithmetic made of operators and selects that LLVM
            vectorizes as it is, so the SIMD engine takes it unchanged.
        vector: the op on one float32 element for the SIMD engine, written with its
            branch-free helpers (``vexp({0})``, ``vsincos({0}, 0)``, ``vtanh({0})``); empty when
            the SIMD engine takes ``scalar`` (``plain``) or does not cover the op.
        vector_range: ``vector`` holds for ``|argument| < vector_range``; other arguments
            (NaN, +-Inf, huge) are computed with ``scalar``, element by element.
        ulp: the most an engine's value of this op alone may differ from the kernel's, in
            units in the last place (0: bitwise); the engines' libm calls and polynomials
            differ from NumPy's own SIMD functions by a few ulp.

    Example:
        >>> LoopExpr("np.tanh({0})", vector="vtanh({0})", vector_range=3.0e38, ulp=4)
    """

    scalar: Any
    plain: bool = False
    vector: str = ""
    vector_range: float = float("inf")
    ulp: int = 0

    def scalar_code(self, names: list) -> str:
        """``scalar`` applied to the argument ``names`` (``"x + b"``)."""
        return self.scalar(names) if callable(self.scalar) else self.scalar.format(*names)


@dataclass(frozen=True)
class Split:
    """How a chunked engine (``graphc.dask``) splits an op along the batch axis (axis 0 of
    its chunked inputs), declared by the op so the engine never has to guess.

    Attributes:
        kind: ``"elementwise"``: one task per chunk over the broadcast inputs;
            ``"rowwise"``: rows are independent: the kernel runs on each chunk of the inputs
            at ``chunked`` (the other inputs whole, on every chunk) and gives that chunk's
            rows of the result; ``"reduction"``: the op reduces over the batch axis: the
            kernel's results on aligned chunks of the ``chunked`` inputs are partial results
            that ``combine`` (``"sum"``, ``"max"``, ``"min"``, ``"prod"``, ``"any"``, ``"all"``,
            ``"mean"``) joins in a tree; ``"shape"``: the value follows from the inputs'
            shapes alone and is computed on the host; ``"generated"``: the op makes a value of
            the shape at ``batch_shape`` from inputs without a batch axis (fill, broadcasts,
            random draws), so a shape led by the batch size is made chunk by chunk (random
            ops: each chunk from its own seeded stream).
        chunked: input positions that may be split along axis 0 (rowwise, reduction).
        combine: how partial results join (reduction).
        batch_shape: position of a host input holding a shape whose first entry is the batch
            size (rowwise, generated): each chunk's task gets it with the chunk's own row
            count.
        accumulate: the dtype partial results of a floating ``"sum"`` (and every ``"mean"``)
            are accumulated in, across the row blocks of a chunk and the tree combine, when
            it is wider than the op's dtype; the result is cast back. ``""``: the op's dtype.
        sums: the positions of the results of a rowwise op of several results that are
            sums over the batch instead of rows (``relu_bias_grad``'s bias gradient): its
            results on the chunks are partial sums, joined as a ``"sum"`` reduction's.
            The runtime's batch regions (runtime/batch_regions.py) read these declarations
            too; ``graphc.dask`` chunks ops of one result only.
        splits_itself: the kernel shares its own work among graphc's threads better than
            batch pieces would (2-D GEMMs: graphc.ops.gemm); batch regions leave it out.

    Example:
        >>> Split("reduction", chunked=(0, 1), combine="sum")  # a^T b over the batch
    """

    kind: str
    chunked: tuple = (0,)
    combine: str = ""
    batch_shape: Optional[int] = None
    accumulate: str = "float64"
    sums: tuple = ()
    splits_itself: bool = False


@dataclass(frozen=True)
class Blocks:
    """How an op's result follows blocks of some of its inputs along one axis, declared by
    the op so sibling merging (passes/sibling_merge.py) can run several ops as one.

    Running the op on the blocks of the ``inputs`` (positions) along ``axis`` (a
    non-negative axis, the same for each), the other inputs whole, gives the blocks of the
    result along ``output_axis``; with ``output_axis`` None it gives results whose sum is
    the result (a contraction over the blocked axis). ``sizes``: the position of an input
    holding the result's shape, whose entry ``output_axis`` is then the block's size. The
    blocked inputs' other dimensions are fixed by the whole inputs (the kernel checks them,
    it never broadcasts), so blocks of one op always join.

    Example:
        >>> Blocks(inputs=(1,), axis=3, output_axis=3)   # conv2d's filters by output channel
    """

    inputs: tuple
    axis: int
    output_axis: Optional[int]
    sizes: Optional[int] = None


ELEMENTWISE = Split("elementwise")
ROWWISE = Split("rowwise")
SHAPE_ONLY = Split("shape")


def declared_split(opdef, op, host_inputs):
    """The ``Split`` ``opdef`` declares for ``op`` (``host_inputs``: the values of host
    inputs, None for the chunked ones), ``ELEMENTWISE`` for an elementwise op declaring
    none, or None.

    Example:
        >>> declared_split(get("relu"), relu_op, (None,))
        Split(kind='elementwise', ...)
    """
    rule = opdef.distribution
    if rule is None:
        return ELEMENTWISE if opdef.elementwise else None
    return rule(op, host_inputs) if callable(rule) else rule


def batch_reduction(combine: Optional[str]):
    """``OpDef.distribution`` of a reduction with ``axis``/``keepdims`` attributes: a batch
    reduction joined by ``combine`` when the batch axis (0) is reduced, else rowwise; None
    (nothing declared) when ``combine`` is None."""
    if combine is None:
        return None

    def split(op, host_inputs) -> Split:
        axis, rank = op.attrs["axis"], op.inputs[0].shape.rank
        if axis is None or rank is None or 0 in [a % max(rank, 1) for a in axis]:
            return Split("reduction", combine=combine)
        return ROWWISE
    return split


def rowwise_unless_axis0(chunked: Optional[tuple] = (0,), attr: str = "axis",
                         of_output: bool = False):
    """``OpDef.distribution`` of an op working along ``attrs[attr]`` (an axis of its first
    chunked input, or of its output with ``of_output``): rowwise over the inputs at
    ``chunked`` (None: every input, as concat joins them) unless that axis is the batch
    axis (then undeclared: an error)."""
    def split(op, host_inputs) -> Optional[Split]:
        positions = tuple(range(len(op.inputs))) if chunked is None else chunked
        if not positions:
            return None
        rank = (op.outputs[0] if of_output else op.inputs[positions[0]]).shape.rank
        if rank is None or op.attrs[attr] % max(rank, 1) == 0:
            return None
        return Split("rowwise", chunked=positions)
    return split


@dataclass(frozen=True)
class OpDef:
    """One op type: inference rules, NumPy kernel and the properties passes rely on.

    Attributes:
        name: the op type, equal to the public function name (``matmul``).
        dtypes: ``(input_dtypes, attrs) -> output dtypes``; raises TypeError for bad dtypes.
        shapes: ``(input_tensors, attrs) -> output TensorShapes``; raises ValueError for bad
            shapes. Receives tensors (not shapes) so it can read static values of shape inputs.
        kernel: ``kernel(*arrays, **attrs)`` (or ``kernel(ctx, *arrays, **attrs)`` when
            ``needs_context``) returning one array or a tuple of arrays.
        grad: ``grad(op, *output_grads) -> input grads`` building graph nodes (None entries
            for inputs that get no gradient); ``NOT_DIFFERENTIABLE`` when no input ever
            does; None while not implemented (differentiating through it is an error).
        attrs: attribute names and their defaults; create_op rejects any other attribute.
        elementwise / commutative / associative: algebraic properties for fusion and rewrites.
        stateful: reads or writes session state; never folded, merged or pruned when needed.
        random: draws random numbers; never folded or merged.
        foldable: constant folding may evaluate it at compile time.
        unknown_rank_ok: ``shapes`` handles inputs of unknown rank itself (otherwise an
            unknown-rank input makes every output unknown-rank).
        bind: optional ``bind(op) -> kernel(*arrays)``: a kernel specialized once per op, for
            its attributes and static shapes, when a plan is built (default: ``kernel``
            with the attrs bound).
        fresh_output: the kernel always returns newly allocated arrays (never an input or a
            view of one), so memory planning may recycle them; ufunc kernels are known to.
        updates_input: the bound kernel, given ``out=`` its input 0 itself, updates that
            array in place and returns it (scatter-like ops: a TensorArray write); plans
            pass it only where input 0 dies at the op and nothing else can see it.
        updates_variable: the kernel stores a new value into the variable whose handle is its
            first input (the assign family); runs of plans with such ops lock those
            variables, so read-modify-write updates of concurrent runs never interleave.
        takes_out: the bound kernel accepts ``out=``, an array of the result's shape and
            dtype it may write the result into (it returns the result either way), so plans
            can keep such buffers across runs; ufunc kernels are known to. An op of several
            results takes a tuple of arrays, one per result. ``takes_out(op) -> bool`` where
            the op's static shapes decide (``split``: only its copied pieces need buffers).
        epilogue: the kernel also accepts ``epilogue=fn`` and calls ``fn(block)`` on each
            finished block of whole batch rows of its result (C-contiguous, still in cache),
            which ``fn`` overwrites with the block's transformed values; the epilogue pass
            (passes/epilogue.py) moves an elementwise group that alone reads the result
            into the op (``with_epilogue``, graphc.ops.epilogue).
        finite_outputs: ``finite_outputs(op, finite_inputs) -> bool``: whether the op's
            outputs are free of NaN and Inf given which inputs provably are (a list of
            bools, True for integer and bool inputs); usually ``finite_if_inputs_finite`` or
            ``always_finite``. None: never assumed. Rules such as ``x - x -> 0`` ask it.
        raises_on_values: the kernel can raise for input values that pass every static
            check (integer division by zero, an index out of range, a failed assertion, a
            singular matrix). Such ops, like stateful ones, are effects: a run that needs one
            runs it even where a rewrite (``x - x -> 0``, a shape folded from static shapes)
            stops needing its value, and loop-invariant motion never moves one out of a
            loop that may run zero times, so the optimizer never turns an error into a result.
        value_from_shapes: the value can follow from static shapes alone, whatever the
            inputs' values (``shape``, ``zeros_like`` of a known shape): constant folding
            asks ``static_values.constant_value`` for it.
        loop: a ``LoopExpr``: how the op runs inside compiled fused loops (scalar and SIMD
            expressions, their accuracy); None when it has none (its groups run on NumPy).
        subgraphs: names of the attributes holding ``Subgraph``s (or tuples of them): the
            branches, body and condition of control-flow ops, which passes optimize, the
            runtime compiles into plans of their own and pictures and listings show.
        distribution: how chunked engines split the op along the batch axis: a ``Split``, or
            ``distribution(op, host_inputs) -> Split`` when attributes or the values of
            host inputs (None for chunked ones) decide (None from it: not declared for
            those); None: ``ELEMENTWISE`` for elementwise ops,
            otherwise undeclared, and a chunked input reaching the op is an error.
        reference: an independent NumPy/Python implementation for the kernel tests.
        samples / error_samples: zero-argument callables returning test cases.
        tested_elsewhere: where an op without samples is tested (e.g. state ops).
        blocks: a ``Blocks``: how the result follows blocks of some inputs (conv2d: blocks of
            its filter's output channels give blocks of its result's channels), for sibling
            merging; None: not declared (elementwise ops follow from ``elementwise``).
        exports: how other formats write the op, by format name: ``exports["onnx"]`` is
            graphc.onnx's writer. The layer that knows a format fills it in when it is
            imported (``declare_export``); core never imports that layer.

    Example:
        >>> from graphc import registry
        >>> registry.get("add").commutative
        True
    """

    name: str
    dtypes: Callable[[Sequence, Mapping], Sequence]
    shapes: Callable[[Sequence, Mapping], Sequence]
    kernel: Callable
    grad: Any = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
    elementwise: bool = False
    commutative: bool = False
    associative: bool = False
    stateful: bool = False
    random: bool = False
    foldable: bool = True
    needs_context: bool = False
    bind: Optional[Callable] = None
    fresh_output: bool = False
    takes_out: Any = False  # bool, or takes_out(op) -> bool
    epilogue: bool = False
    updates_input: bool = False
    updates_variable: bool = False
    unknown_rank_ok: bool = False
    # facts for the value analyses of passes/ (rule side conditions, constant folding)
    finite_outputs: Optional[Callable[[Any, Sequence[bool]], bool]] = None
    raises_on_values: bool = False
    value_from_shapes: bool = False
    # how the op runs in compiled fused loops (graphc.runtime.fused)
    loop: Optional[LoopExpr] = None
    subgraphs: tuple = ()
    # how chunked engines (graphc.dask) split it along the batch axis
    distribution: Any = None
    # how the result follows blocks of inputs (passes/sibling_merge.py)
    blocks: Optional[Blocks] = None
    reference: Optional[Callable] = None
    samples: Optional[Callable[[], Sequence[Sample]]] = None
    error_samples: Optional[Callable[[], Sequence[ErrorSample]]] = None
    tested_elsewhere: str = ""
    doc: str = ""
    exports: dict = field(default_factory=dict, compare=False)

    @property
    def ufunc(self) -> bool:
        """The kernel is a NumPy ufunc: its results are new arrays, it takes ``out=`` and
        may write over an input of the result's shape and dtype (``ufunc(a, b, out=a)``)."""
        return isinstance(self.kernel, np.ufunc)


_REGISTRY: dict[str, OpDef] = {}
_API: dict[str, Callable] = {}


def register(opdef: OpDef) -> OpDef:
    """Add an op type to the registry; its name must be new."""
    if opdef.name in _REGISTRY:
        raise ValueError(f"Op type {opdef.name!r} is already registered")
    _REGISTRY[opdef.name] = opdef
    return opdef


def get(name: str) -> OpDef:
    """The OpDef registered under ``name``; raises KeyError naming the known types."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"No op type {name!r} is registered ({len(_REGISTRY)} known)") from None


def declare_export(name: str, format_name: str, writer: Callable) -> None:
    """Record on op ``name``'s OpDef how ``format_name`` writes it (for a higher layer).

    Example:
        >>> registry.declare_export("add", "onnx", write_add)   # graphc.onnx does this
    """
    exports = get(name).exports
    known = exports.get(format_name)
    if known is not None and (known.__module__, known.__qualname__) != (
            writer.__module__, writer.__qualname__):  # the same writer again: a reload
        raise ValueError(f"op {name!r} already has a {format_name!r} writer "
                         f"({known.__module__}.{known.__qualname__})")
    exports[format_name] = writer


def all_ops() -> list[OpDef]:
    """Every registered OpDef, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def public(opdef: OpDef):
    """Decorator marking ``fn`` as the public function that builds ``opdef`` (for tests)."""
    def mark(fn):
        _API[opdef.name] = fn
        return fn
    return mark


def api_for(name: str) -> Optional[Callable]:
    """The public function that builds op type ``name``, if one was marked."""
    return _API.get(name)
