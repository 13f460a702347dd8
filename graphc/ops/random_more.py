"""TF1's remaining random ops: ``random_shuffle`` (along the first dimension),
``random_gamma`` and ``random_poisson``, seeded by graphc's random-op rules (the graph and
op seeds of ``get_seed``; one generator per op and Session). Their draws are NumPy's
generators', not TF's bits; as in TF1 they have no gradient here (``random_gamma``'s
reparameterized gradient with respect to alpha is not provided).

Example:
    >>> order = gc.random_shuffle(gc.range(10), seed=1)
    >>> rates = gc.random_gamma([100], alpha=[0.5, 2.0])   # shape [100, 2]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import FLOAT, check_kind
from graphc.ops.random import get_seed
from graphc.ops.shape_checks import broadcast_static_shape
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["random_shuffle", "shuffle", "random_gamma", "gamma", "random_poisson", "poisson"]

TESTS = "tests/ops/test_random_more.py"
_SEEDS = {"seed": None, "seed2": None}


def _shuffle_kernel(ctx, value, seed, seed2):
    out = np.array(value, copy=True)
    if out.ndim:
        ctx.rng().shuffle(out, axis=0)
    return out


RANDOM_SHUFFLE = registry.register(OpDef(
    name="random_shuffle", dtypes=lambda d, a: [d[0]], shapes=lambda ins, a: [ins[0].shape],
    kernel=_shuffle_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs=dict(_SEEDS),
    random=True, foldable=False, needs_context=True, unknown_rank_ok=True,
    tested_elsewhere=TESTS, doc="value with its first dimension in a random order."))


def _seeded(op_type, inputs, attrs, seed, name):
    graph = graph_of(*inputs)
    with graph.as_default(), graph.atomic():
        seed, seed2 = get_seed(seed)
        return graph.create_op(op_type, [convert_to_tensor(i) for i in inputs],
                               {**attrs, "seed": seed, "seed2": seed2}, name=name).outputs[0]


def random_shuffle(value, seed=None, name=None):
    """``value`` with its slices along the first dimension in a random order (TF1
    ``tf.random_shuffle`` / ``tf.random.shuffle``).

    Example:
        >>> batch_order = gc.random_shuffle(gc.range(64))
    """
    return _seeded("random_shuffle", [value], {}, seed, name or "RandomShuffle")


shuffle = random_shuffle


def _leading_shape(op_type, shape_tensor, rest: TensorShape) -> TensorShape:
    value = constant_value(shape_tensor)
    if value is None:
        known = shape_tensor.shape
        lead = TensorShape(None) if known.rank != 1 or known.dims[0] is None else \
            TensorShape([None] * known.dims[0])
    else:
        lead = TensorShape([int(v) for v in np.asarray(value).reshape(-1)])
    if lead.rank is None or rest.rank is None:
        return TensorShape(None)
    return TensorShape(list(lead.dims) + list(rest.dims))


def _float_out(op_type):
    def rule(in_dtypes, attrs):
        for dtype in in_dtypes[1:]:
            check_kind(op_type, dtype, FLOAT)
        out = gdt.as_dtype(attrs["dtype"])
        if not (out.is_floating or (op_type == "random_poisson" and out.is_integer)):
            raise TypeError(f"{op_type}: dtype must be floating"
                            f"{' or integer' if op_type == 'random_poisson' else ''}, got "
                            f"{out.name}")
        return [out]
    return rule


def _gamma_kernel(ctx, shape, alpha, beta, dtype, seed, seed2):
    size = tuple(int(d) for d in shape) + np.broadcast_shapes(np.shape(alpha), np.shape(beta))
    draws = ctx.rng().gamma(np.broadcast_to(alpha, size), 1.0, size=size)
    return (draws / beta).astype(gdt.as_dtype(dtype).np)


RANDOM_GAMMA = registry.register(OpDef(
    name="random_gamma", dtypes=_float_out("random_gamma"),
    shapes=lambda ins, a: [_leading_shape("random_gamma", ins[0],
                                          broadcast_static_shape(ins[1].shape, ins[2].shape))],
    kernel=_gamma_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"dtype": gdt.float32, **_SEEDS}, random=True, foldable=False, needs_context=True,
    unknown_rank_ok=True, tested_elsewhere=TESTS,
    doc="Gamma(alpha, beta) samples of shape + alpha's shape (beta is the rate)."))


def random_gamma(shape, alpha, beta=None, dtype=gdt.float32, seed=None, name=None):
    """Samples of Gamma(``alpha``, rate ``beta``) of shape ``shape + alpha.shape`` (TF1
    ``tf.random_gamma``; ``beta`` defaults to 1 and broadcasts against ``alpha``).

    Example:
        >>> draws = gc.random_gamma([1000], alpha=2.0, beta=0.5)
    """
    dtype = gdt.as_dtype(dtype)
    alpha = convert_to_tensor(alpha, dtype=dtype)
    beta = convert_to_tensor(1.0 if beta is None else beta, dtype=dtype)
    try:
        broadcast_static_shape(alpha.shape, beta.shape)
    except ValueError:
        raise ValueError(f"random_gamma: beta of shape {beta.shape} must broadcast against "
                         f"alpha of shape {alpha.shape}") from None
    shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
    return _seeded("random_gamma", [shape, alpha, beta], {"dtype": dtype}, seed,
                   name or "RandomGamma")


gamma = random_gamma


def _poisson_kernel(ctx, shape, lam, dtype, seed, seed2):
    size = tuple(int(d) for d in shape) + np.shape(lam)
    return ctx.rng().poisson(np.broadcast_to(lam, size), size=size).astype(
        gdt.as_dtype(dtype).np)


RANDOM_POISSON = registry.register(OpDef(
    name="random_poisson", dtypes=_float_out("random_poisson"),
    shapes=lambda ins, a: [_leading_shape("random_poisson", ins[0], ins[1].shape)],
    kernel=_poisson_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"dtype": gdt.float32, **_SEEDS}, random=True, foldable=False, needs_context=True,
    unknown_rank_ok=True, tested_elsewhere=TESTS,
    doc="Poisson(lam) samples of shape + lam's shape."))


def random_poisson(lam, shape, dtype=gdt.float32, seed=None, name=None):
    """Samples of Poisson(``lam``) of shape ``shape + lam.shape`` (TF1
    ``tf.random_poisson``; ``dtype`` floating or integer).

    Example:
        >>> counts = gc.random_poisson([1.0, 10.0], [500], dtype=gc.int32)   # [500, 2]
    """
    lam = convert_to_tensor(lam, dtype_hint=gdt.float32)
    shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
    return _seeded("random_poisson", [shape, lam], {"dtype": gdt.as_dtype(dtype)}, seed,
                   name or "RandomPoisson")


poisson = random_poisson
