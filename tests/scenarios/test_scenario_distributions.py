"""Each distribution's sample matches its parameters (goodness of fit, fixed seed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from datagen.scenarios.distributions import Distribution, check

SIZE = 20_000


def sample(distribution: Distribution, seed: int = 11) -> np.ndarray:
    return distribution.sample(np.random.default_rng(seed), SIZE)


def chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of a chi-square test of ``counts`` against ``probabilities`` (tail pooled)."""
    values = np.arange(len(probabilities))
    observed = np.bincount(np.minimum(counts, values[-1]), minlength=len(values))
    expected = probabilities / probabilities.sum() * len(counts)
    keep = expected >= 5  # pool sparse cells into the last kept one
    pooled_obs = np.append(observed[keep], observed[~keep].sum())
    pooled_exp = np.append(expected[keep], expected[~keep].sum())
    if pooled_exp[-1] == 0:
        pooled_obs, pooled_exp = pooled_obs[:-1], pooled_exp[:-1]
    return float(stats.chisquare(pooled_obs, pooled_exp).pvalue)


def rounded(cdf, upto: int) -> np.ndarray:
    """P(round(X) = k) for k in [0, upto], the last cell taking the upper tail."""
    edges = np.arange(upto + 1) + 0.5
    upper = cdf(edges)
    upper[-1] = 1.0
    lower = np.concatenate(([0.0], upper[:-1]))
    return upper - lower


def test_fixed_gives_its_value():
    assert set(sample(Distribution("fixed", {"value": 4}))) == {4}


def test_uniform_is_flat_over_its_inclusive_range():
    counts = sample(Distribution("uniform", {"low": 2, "high": 9}))
    assert counts.min() == 2 and counts.max() == 9
    probabilities = np.array([0.0, 0.0] + [1 / 8] * 8)
    assert chi_square_p(counts, probabilities) > 0.001


def test_normal_matches_mean_and_sd():
    counts = sample(Distribution("normal", {"mean": 20, "sd": 4}))
    assert counts.mean() == pytest.approx(20, abs=0.15)
    assert counts.std() == pytest.approx(4, abs=0.15)
    probabilities = rounded(stats.norm(20, 4).cdf, 45)
    assert chi_square_p(counts, probabilities) > 0.001


def test_lognormal_matches_mu_and_sigma():
    counts = sample(Distribution("lognormal", {"mu": 2.0, "sigma": 0.5}))
    assert np.median(counts) == pytest.approx(np.exp(2.0), abs=0.6)
    probabilities = rounded(stats.lognorm(s=0.5, scale=np.exp(2.0)).cdf, 60)
    assert chi_square_p(counts, probabilities) > 0.001


def test_poisson_matches_lambda():
    counts = sample(Distribution("poisson", {"lam": 3.5}))
    assert counts.mean() == pytest.approx(3.5, abs=0.06)
    probabilities = stats.poisson(3.5).pmf(np.arange(20))
    assert chi_square_p(counts, probabilities) > 0.001


def test_zipf_matches_its_exponent():
    counts = sample(Distribution("zipf", {"a": 2.5}))
    probabilities = np.concatenate(([0.0], stats.zipf(2.5).pmf(np.arange(1, 30))))
    probabilities[-1] += stats.zipf(2.5).sf(29)
    assert counts.min() == 1
    assert chi_square_p(counts, probabilities) > 0.001


def test_weighted_matches_its_weights():
    counts = sample(Distribution("weighted", {"values": [0, 1, 5], "weights": [5, 3, 2]}))
    assert set(counts) == {0, 1, 5}
    probabilities = np.array([0.5, 0.3, 0, 0, 0, 0.2])
    assert chi_square_p(counts, probabilities) > 0.001


def test_min_and_max_clamp():
    counts = sample(Distribution("lognormal", {"mu": 2, "sigma": 1.5}, low=3, high=40))
    assert counts.min() == 3 and counts.max() == 40


def test_same_seed_same_sample_and_prefix_stable():
    distribution = Distribution("poisson", {"lam": 2})
    assert np.array_equal(sample(distribution), sample(distribution))
    assert not np.array_equal(sample(distribution, 1), sample(distribution, 2))


@pytest.mark.parametrize(
    "kind, params, problem",
    [
        ("uniform", {"low": 5, "high": 2}, "low <= high"),
        ("zipf", {"a": 1.0}, "a > 1"),
        ("weighted", {"values": [1, 2], "weights": [1]}, "as many weights"),
        ("weighted", {"values": [1], "weights": [0]}, "positive sum"),
    ],
)
def test_bad_parameters_are_explained(kind, params, problem):
    assert problem in (check(kind, params) or "")
