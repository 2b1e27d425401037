"""The paper's linear regression (§4): data model, batched gradients, population quantities."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim import problems
from bgdsim.config import ProblemConfig
from bgdsim.problems.linear_regression import LinearRegression


def build(m: int = 8, **kw: object) -> LinearRegression:
    cfg = ProblemConfig.model_validate({"dim": 4, "samples": 800, **kw})
    p = problems.build(cfg, m, np.random.default_rng(1))
    assert isinstance(p, LinearRegression)
    return p


def loop_gradients(p: LinearRegression, theta: np.ndarray) -> np.ndarray:
    """One worker at a time, straight from the definition ∇f̄_j = (1/n) Σ w_i(⟨w_i,θ⟩ − y_i)."""
    out = []
    for w, y in zip(p.covariates, p.responses, strict=True):
        out.append(np.mean([wi * (wi @ theta - yi) for wi, yi in zip(w, y, strict=True)], axis=0))
    return np.array(out)


@pytest.mark.parametrize("samples", [800, 16], ids=["d<=n: sufficient statistics", "d>n: direct"])
def test_batched_gradients_equal_the_per_worker_definition(samples: int) -> None:
    p = build(samples=samples)
    theta = np.array([0.3, -1.0, 2.0, 0.5])
    np.testing.assert_allclose(p.gradients(theta), loop_gradients(p, theta), rtol=1e-10, atol=1e-12)
    assert p.gradients(theta).shape == (8, 4)


def test_theta_star_has_unit_norm_by_default_and_can_be_given() -> None:
    assert np.linalg.norm(build().theta_star) == pytest.approx(1.0)
    assert np.linalg.norm(build(theta_norm=3.0).theta_star) == pytest.approx(3.0)
    np.testing.assert_array_equal(build(theta_star=[1.0, 2, 3, 4]).theta_star, [1.0, 2, 3, 4])


def test_population_gradient_and_risk_are_the_papers() -> None:
    p = build(noise=2.0)
    theta = np.array([1.0, 0.0, -1.0, 2.0])
    np.testing.assert_array_equal(p.population_gradient(theta), theta - p.theta_star)
    d2 = float(np.sum((theta - p.theta_star) ** 2))
    assert p.population_risk(theta) == pytest.approx(0.5 * d2 + 0.5 * 4.0)
    assert p.auto_step_size() == 0.5  # L = M = 1: η = L/(2M²)


def test_the_average_local_gradient_approaches_the_population_gradient() -> None:
    p = build(m=10, samples=200_000)
    theta = np.array([0.5, 0.5, -0.5, 1.0])
    avg = p.gradients(theta).mean(axis=0)  # eq. (4)
    assert np.linalg.norm(avg - p.population_gradient(theta)) < 0.05


def test_noise_and_covariates_have_the_stated_distribution() -> None:
    p = build(m=10, samples=100_000, noise=0.5)
    w = p.covariates.reshape(-1, 4)
    assert np.abs(w.mean(axis=0)).max() < 0.02
    np.testing.assert_allclose(np.cov(w.T), np.eye(4), atol=0.02)
    resid = p.responses.reshape(-1) - w @ p.theta_star
    assert resid.std() == pytest.approx(0.5, rel=0.02)


def test_the_error_norm_is_overflow_safe() -> None:
    p = build(theta_star=[0.0, 0, 0, 0])
    assert p.error(np.array([1e300, 1e300, 0, 0])) == pytest.approx(np.sqrt(2) * 1e300)


def test_drift_moves_each_workers_optimum_and_theta_star_is_their_mean() -> None:
    from types import SimpleNamespace

    from bgdsim.problems import DataSetup

    cfg = ProblemConfig.model_validate({"dim": 3, "samples": 3000, "noise": 0.0})
    setup = DataSetup(np.random.default_rng(0), np.random.default_rng(1),
                      SimpleNamespace(kind="drift", scale=0.5))  # fmt: skip
    p = problems.build(cfg, 3, np.random.default_rng(2), setup)
    plain = problems.build(cfg, 3, np.random.default_rng(2))
    assert p.describe()["drift"] != [0.0, 0.0, 0.0] and plain.describe() == {}
    # noise-free: each worker's gradient vanishes at its own optimum θ*_j, not at θ*
    local = p.gradients(p.theta_star)
    assert np.abs(local).max() > 1e-3
    assert np.allclose(local.mean(axis=0), 0.0, atol=0.05)  # equal sizes: θ* is the mean
    assert p.population_risk(p.theta_star) == pytest.approx(p.heterogeneity)
