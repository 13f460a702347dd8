"""Random ops with TF1's graph-level and op-level seeds, and dropout.

Seeds follow ``tf.compat.v1.get_seed``: with a graph seed, an op without its own seed gets a
deterministic one from the op count; with only an op seed, the graph seed defaults to
87654321; with neither, every Session draws differently. Each random op keeps one generator
per Session, so successive runs give new values, reproducibly across Sessions. The streams
are NumPy's (PCG64), not bit-identical to TensorFlow's Philox.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import get_default_graph
from graphc.ops.common import FLOAT, INTEGER, check_kind
from graphc.ops.elementwise import add, greater_equal, multiply, subtract
from graphc.ops.select import cast
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import OpDef
from graphc.static_values import constant_value_as_shape

__all__ = ["set_random_seed", "get_seed", "random_normal", "random_uniform", "truncated_normal",
           "random_orthogonal", "dropout"]

DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed) -> None:
    """Set the default graph's seed (TF1 ``tf.set_random_seed``).

    Example:
        >>> gc.set_random_seed(42)
    """
    get_default_graph().seed = None if seed is None else int(seed)


def get_seed(op_seed):
    """``(graph_seed, op_seed)`` for a new random op, by TF1's rules."""
    graph = get_default_graph()
    if graph.seed is not None:
        return graph.seed, (len(graph) if op_seed is None else int(op_seed))
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def _shape_dtypes(kind):
    def rule(in_dtypes, attrs):
        check_kind("random op", in_dtypes[0], INTEGER, "shape")
        out = gdt.as_dtype(attrs["dtype"])
        check_kind("random op", out, kind, "dtype")
        return [out]
    return rule


def _shape_from_input(inputs, attrs):
    if inputs[0].shape.rank not in (None, 1):
        raise ValueError(f"random op: shape must be a 1-D tensor, got shape {inputs[0].shape}")
    return [constant_value_as_shape(inputs[0])]


def _truncated(rng, size):
    values = rng.standard_normal(size)
    outside = np.abs(values) > 2.0
    while outside.any():  # resample: TF1 keeps values within two standard deviations
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values


def _orthogonal(rng, size):
    """TF1's orthogonal initializer: the 2-D flattening of ``size`` (all dims but the last by
    the last) has orthonormal rows or columns, whichever are fewer. It is the Q of the QR of
    a normal matrix, times the signs of R's diagonal, which makes it uniform (Haar)."""
    if len(size) < 2:
        raise ValueError(f"random_orthogonal: shape {list(size)} must have at least 2 dims")
    rows, cols = int(np.prod(size[:-1])), size[-1]
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return (q.T if rows < cols else q).reshape(size)


_DRAWS = {
    "random_standard_normal": lambda rng, size: rng.standard_normal(size),
    "random_uniform": lambda rng, size: rng.random(size),
    "truncated_normal": _truncated,
    "random_orthogonal": _orthogonal,
}


def _draw_kernel(name):
    def kernel(ctx, shape, dtype, seed, seed2):
        size = tuple(int(d) for d in shape)
        return _DRAWS[name](ctx.rng(), size).astype(gdt.as_dtype(dtype).np)
    return kernel


def _random_op(name, doc, kind=FLOAT, kernel=None, shapes=_shape_from_input,
               tested_elsewhere="tests/ops/test_random.py",
               distribution=registry.Split("generated", chunked=(), batch_shape=0)):
    return registry.register(OpDef(
        name=name, dtypes=_shape_dtypes(kind), shapes=shapes,
        kernel=kernel or _draw_kernel(name), grad=registry.NOT_DIFFERENTIABLE, attrs={"dtype": gdt.float32, "seed": None,
                                                    "seed2": None},
        random=True, foldable=False, needs_context=True, finite_outputs=registry.always_finite,
        distribution=distribution, tested_elsewhere=tested_elsewhere, doc=doc))


RANDOM_STANDARD_NORMAL = _random_op("random_standard_normal", "Standard normal samples.")
RANDOM_UNIFORM = _random_op("random_uniform", "Uniform samples in [0, 1).")
TRUNCATED_NORMAL = _random_op("truncated_normal",
                              "Standard normal samples, redrawn when beyond 2 stddev.")


def _matrix_shape(inputs, attrs):
    (shape,) = _shape_from_input(inputs, attrs)
    if shape.rank is not None and shape.rank < 2:
        raise ValueError(f"random_orthogonal: shape {shape} must have at least 2 dims")
    return [shape]


RANDOM_ORTHOGONAL = _random_op(
    "random_orthogonal", "A random orthogonal matrix (flattened to 2-D), uniform over them.",
    shapes=_matrix_shape, tested_elsewhere="tests/test_initializers.py", distribution=None)


def _uniform_int_kernel(ctx, shape, minval, maxval, dtype, seed, seed2):
    if minval >= maxval:
        raise ValueError(f"random_uniform: need minval < maxval, got {minval} >= {maxval}")
    size = tuple(int(d) for d in shape)
    return ctx.rng().integers(minval, maxval, size=size).astype(gdt.as_dtype(dtype).np)


RANDOM_UNIFORM_INT = _random_op("random_uniform_int", "Uniform integers in [minval, maxval).",
                                kind=INTEGER, kernel=_uniform_int_kernel)


def _draw(op_type, shape, dtype, seed, name):
    dtype = gdt.as_dtype(dtype)
    graph = graph_of(shape)
    with graph.as_default(), graph.atomic():
        seed, seed2 = get_seed(seed)
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        attrs = {"dtype": dtype, "seed": seed, "seed2": seed2}
        return graph.create_op(op_type, [shape], attrs, name=name).outputs[0]


def _scaled(op_type, shape, scale, offset, dtype, seed, name, default_name):
    graph = graph_of(shape, scale, offset)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name) as scope:
        draws = _draw(op_type, shape, dtype, seed, None)
        return add(multiply(draws, scale, name="mul"), offset, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=gdt.float32, seed=None, name=None):
    """Normal samples ``mean + stddev * N(0, 1)`` of ``shape``.

    Example:
        >>> W = gc.Variable(gc.random_normal([784, 10], stddev=0.01, seed=1))
    """
    return _scaled("random_standard_normal", shape, stddev, mean, dtype, seed, name,
                   "random_normal")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=gdt.float32, seed=None, name=None):
    """Normal samples redrawn until within two ``stddev`` of ``mean``.

    Example:
        >>> W = gc.Variable(gc.truncated_normal([5, 5, 1, 32], stddev=0.1))
    """
    return _scaled("truncated_normal", shape, stddev, mean, dtype, seed, name,
                   "truncated_normal")


def random_uniform(shape, minval=0, maxval=None, dtype=gdt.float32, seed=None, name=None):
    """Uniform samples in ``[minval, maxval)``; integer dtypes need ``maxval``.

    Example:
        >>> u = gc.random_uniform([3], -1.0, 1.0, seed=7)
    """
    dtype = gdt.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("random_uniform: maxval must be given for integer dtype "
                             f"{dtype.name}")
        graph = graph_of(shape, minval, maxval)
        with graph.as_default(), graph.atomic():
            graph_seed, op_seed = get_seed(seed)
            inputs = [convert_to_tensor(shape, dtype_hint=gdt.int32),
                      convert_to_tensor(minval, dtype=dtype), convert_to_tensor(maxval, dtype=dtype)]
            attrs = {"dtype": dtype, "seed": graph_seed, "seed2": op_seed}
            return graph.create_op("random_uniform_int", inputs, attrs,
                                   name=name or "random_uniform").outputs[0]
    maxval = 1.0 if maxval is None else maxval
    graph = graph_of(shape, minval, maxval)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "random_uniform") as scope:
        draws = _draw("random_uniform", shape, dtype, seed, None)
        low = convert_to_tensor(minval, dtype=dtype)
        span = subtract(convert_to_tensor(maxval, dtype=dtype), low, name="sub")
        return add(multiply(draws, span, name="mul"), low, name=scope)


def random_orthogonal(shape, dtype=gdt.float32, seed=None, name=None):
    """A random matrix with orthonormal rows or columns (TF1's ``orthogonal_initializer``
    before its gain); ``shape`` has at least 2 dims, all but the last flattened.

    Example:
        >>> q = gc.ops.random.random_orthogonal([64, 32], seed=1)   # q^T q = I
    """
    return _draw("random_orthogonal", shape, dtype, seed, name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    Give ``keep_prob`` (TF1) or ``rate``. A seed makes the masks reproducible.

    Example:
        >>> h = gc.nn.dropout(h, rate=0.5, seed=3)
    """
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout: give exactly one of keep_prob and rate")
    graph = graph_of(x, keep_prob, rate)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "dropout") as scope:
        x = convert_to_tensor(x)
        if not x.dtype.is_floating:
            raise TypeError(f"dropout: x must be floating, got {x.dtype.name} for '{x.name}'")
        if rate is None:
            rate = 1.0 - keep_prob  # a Python float or a tensor
        if isinstance(rate, (int, float)) and not 0 <= rate < 1:
            raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
        noise_shape = shape_of(x) if noise_shape is None else noise_shape
        draws = random_uniform(noise_shape, dtype=x.dtype, seed=seed)
        keep = cast(greater_equal(draws, rate), x.dtype)
        return multiply(multiply(x, 1.0 / (1.0 - rate)), keep, name=scope)
