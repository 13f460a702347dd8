"""Seeded sampling ops: ``multinomial`` (``tf.random.categorical``) and TF1's candidate
samplers for sampled losses (``log_uniform``, ``uniform`` and ``fixed_unigram``).

They follow graphc's random-op rules (``graphc.ops.random``): the graph and op seeds of
``get_seed``, one generator per op and Session. The candidate samplers are TF's
``RangeSampler``: with ``unique`` they draw until ``num_sampled`` distinct classes came up,
and the expected count of a class of probability p after n draws is ``1 - (1 - p)^n``
(``-expm1(n log1p(-p))``); without, it is ``p * num_sampled``. The log-uniform (Zipfian)
sampler gives class c the probability ``log((c + 2) / (c + 1)) / log(range_max + 1)``.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import check_kind
from graphc.ops.random import get_seed
from graphc.ops.select import cast
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["multinomial", "categorical", "log_uniform_candidate_sampler",
           "uniform_candidate_sampler", "fixed_unigram_candidate_sampler"]

TESTS = "tests/ops/test_sampling.py"


# -- multinomial --------------------------------------------------------------------------
def _multinomial_dtypes(in_dtypes, attrs):
    check_kind("multinomial", in_dtypes[0], "floating", "logits")
    check_kind("multinomial", in_dtypes[1], "integer", "num_samples")
    out = gdt.as_dtype(attrs["output_dtype"])
    if out not in (gdt.int32, gdt.int64):
        raise TypeError(f"multinomial: output_dtype must be int32 or int64, got {out.name}")
    return [out]


def _multinomial_shapes(inputs, attrs):
    logits, count = inputs[0].shape, inputs[1].shape
    if logits.rank not in (None, 2) or count.rank not in (None, 0):
        raise ValueError(f"multinomial: logits must be 2-D [batch, classes] and num_samples a "
                         f"scalar, got shapes {logits} and {count}")
    known = constant_value(inputs[1])
    return [TensorShape([logits.dims[0] if logits.rank else None,
                         None if known is None else int(known)])]


def _multinomial_kernel(ctx, logits, num_samples, output_dtype, seed, seed2):
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=1, keepdims=True) if logits.shape[1] else logits[:, :0]
    if logits.shape[1] == 0 or not np.all(np.isfinite(top)):
        raise ValueError(f"multinomial: every row of logits {logits.shape} needs a finite "
                         "maximum (a class to draw)")
    cdf = np.cumsum(np.exp(logits - top), axis=1)
    draws = ctx.rng().random((logits.shape[0], int(num_samples))) * cdf[:, -1:]
    picks = np.stack([np.searchsorted(row, u, side="right") for row, u in zip(cdf, draws)]) \
        if logits.shape[0] else np.zeros((0, int(num_samples)))
    return np.minimum(picks, logits.shape[1] - 1).astype(gdt.as_dtype(output_dtype).np)


MULTINOMIAL = registry.register(OpDef(
    raises_on_values=True,  # no finite logit / true classes out of range
    name="multinomial", dtypes=_multinomial_dtypes, shapes=_multinomial_shapes,
    kernel=_multinomial_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"output_dtype": gdt.int64, "seed": None, "seed2": None}, random=True,
    foldable=False, needs_context=True, finite_outputs=registry.always_finite,
    tested_elsewhere=TESTS, doc="Draws class indices from softmax(logits), row by row."))


@registry.public(MULTINOMIAL)
def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """``num_samples`` class indices per row, drawn with probabilities ``softmax(logits)``
    (TF1 ``tf.multinomial``).

    Example:
        >>> picks = gc.multinomial(gc.log([[0.5, 0.5]]), 10, seed=1)   # [1, 10] int64
    """
    graph = graph_of(logits, num_samples)
    with graph.as_default(), graph.atomic():
        graph_seed, op_seed = get_seed(seed)
        inputs = [convert_to_tensor(logits, name="logits"),
                  convert_to_tensor(num_samples, dtype_hint=gdt.int32, name="num_samples")]
        attrs = {"output_dtype": gdt.as_dtype(output_dtype or gdt.int64), "seed": graph_seed,
                 "seed2": op_seed}
        return graph.create_op("multinomial", inputs, attrs,
                               name=name or "multinomial").outputs[0]


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """TF's ``tf.random.categorical``: ``multinomial`` with ``dtype`` for the indices.

    Example:
        >>> picks = gc.random.categorical(logits, 5, seed=3)
    """
    return multinomial(logits, num_samples, seed=seed, name=name or "categorical",
                       output_dtype=dtype)


# -- candidate samplers --------------------------------------------------------------------
def _log_uniform_probability(classes, range_max, attrs):
    return (np.log(classes + 2.0) - np.log(classes + 1.0)) / np.log(range_max + 1.0)


def _log_uniform_draw(rng, n, range_max, attrs):
    # TF's LogUniformSampler: floor(exp(u log(range_max + 1))) - 1, the inverse of its CDF
    values = np.floor(np.exp(rng.random(n) * np.log(range_max + 1.0))).astype(np.int64) - 1
    return np.clip(values, 0, range_max - 1)


def _unigram_weights(attrs):
    weights = np.asarray(attrs["unigrams"], np.float64) ** attrs["distortion"]
    weights = np.concatenate([np.zeros(attrs["num_reserved_ids"]), weights])
    return weights / weights.sum()


SAMPLERS = {  # op name: (probability of classes, draw n classes)
    "log_uniform_candidate_sampler": (_log_uniform_probability, _log_uniform_draw),
    "uniform_candidate_sampler": (
        lambda classes, range_max, attrs: np.full(np.shape(classes), 1.0 / range_max),
        lambda rng, n, range_max, attrs: rng.integers(0, range_max, n)),
    "fixed_unigram_candidate_sampler": (
        lambda classes, range_max, attrs: _unigram_weights(attrs)[classes],
        lambda rng, n, range_max, attrs: np.minimum(np.searchsorted(
            np.cumsum(_unigram_weights(attrs)), rng.random(n), side="right"), range_max - 1)),
}


def _sampler_shapes(op_name):
    def shapes(inputs, attrs):
        classes = inputs[0].shape
        if classes.rank not in (None, 2) or (classes.rank == 2 and classes.dims[1] not in (
                None, attrs["num_true"])):
            raise ValueError(f"{op_name}: true_classes must be [batch, num_true="
                             f"{attrs['num_true']}], got shape {classes}")
        if attrs["unique"] and attrs["num_sampled"] > attrs["range_max"]:
            raise ValueError(f"{op_name}: num_sampled {attrs['num_sampled']} unique classes "
                             f"cannot come from range_max {attrs['range_max']}")
        batch = classes.dims[0] if classes.rank else None
        sampled = TensorShape([attrs["num_sampled"]])
        return [sampled, TensorShape([batch, attrs["num_true"]]), sampled]
    return shapes


def _sampler_dtypes(op_name):
    def dtypes(in_dtypes, attrs):
        if in_dtypes[0] is not gdt.int64:
            raise TypeError(f"{op_name}: true_classes must be int64, got {in_dtypes[0].name}")
        return [gdt.int64, gdt.float32, gdt.float32]
    return dtypes


def _sampler_kernel(op_name):
    probability, draw = SAMPLERS[op_name]

    def kernel(ctx, true_classes, **attrs):
        rng, range_max, wanted = ctx.rng(), attrs["range_max"], attrs["num_sampled"]
        if true_classes.size and (true_classes.min() < 0 or true_classes.max() >= range_max):
            raise ValueError(f"{op_name}: true_classes must be in [0, {range_max})")
        if not attrs["unique"]:
            sampled, tries = draw(rng, wanted, range_max, attrs), wanted
        else:  # draw until `wanted` distinct classes came up, in the order drawn
            picked: dict = {}
            tries = 0
            while len(picked) < wanted:
                for value in draw(rng, max(2 * (wanted - len(picked)), 16), range_max, attrs):
                    tries += 1
                    picked.setdefault(int(value), None)
                    if len(picked) == wanted:
                        break
            sampled = np.fromiter(picked, np.int64, wanted)

        def expected(classes):
            p = probability(classes, range_max, attrs)
            if tries == wanted:
                return (p * wanted).astype(np.float32)
            return (-np.expm1(tries * np.log1p(-p))).astype(np.float32)
        return (np.asarray(sampled, np.int64), expected(true_classes), expected(sampled))
    return kernel


def _define_sampler(op_name, extra_attrs, doc):
    return registry.register(OpDef(
        raises_on_values=True,  # no finite logit / true classes out of range
        name=op_name, dtypes=_sampler_dtypes(op_name), shapes=_sampler_shapes(op_name),
        kernel=_sampler_kernel(op_name), grad=registry.NOT_DIFFERENTIABLE,
        attrs={"num_true": 1, "num_sampled": 1, "unique": True, "range_max": 1, "seed": None,
               "seed2": None, **extra_attrs},
        random=True, foldable=False, needs_context=True, finite_outputs=registry.always_finite,
        tested_elsewhere=TESTS, doc=doc))


LOG_UNIFORM = _define_sampler("log_uniform_candidate_sampler", {},
                              "Candidates from the log-uniform (Zipfian) distribution.")
UNIFORM = _define_sampler("uniform_candidate_sampler", {}, "Candidates drawn uniformly.")
FIXED_UNIGRAM = _define_sampler("fixed_unigram_candidate_sampler",
                                {"unigrams": (), "distortion": 1.0, "num_reserved_ids": 0},
                                "Candidates with probabilities unigrams ** distortion.")


def _sample(op_name, true_classes, num_true, num_sampled, unique, range_max, seed, name,
            extra=None):
    for what, value in [("num_true", num_true), ("num_sampled", num_sampled),
                        ("range_max", range_max)]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{op_name}: {what} must be an int >= 1, got {value!r}")
    graph = graph_of(true_classes)
    with graph.as_default(), graph.atomic():
        graph_seed, op_seed = get_seed(seed)
        classes = convert_to_tensor(true_classes, dtype_hint=gdt.int64, name="true_classes")
        if classes.dtype.is_integer and classes.dtype is not gdt.int64:
            classes = cast(classes, gdt.int64)
        attrs = {"num_true": int(num_true), "num_sampled": int(num_sampled),
                 "unique": bool(unique), "range_max": int(range_max), "seed": graph_seed,
                 "seed2": op_seed, **(extra or {})}
        return tuple(graph.create_op(op_name, [classes], attrs, name=name or op_name).outputs)


@registry.public(LOG_UNIFORM)
def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Sample ``num_sampled`` classes of ``[0, range_max)`` with P(c) = log((c + 2) / (c +
    1)) / log(range_max + 1), the Zipfian law of words sorted by frequency (TF1
    ``tf.nn.log_uniform_candidate_sampler``).

    Returns:
        ``(sampled_candidates, true_expected_count, sampled_expected_count)``: int64
        ``[num_sampled]``, float32 ``[batch, num_true]`` and float32 ``[num_sampled]``.

    Example:
        >>> sampled, true_count, sampled_count = gc.nn.log_uniform_candidate_sampler(
        ...     labels, num_true=1, num_sampled=64, unique=True, range_max=50000, seed=1)
    """
    return _sample("log_uniform_candidate_sampler", true_classes, num_true, num_sampled,
                   unique, range_max, seed, name)


@registry.public(UNIFORM)
def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Sample classes uniformly from ``[0, range_max)`` (TF1
    ``tf.nn.uniform_candidate_sampler``); returns as ``log_uniform_candidate_sampler``.

    Example:
        >>> sampled, _, _ = gc.nn.uniform_candidate_sampler(labels, 1, 5, True, 100, seed=2)
    """
    return _sample("uniform_candidate_sampler", true_classes, num_true, num_sampled, unique,
                   range_max, seed, name)


@registry.public(FIXED_UNIGRAM)
def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None, name=None):
    """Sample classes with probabilities proportional to ``unigrams ** distortion`` (TF1
    ``tf.nn.fixed_unigram_candidate_sampler``; the first ``num_reserved_ids`` classes have
    probability 0). ``vocab_file`` and sharding are not supported.

    Example:
        >>> sampled, _, _ = gc.nn.fixed_unigram_candidate_sampler(
        ...     labels, 1, 8, True, 4, distortion=0.75, unigrams=[10, 5, 2, 1], seed=3)
    """
    if vocab_file or num_shards != 1 or shard != 0:
        raise ValueError("fixed_unigram_candidate_sampler: vocab_file and sharding are not "
                         "supported; pass the counts as unigrams")
    if len(unigrams) + num_reserved_ids != range_max or not len(unigrams):
        raise ValueError(f"fixed_unigram_candidate_sampler: {len(unigrams)} unigrams and "
                         f"{num_reserved_ids} reserved ids must make range_max {range_max}")
    if unique and sum(1 for u in unigrams if u > 0) < num_sampled:
        raise ValueError(f"fixed_unigram_candidate_sampler: {num_sampled} unique classes "
                         f"cannot come from {sum(1 for u in unigrams if u > 0)} of nonzero "
                         "weight")
    extra = {"unigrams": tuple(float(u) for u in unigrams), "distortion": float(distortion),
             "num_reserved_ids": int(num_reserved_ids)}
    return _sample("fixed_unigram_candidate_sampler", true_classes, num_true, num_sampled,
                   unique, range_max, seed, name, extra)
