"""gc.distributions against scipy.stats: densities, CDFs, entropies and moments; sample
moments; reparameterized gradients; KL rules; errors."""
import numpy as np
import pytest
import scipy.special
import scipy.stats

import graphc as gc

D = gc.distributions
X = np.array([0.3, 0.7, 1.5], np.float64)

CASES = [  # graphc distribution, the same in scipy.stats, whether it has a cdf, an entropy
    (lambda: D.Normal(np.float64(0.5), np.float64(2.0)), scipy.stats.norm(0.5, 2.0), True, True),
    (lambda: D.Uniform(np.float64(0.0), np.float64(2.0)), scipy.stats.uniform(0.0, 2.0), True,
     True),
    (lambda: D.Laplace(np.float64(0.5), np.float64(1.5)), scipy.stats.laplace(0.5, 1.5), True,
     True),
    (lambda: D.Exponential(np.float64(2.0)), scipy.stats.expon(scale=0.5), True, True),
    (lambda: D.Gamma(np.float64(2.5), np.float64(3.0)), scipy.stats.gamma(2.5, scale=1 / 3.0),
     True, True),
    (lambda: D.Beta(np.float64(2.0), np.float64(3.0)), scipy.stats.beta(2.0, 3.0), False, True),
    (lambda: D.StudentT(np.float64(5.0), np.float64(0.5), np.float64(2.0)),
     scipy.stats.t(5.0, 0.5, 2.0), False, False),
]


@pytest.mark.parametrize("make,reference,has_cdf,has_entropy", CASES)
def test_densities_and_moments_match_scipy(make, reference, has_cdf, has_entropy):
    x = X / 2.0 if isinstance(reference.dist, type(scipy.stats.beta)) else X
    with gc.Graph().as_default(), gc.Session() as sess:
        dist = make()
        fetches = [dist.log_prob(x), dist.prob(x), dist.mean(), dist.variance()]
        fetches += [dist.cdf(x)] if has_cdf else []
        fetches += [dist.entropy()] if has_entropy else []
        got = sess.run(fetches)
    np.testing.assert_allclose(got[0], reference.logpdf(x), rtol=1e-9)
    np.testing.assert_allclose(got[1], reference.pdf(x), rtol=1e-9)
    np.testing.assert_allclose(got[2], reference.mean(), rtol=1e-9)
    np.testing.assert_allclose(got[3], reference.var(), rtol=1e-9)
    if has_cdf:
        np.testing.assert_allclose(got[4], reference.cdf(x), rtol=1e-9)
    if has_entropy:
        np.testing.assert_allclose(got[-1], reference.entropy(), rtol=1e-9)


@pytest.mark.parametrize("make,reference,has_cdf,has_entropy", CASES)
def test_sample_moments(make, reference, has_cdf, has_entropy):
    with gc.Graph().as_default(), gc.Session() as sess:
        draws = sess.run(make().sample([40000], seed=7))
    assert draws.shape == (40000,)
    assert abs(draws.mean() - reference.mean()) < 5 * reference.std() / np.sqrt(40000)


def test_discrete_distributions_and_kl():
    logits = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
    with gc.Graph().as_default(), gc.Session() as sess:
        cat = D.Categorical(logits=logits)
        other = D.Categorical(probs=scipy.special.softmax(logits[::-1], -1))
        bern = D.Bernoulli(logits=np.array([-1.0, 2.0]))
        got = sess.run([cat.log_prob([2, 0]), cat.entropy(), cat.sample(20000, seed=1),
                        D.kl_divergence(cat, other), bern.log_prob([1, 0]), bern.entropy(),
                        bern.sample([20000], seed=2), cat.mode(),
                        D.kl_divergence(bern, D.Bernoulli(probs=np.array([0.5, 0.5])))])
    probs = scipy.special.softmax(logits, -1)
    np.testing.assert_allclose(got[0], np.log([probs[0, 2], probs[1, 0]]), rtol=1e-9)
    np.testing.assert_allclose(got[1], scipy.stats.entropy(probs, axis=-1), rtol=1e-9)
    assert got[2].shape == (20000, 2)
    np.testing.assert_allclose(np.mean(got[2][:, 0] == 2), probs[0, 2], atol=0.02)
    np.testing.assert_allclose(got[3], scipy.stats.entropy(probs, probs[::-1], axis=-1),
                               rtol=1e-9)
    p = scipy.special.expit([-1.0, 2.0])
    np.testing.assert_allclose(got[4], np.log([p[0], 1 - p[1]]), rtol=1e-9)
    np.testing.assert_allclose(got[5], -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-9)
    np.testing.assert_allclose(got[6].mean(0), p, atol=0.02)
    np.testing.assert_array_equal(got[7], [2, 0])
    np.testing.assert_allclose(got[8], p * np.log(p / 0.5) + (1 - p) * np.log((1 - p) / 0.5),
                               rtol=1e-9)


def test_normal_samples_are_reparameterized_and_kl_is_closed_form():
    with gc.Graph().as_default(), gc.Session() as sess:
        mu, sigma = gc.constant([0.5, -1.0], gc.float64), gc.constant([2.0, 0.5], gc.float64)
        q = D.Normal(mu, sigma)
        z = q.sample([1000], seed=3)
        grads = gc.gradients(gc.reduce_sum(gc.reduce_mean(z, 0)), [mu, sigma])
        kl = D.kl_divergence(q, D.Normal(np.float64(0.0), np.float64(1.0)))
        got = sess.run(grads + [kl])
    np.testing.assert_allclose(got[0], [1.0, 1.0])  # d mean(mu + sigma eps) / d mu
    np.testing.assert_allclose(got[2], 0.5 * (np.array([4.0, 0.25]) + np.array([0.25, 1.0])
                                              - 1 - np.log([4.0, 0.25])))
    assert D.Normal.reparameterization_type is D.FULLY_REPARAMETERIZED


def test_errors():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="exactly one of logits and probs"):
            D.Bernoulli(logits=[0.0], probs=[0.5])
        with pytest.raises(NotImplementedError, match="No KL.*Normal.*Gamma"):
            D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))
        with pytest.raises(NotImplementedError, match="Beta has no cdf"):
            D.Beta(1.0, 2.0).cdf(0.5)
