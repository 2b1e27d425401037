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


def _reference(s: float, power: int) -> float:
    """E[σ'(sZ) Z^power], Z ~ N(0, 1), integrated in x = sZ around the spike at 0."""
    import math

    from scipy import integrate

    def f(x: float) -> float:
        e = math.exp(-abs(x))
        return e / (1 + e) ** 2 * (x / s) ** power * math.exp(-0.5 * (x / s) ** 2)

    value = integrate.quad(f, -200, 200, points=[0.0], epsabs=0, epsrel=1e-13, limit=1000)[0]
    return value / (s * math.sqrt(2 * math.pi))


@pytest.mark.parametrize("norm", [0.3, 1.0, 3.0, 10.0, 20.0, 50.0, 1e3])
def test_the_gaussian_expectations_hold_at_any_norm_of_theta_star(norm: float) -> None:
    # σ'(sZ) is a spike of width 1/s: 96 fixed Gauss–Hermite nodes were 5 % off at s = 10,
    # 50 % at 20 and 99 % at 50, so L, the auto step and the population gradient were too
    p = build()
    theta_star = np.array([norm, 0.0, 0.0])
    q = LogisticRegression(p.covariates, p.labels, theta_star)
    a, b = _reference(norm, 0), _reference(norm, 2)
    assert q.strong_convexity == pytest.approx(min(a, b), rel=1e-10)
    assert q.auto_step_size() == pytest.approx(8 * min(a, b), rel=1e-10)
    theta = np.array([0.0, norm, 0.0])  # ‖θ‖ = ‖θ*‖: ∇F = a·(θ − θ*)
    np.testing.assert_allclose(q.population_gradient(theta), a * (theta - theta_star), rtol=1e-10)
    # the risk's own gradient, by central differences, is the population gradient
    h, g = 1e-5 * max(norm, 1.0), np.zeros(3)
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        g[i] = (q.population_risk(theta + e) - q.population_risk(theta - e)) / (2 * h)
    np.testing.assert_allclose(g, q.population_gradient(theta), rtol=1e-5, atol=1e-9)
