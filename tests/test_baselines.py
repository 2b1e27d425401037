"""One-shot baselines: local least squares and one robust aggregation, on hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgdsim.baselines import local_least_squares, one_shot, one_shot_error
from bgdsim.engine import World
from bgdsim.problems.linear_regression import LinearRegression
from tests.conftest import ScenarioFactory


def test_local_least_squares_by_hand() -> None:
    # worker 0: W = [[1, 0], [2, 1]] is square, so W θ = y: θ = (1, 3 − 2·1); worker 1: W = I
    w = np.zeros((2, 2, 2))
    w[0, :, 0] = [1.0, 2.0]
    w[0, :, 1] = [0.0, 1.0]
    w[1] = np.eye(2)
    y = np.array([[1.0, 3.0], [4.0, -1.0]])
    got = local_least_squares(w, y)
    np.testing.assert_allclose(got, [[1.0, 1.0], [4.0, -1.0]])
    # d = 1, w = (1, 2), y = (1, 3): θ̂ = Σwy/Σw² = 7/5
    one_d = local_least_squares(np.array([[[1.0], [2.0]]]), np.array([[1.0, 3.0]]))
    assert one_d[0, 0] == pytest.approx(7 / 5)


def test_local_least_squares_recovers_theta_without_noise() -> None:
    rng = np.random.default_rng(0)
    theta = np.array([0.5, -2.0, 3.0])
    w = rng.standard_normal((4, 10, 3))
    np.testing.assert_allclose(local_least_squares(w, w @ theta), np.tile(theta, (4, 1)))


def test_local_least_squares_refuses_too_few_samples() -> None:
    with pytest.raises(ValueError, match="singular"):
        local_least_squares(np.ones((1, 2, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="covariates"):
        local_least_squares(np.ones((2, 3)), np.ones((2, 3)))


def test_one_shot_rules_by_hand() -> None:
    x = np.array([[0.0], [1.0], [10.0]])
    assert one_shot(x, "mean").tolist() == [pytest.approx(11 / 3)]
    assert one_shot(x, "median").tolist() == [1.0]
    assert one_shot(x, "geometric_median")[0] == pytest.approx(1.0)
    # an equilateral triangle: the geometric median is its centre (all angles 120°)
    tri = np.array([[1.0, 0.0], [-0.5, math.sqrt(3) / 2], [-0.5, -math.sqrt(3) / 2]])
    np.testing.assert_allclose(one_shot(tri, "geometric_median"), [0.0, 0.0], atol=1e-8)
    with pytest.raises(ValueError, match="one_shot rule"):
        one_shot(x, "mode")  # type: ignore[arg-type]


def test_one_shot_error_uses_the_runs_data(scenario: ScenarioFactory) -> None:
    sc = scenario(cluster__byzantine=0)
    problem = World(sc).problem
    assert isinstance(problem, LinearRegression)
    theta = local_least_squares(problem.covariates, problem.responses)
    want = float(np.linalg.norm(np.median(theta, axis=0) - problem.theta_star))
    assert one_shot_error(sc, "median") == pytest.approx(want, rel=1e-12)


def test_byzantine_estimates_break_the_mean_not_the_medians(scenario: ScenarioFactory) -> None:
    sc = scenario(cluster__byzantine=2)  # 2 of 20 workers send −100 × the honest mean
    assert one_shot_error(sc, "mean") > 5.0  # ≈ (18 − 200)/20 θ* away from θ*
    for rule in ("median", "geometric_median"):
        assert one_shot_error(sc, rule) < 0.5  # type: ignore[arg-type]


def test_one_shot_error_needs_linear_regression(scenario: ScenarioFactory) -> None:
    with pytest.raises(ValueError, match="linear_regression"):
        one_shot_error(scenario(problem__kind="logistic_regression"), "median")
