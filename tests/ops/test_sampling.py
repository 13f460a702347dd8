"""Seeded sampling: multinomial / tf.random.categorical and the candidate samplers (their
distributions, expected counts and seeds), embedding_lookup, and nce_loss and
sampled_softmax_loss against a NumPy transcription of TF1's math, with gradients."""
import numpy as np
import pytest

import graphc as gc
from tests.ops.gradient_check import assert_gradients_match

RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def fresh_graph():
    gc.reset_default_graph()


def run(fetches, feeds=None, sessions=1, runs=1):
    values = []
    for _ in range(sessions):
        with gc.Session() as sess:
            values.append([sess.run(fetches, feeds) for _ in range(runs)])
    return values if sessions > 1 or runs > 1 else values[0][0]


def test_multinomial_draws_softmax_frequencies_reproducibly():
    with np.errstate(divide="ignore"):
        logits = np.log([[0.2, 0.5, 0.3], [0.7, 0.0, 0.3]])
    picks = gc.multinomial(logits, 20000, seed=7)
    assert picks.dtype == gc.int64 and picks.shape.as_list() == [2, 20000]
    (first, second), (again, _) = run(picks, sessions=2, runs=2)
    np.testing.assert_array_equal(first, again)  # seeded: the same in every Session
    assert not np.array_equal(first, second)  # and new values in each run
    for row, probabilities in zip(first, np.exp(logits)):
        frequencies = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(frequencies, probabilities, atol=0.015)
    assert not np.any(first[1] == 1)  # probability 0 (logit -inf) is never drawn


def test_categorical_dtype_dynamic_count_and_errors():
    count = gc.placeholder(gc.int32, [])
    picks = gc.random.categorical([[1.0, 2.0]], count, dtype=gc.int32, seed=1)
    assert picks.dtype == gc.int32 and picks.shape.as_list() == [1, None]
    assert run(picks, {count: 5}).shape == (1, 5)
    with pytest.raises(ValueError, match="multinomial: logits must be 2-D"):
        gc.random.categorical([1.0, 2.0], 3)
    with pytest.raises(gc.errors.InvalidArgumentError, match="finite maximum"):
        run(gc.multinomial(np.full((1, 3), -np.inf), 2, seed=1))


def log_uniform_probability(classes, range_max):
    return (np.log(classes + 2.0) - np.log(classes + 1.0)) / np.log(range_max + 1.0)


def test_log_uniform_sampler_follows_zipf_and_counts_expected_draws():
    true = np.array([[0], [3], [9]])
    sampled, true_count, sampled_count = gc.nn.log_uniform_candidate_sampler(
        true, num_true=1, num_sampled=4000, unique=False, range_max=10, seed=3)
    got_sampled, got_true, got_count = run([sampled, true_count, sampled_count])
    assert got_sampled.dtype == np.int64 and got_true.dtype == np.float32
    probability = log_uniform_probability(np.arange(10), 10)
    np.testing.assert_allclose(np.bincount(got_sampled, minlength=10) / 4000, probability,
                               atol=0.02)
    np.testing.assert_allclose(got_true[:, 0], 4000 * probability[[0, 3, 9]], rtol=1e-6)
    np.testing.assert_allclose(got_count, 4000 * probability[got_sampled], rtol=1e-6)


@pytest.mark.parametrize("sampler", ["log_uniform", "uniform", "fixed_unigram"])
def test_unique_samples_are_distinct_and_expected_counts_share_one_draw_count(sampler):
    true = np.array([[1, 2], [4, 0]])
    extra = {"unigrams": [5, 1, 3, 0.5, 2, 2, 1, 7], "distortion": 0.75} \
        if sampler == "fixed_unigram" else {}
    build = getattr(gc.nn, f"{sampler}_candidate_sampler")
    sampled, true_count, sampled_count = build(true, 2, 5, True, 8, seed=5, **extra)
    got_sampled, got_true, got_count = run([sampled, true_count, sampled_count])
    assert len(set(got_sampled.tolist())) == 5 and got_true.shape == (2, 2)
    if sampler == "log_uniform":
        probability = log_uniform_probability(np.arange(8), 8)
    elif sampler == "uniform":
        probability = np.full(8, 1 / 8)
    else:
        weights = np.array(extra["unigrams"]) ** 0.75
        probability = weights / weights.sum()
    p = np.concatenate([probability[true.ravel()], probability[got_sampled]])
    counts = np.concatenate([got_true.ravel(), got_count]).astype(np.float64)
    if np.allclose(counts, 5 * p, rtol=1e-6):
        return  # five draws, no repeat: TF's count is p * num_sampled then
    tries = np.log1p(-counts) / np.log1p(-p)  # 1 - (1 - p)^n = count, for one n > 5
    assert np.allclose(tries, np.round(tries[0]), rtol=1e-4) and round(tries[0]) > 5


def test_fixed_unigram_reserved_ids_are_never_drawn():
    sampled, _, _ = gc.nn.fixed_unigram_candidate_sampler(
        [[3]], 1, 500, False, 5, num_reserved_ids=2, unigrams=[1.0, 2.0, 1.0], seed=1)
    got = run(sampled)
    assert got.min() >= 2 and set(got.tolist()) == {2, 3, 4}


def test_sampler_errors_and_seeds():
    with pytest.raises(ValueError, match="cannot come from range_max"):
        gc.nn.uniform_candidate_sampler([[1]], 1, 10, True, 5)
    with pytest.raises(ValueError, match=r"true_classes must be \[batch, num_true=2\]"):
        gc.nn.log_uniform_candidate_sampler([[1]], 2, 3, True, 5)
    with pytest.raises(ValueError, match="must make range_max"):
        gc.nn.fixed_unigram_candidate_sampler([[1]], 1, 1, True, 4, unigrams=[1, 2])
    with pytest.raises(gc.errors.InvalidArgumentError,
                       match=r"true_classes must be in \[0, 5\)"):
        run(gc.nn.uniform_candidate_sampler([[7]], 1, 2, True, 5, seed=1)[0])
    gc.set_random_seed(9)
    a = gc.random.log_uniform_candidate_sampler([[1]], 1, 6, True, 1000)[0]
    b = gc.random.log_uniform_candidate_sampler([[1]], 1, 6, True, 1000)[0]
    (first_a, first_b), (again_a, _) = [r[0] for r in run([a, b], sessions=2)]
    np.testing.assert_array_equal(first_a, again_a)
    assert not np.array_equal(first_a, first_b)


def test_embedding_lookup_shapes_gradient_partitions_and_max_norm():
    params = RNG.normal(size=(6, 3))
    ids = np.array([[0, 5, 5], [2, 0, 1]])
    table = gc.placeholder(gc.float64, [6, 3])
    found = gc.nn.embedding_lookup(table, ids)
    weights = RNG.normal(size=(2, 3, 3))
    (grad,) = gc.gradients(gc.reduce_sum(found * weights), [table])
    mod = gc.nn.embedding_lookup([params[0::2], params[1::2]], ids)  # id i in part i % 2
    div = gc.nn.embedding_lookup([params[:3], params[3:]], ids, partition_strategy="div")
    clipped = gc.nn.embedding_lookup(params, ids, max_norm=0.5)
    got, got_grad, got_mod, got_div, got_clipped = run([found, grad, mod, div, clipped],
                                                       {table: params})
    assert found.shape.as_list() == [2, 3, 3]
    np.testing.assert_array_equal(got, params[ids])
    want_grad = np.zeros_like(params)
    np.add.at(want_grad, ids.ravel(), weights.reshape(-1, 3))  # the scatter-add
    np.testing.assert_allclose(got_grad, want_grad)
    np.testing.assert_array_equal(got_mod, params[ids])
    np.testing.assert_array_equal(got_div, params[ids])
    norms = np.linalg.norm(params[ids], axis=-1, keepdims=True)
    np.testing.assert_allclose(got_clipped, params[ids] * np.minimum(1, 0.5 / norms))


def sampled_logits_reference(weights, biases, labels, inputs, sampled, true_count,
                             sampled_count, remove_accidental_hits):
    """TF1's _compute_sampled_logits, transcribed."""
    true_logits = np.einsum("bd,btd->bt", inputs, weights[labels]) + biases[labels]
    sampled_logits = inputs @ weights[sampled].T + biases[sampled]
    if remove_accidental_hits:
        hits = (labels[:, :, None] == sampled[None, None, :]).any(axis=1)
        sampled_logits = sampled_logits + hits * -np.finfo(np.float32).max
    logits = np.concatenate([true_logits - np.log(true_count),
                             sampled_logits - np.log(sampled_count)], 1)
    targets = np.concatenate([np.full(true_logits.shape, 1 / labels.shape[1]),
                              np.zeros(sampled_logits.shape)], 1)
    return logits, targets


def _problem(num_true):
    weights, biases = RNG.normal(size=(12, 4)), RNG.normal(size=12)
    labels = np.array([[3, 7], [0, 3], [11, 5]])[:, :num_true]
    inputs = RNG.normal(size=(3, 4))
    sampled = np.array([7, 1, 0, 9])  # 7 and 0 are accidental hits in some rows
    true_count = RNG.uniform(0.1, 0.9, size=labels.shape).astype(np.float32)
    sampled_count = RNG.uniform(0.1, 0.9, size=4).astype(np.float32)
    return weights, biases, labels, inputs, (sampled, true_count, sampled_count)


@pytest.mark.parametrize("num_true,hits", [(1, False), (2, True), (1, True)])
def test_nce_and_sampled_softmax_losses_match_tf_math(num_true, hits):
    weights, biases, labels, inputs, values = _problem(num_true)
    nce = gc.nn.nce_loss(weights, biases, labels, inputs, 4, 12, num_true=num_true,
                         sampled_values=values, remove_accidental_hits=hits)
    softmax = gc.nn.sampled_softmax_loss(weights, biases, labels, inputs, 4, 12,
                                         num_true=num_true, sampled_values=values,
                                         remove_accidental_hits=hits)
    got_nce, got_softmax = run([nce, softmax])
    logits, targets = sampled_logits_reference(weights, biases, labels, inputs,
                                               *[v.astype(np.float64) if i else v
                                                 for i, v in enumerate(values)], hits)
    want_nce = (np.maximum(logits, 0) - logits * targets
                + np.log1p(np.exp(-np.abs(logits)))).sum(1)
    shifted = logits - logits.max(1, keepdims=True)
    want_softmax = -(targets * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))).sum(1)
    assert nce.shape.as_list() == [3] and softmax.shape.as_list() == [3]
    np.testing.assert_allclose(got_nce, want_nce, rtol=1e-6)
    np.testing.assert_allclose(got_softmax, want_softmax, rtol=1e-6)


@pytest.mark.parametrize("loss", ["nce_loss", "sampled_softmax_loss"])
def test_sampled_loss_gradients_match_finite_differences(loss):
    weights, biases, labels, inputs, values = _problem(2)

    def build(w, b, x):
        return getattr(gc.nn, loss)(w, b, labels, x, 4, 12, num_true=2, sampled_values=values)
    assert_gradients_match(build, weights, biases, inputs)


def test_nce_loss_samples_by_default_with_the_graph_seed():
    gc.set_random_seed(4)
    labels = np.array([[1], [2]])
    loss = gc.nn.nce_loss(np.ones((50, 3)), np.zeros(50), labels, np.ones((2, 3)), 5, 50)
    types = {op.type for op in gc.get_default_graph().get_operations()}
    assert "log_uniform_candidate_sampler" in types
    (first,), (again,) = run([loss], sessions=2)
    np.testing.assert_array_equal(first, again)
