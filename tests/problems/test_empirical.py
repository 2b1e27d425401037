"""GLMs on real data: hand-computed gradients, θ*, test metrics, shares bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim.config import ProblemConfig
from bgdsim.problems import DataSetup, Problem, build
from bgdsim.problems.empirical import EmpiricalProblem, loss


def glm(kind: str, X: np.ndarray, Y: np.ndarray, l2: float, test=None) -> EmpiricalProblem:  # type: ignore[no-untyped-def]
    """One worker holding (X, Y)."""
    return EmpiricalProblem(kind, X[None], Y[None], np.array([X.shape[0]]), (X, Y), test, l2)


def test_softmax_gradient_by_hand() -> None:
    # θ = 0: every class has probability ½; R = softmax − Y = ±½; G = XᵀR / 2
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = glm("softmax", X, Y, 0.1)
    assert p.gradients(np.zeros(4)).tolist() == [[-0.25, 0.25, 0.25, -0.25]]


def test_squared_gradient_by_hand_with_the_penalty() -> None:
    # z = ⟨(1, 2), (1, 0)⟩ = 1, r = 1 − 3 = −2: (1, 2)·(−2) + 0.5·(1, 0)
    p = glm("squared", np.array([[1.0, 2.0]]), np.array([[3.0]]), 0.5)
    assert p.gradients(np.array([1.0, 0.0])).tolist() == [[-1.5, -4.0]]


def test_logistic_gradient_by_hand() -> None:
    # σ(0) − 1 = −½, times x = 2
    p = glm("logistic", np.array([[2.0], [0.0]]), np.array([[1.0], [0.0]]), 0.1)
    assert p.gradients(np.zeros(1)).tolist() == [[-0.5]]  # mean over n = 2


def test_softmax_loss_by_hand() -> None:
    z = np.array([[0.0, np.log(3.0)]])  # probabilities ¼, ¾
    assert loss("softmax", z, np.array([[1.0, 0.0]]))[0] == pytest.approx(np.log(4.0))
    assert loss("softmax", z, np.array([[0.0, 1.0]]))[0] == pytest.approx(np.log(4 / 3))


def test_test_metrics_by_hand() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.eye(2)
    test = (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0, 0, 1]))
    p = glm("softmax", X, Y, 0.1, test)
    theta = np.array([np.log(3.0), 0.0, 0.0, 0.0])  # sample 0 → class 0 (¾), others tie/0
    out = p.test_metrics(theta)
    # scores: (ln 3, 0) → class 0 ✓; (0, 0) → argmax 0 ✓; (ln 3, 0) → class 0 ✗ (label 1)
    assert out["test_accuracy"] == pytest.approx(2 / 3)
    assert out["test_loss"] == pytest.approx((np.log(4 / 3) + np.log(2) + np.log(4)) / 3)
    assert glm("softmax", X, Y, 0.1).test_metrics(theta) == {}


def wine(m: int = 7, **extra: object) -> Problem:
    cfg = ProblemConfig.model_validate(
        {"kind": "softmax_regression", "dataset": "wine", "test_fraction": 0.2, **extra}
    )
    rng = np.random.default_rng(0)
    return build(cfg, m, rng, DataSetup(np.random.default_rng(1), np.random.default_rng(2)))


def test_theta_star_minimises_the_training_risk() -> None:
    p = wine()
    assert p.dim == 14 * 3
    assert np.abs(p.population_gradient(p.theta_star)).max() < 1e-8
    # the workers' size-weighted mean gradient is the population gradient
    theta = np.random.default_rng(4).standard_normal(p.dim)
    mean = (p.sizes[:, None] * p.gradients(theta)).sum(axis=0) / p.samples
    assert np.allclose(mean, p.population_gradient(theta), atol=1e-12)


def test_population_gradient_is_the_risks_derivative() -> None:
    p = wine(l2=0.01)
    theta = np.random.default_rng(5).standard_normal(p.dim) * 0.3
    e = np.zeros(p.dim)
    e[7] = 1e-6
    numeric = (p.population_risk(theta + e) - p.population_risk(theta - e)) / 2e-6
    assert numeric == pytest.approx(p.population_gradient(theta)[7], rel=1e-5)


def test_every_share_gives_the_batched_row_bit_for_bit() -> None:
    p = wine(m=5)  # 143 training samples over 5 workers: unequal sizes
    assert not p.equal_sizes
    theta = np.random.default_rng(6).standard_normal(p.dim)
    batched = p.gradients(theta)
    for j in range(p.workers):
        assert np.array_equal(p.local(j).gradients(theta)[0], batched[j])


def test_label_flip_is_the_gradient_on_reversed_classes() -> None:
    p = wine(m=4)
    assert isinstance(p, EmpiricalProblem)
    theta = np.random.default_rng(7).standard_normal(p.dim)
    got = p.corrupted_gradients(theta, np.array([1]), kind="flip", strength=1.0)
    flipped = p.targets[1][:, ::-1]
    X = p.features[1]
    want = p._grad(X[None], flipped[None], p._n[[1]], theta)
    assert np.array_equal(got, want)
    with pytest.raises(ValueError, match="no data corruption 'shift'"):
        p.corrupted_gradients(theta, np.array([1]), kind="shift", strength=1.0)
