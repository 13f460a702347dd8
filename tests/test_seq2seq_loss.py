"""tf.contrib.seq2seq.sequence_loss: TF1's weighted sequence cross-entropy and its reductions,
against a NumPy reference of TF1's formulas."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(1)
LOGITS = RNG.standard_normal((3, 4, 5)).astype(np.float32)
TARGETS = RNG.integers(0, 5, (3, 4)).astype(np.int32)
WEIGHTS = (RNG.random((3, 4)) > 0.3).astype(np.float32)
WEIGHTS[1] = 0  # a sequence with nothing to count


def _crossent():
    shifted = LOGITS - LOGITS.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, TARGETS[..., None], -1)[..., 0]
    return -picked * WEIGHTS


def _divide(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


@pytest.mark.parametrize("modes,want", [
    ((True, True, False, False), lambda c: _divide(c.sum(), WEIGHTS.sum())),
    ((True, False, False, False), lambda c: _divide(c.sum(1), WEIGHTS.sum(1))),
    ((False, True, False, False), lambda c: _divide(c.sum(0), WEIGHTS.sum(0))),
    ((False, False, True, True), lambda c: _divide(c.sum(), (WEIGHTS != 0).sum())),
    ((False, False, True, False), lambda c: _divide(c.sum(1), (WEIGHTS != 0).sum(1))),
    ((False, False, False, True), lambda c: _divide(c.sum(0), (WEIGHTS != 0).sum(0))),
    ((False, False, False, False), lambda c: c)])
def test_sequence_loss_reductions(modes, want):
    average_t, average_b, sum_t, sum_b = modes
    with gc.Graph().as_default(), gc.Session() as sess:
        loss = gc.contrib.seq2seq.sequence_loss(
            LOGITS, TARGETS, WEIGHTS, average_across_timesteps=average_t,
            average_across_batch=average_b, sum_over_timesteps=sum_t, sum_over_batch=sum_b)
        got = sess.run(loss)
    np.testing.assert_allclose(got, want(_crossent()), rtol=1e-5, atol=1e-7)
    assert np.all(np.isfinite(got))  # the all-zero row gives 0, not NaN


def test_sequence_loss_trains_through_its_gradient_and_checks_ranks():
    with gc.Graph().as_default():
        logits = gc.Variable(LOGITS)
        loss = gc.contrib.seq2seq.sequence_loss(logits, TARGETS, WEIGHTS)
        grad, = gc.gradients(loss, [logits])
        assert grad is not None
        with pytest.raises(ValueError, match=r"Logits must be a \[batch_size x sequence_length "
                                             r"x logits\] tensor, got shape \(3, 4\)"):
            gc.contrib.seq2seq.sequence_loss(LOGITS[..., 0], TARGETS, WEIGHTS)
        with pytest.raises(ValueError, match="cannot be set to True at same time"):
            gc.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, sum_over_timesteps=True)
