"""Logistic regression: batched gradients and the closed-form population gradient."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim import problems
from bgdsim.config import ProblemConfig
from bgdsim.problems.logistic_regression import LogisticRegression


def build(samples: int = 600, m: int = 6) -> LogisticRegression:
    cfg = ProblemConfig.model_validate(
        {"kind": "logistic_regression", "dim": 3, "samples": samples}
    )
    p = problems.build(cfg, m, np.random.default_rng(2))
    assert isinstance(p, LogisticRegression)
    return p


def test_batched_gradients_equal_the_definition() -> None:
    p = build()
    theta = np.array([0.2, -0.4, 1.0])
    expected = []
    for w, y in zip(p.covariates, p.labels, strict=True):
        s = 1 / (1 + np.exp(-(w @ theta)))
        expected.append(((s - y)[:, None] * w).mean(axis=0))
    np.testing.assert_allclose(p.gradients(theta), np.array(expected), rtol=1e-10, atol=1e-13)


def test_population_gradient_matches_a_large_sample_and_vanishes_at_theta_star() -> None:
    p = build(samples=600_000, m=6)
    theta = np.array([0.5, 0.1, -0.3])
    sample_avg = p.gradients(theta).mean(axis=0)
    np.testing.assert_allclose(p.population_gradient(theta), sample_avg, atol=5e-3)
    np.testing.assert_allclose(p.population_gradient(p.theta_star), 0.0, atol=1e-12)


def test_theta_star_minimises_the_population_risk() -> None:
    p = build()
    rng = np.random.default_rng(0)
    base = p.population_risk(p.theta_star)
    for _ in range(10):
        assert p.population_risk(p.theta_star + 0.1 * rng.standard_normal(3)) > base


def test_constants_of_assumption_1() -> None:
    p = build()
    assert p.smoothness == 0.25
    assert 0.1 < p.strong_convexity < 0.25
    assert p.auto_step_size() == pytest.approx(8 * p.strong_convexity)
