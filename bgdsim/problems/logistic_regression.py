"""Logistic regression with Gaussian covariates and a known θ*.

Samples w_i ~ N(0, I_d), y_i ∈ {0, 1} with P(y_i = 1 | w_i) = σ(⟨w_i, θ*⟩), σ the
logistic function; loss f(X, θ) = log(1 + e^{⟨w,θ⟩}) − y⟨w, θ⟩, so θ* minimises F.

By Stein's lemma the population gradient has a closed form in one-dimensional Gaussian
expectations: ∇F(θ) = a(‖θ‖) θ − a(‖θ*‖) θ* with a(s) = E[σ'(sZ)], Z ~ N(0, 1),
evaluated by Gauss–Hermite quadrature. M = ¼ (σ' ≤ ¼). L is the smallest eigenvalue of
the Hessian at θ*, min(a(s), E[σ'(sZ) Z²]) with s = ‖θ*‖ — the local strong convexity
that governs the final rate — so ``step_size = "auto"`` gives η = L/(2M²) = 8L.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bgdsim.problems import DataSetup, Problem, draw_data, registry
from bgdsim.problems.real_data import build_empirical

if TYPE_CHECKING:
    from bgdsim.config import ProblemConfig

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(96)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()  # E[h(Z)] ≈ Σ w_i h(z_i) for Z ~ N(0, 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free σ
    return out


def _sigmoid_prime(x: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return s * (1.0 - s)


def _gauss(fn_values: np.ndarray) -> float:
    return float(_WEIGHTS @ fn_values)


class LogisticRegression(Problem):
    """Binary logistic regression, data split evenly over the workers."""

    smoothness = 0.25

    def __init__(
        self,
        covariates: np.ndarray,
        labels: np.ndarray,
        theta_star: np.ndarray,
        sizes: np.ndarray | None = None,
    ) -> None:
        m, n, d = covariates.shape
        super().__init__(d, np.full(m, n) if sizes is None else sizes, theta_star)
        self._n = self.sizes.astype(np.float64)[:, None]
        self.covariates = covariates  # (m, n, d)
        self.labels = labels  # (m, n) in {0, 1}
        s = float(np.linalg.norm(theta_star))
        self._a_star = self._a(s)
        self.strong_convexity = min(self._a_star, _gauss(_sigmoid_prime(s * _NODES) * _NODES**2))

    @staticmethod
    def _a(s: float) -> float:
        return _gauss(_sigmoid_prime(s * _NODES))

    def gradients(self, theta: np.ndarray) -> np.ndarray:
        resid = _sigmoid(np.matmul(self.covariates, theta)) - self.labels  # (m, n)
        # padding rows have w = 0, so they add nothing whatever their residual
        return np.matmul(self.covariates.transpose(0, 2, 1), resid[:, :, None])[:, :, 0] / self._n

    def sampled_gradients(
        self, theta: np.ndarray, rows: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Σ_i weights_ji · w_i(σ(⟨w_i, θ⟩) − y_i) over the drawn samples of each worker."""
        at = np.arange(rows.shape[0])[:, None]
        w = self.covariates[at, rows]
        resid = (_sigmoid(np.matmul(w, theta)) - self.labels[at, rows]) * weights
        return np.matmul(w.transpose(0, 2, 1), resid[:, :, None])[:, :, 0]

    def _take(self, rows: slice) -> None:
        self._take_sizes(rows)
        self._n = self._n[rows]
        self.covariates = self.covariates[rows]
        self.labels = self.labels[rows]

    corruptions = ("flip",)

    def corrupted_gradients(
        self, theta: np.ndarray, workers: np.ndarray, *, kind: str, strength: float
    ) -> np.ndarray:
        """``flip``: every label y of the workers becomes 1 − y (``strength`` unused)."""
        if kind not in self.corruptions:
            return super().corrupted_gradients(theta, workers, kind=kind, strength=strength)
        w = self.covariates[workers]
        resid = _sigmoid(np.matmul(w, theta)) - (1.0 - self.labels[workers])
        return np.matmul(w.transpose(0, 2, 1), resid[:, :, None])[:, :, 0] / self._n[workers]

    def population_risk(self, theta: np.ndarray) -> float:
        s = float(np.linalg.norm(theta))
        softplus = np.logaddexp(0.0, s * _NODES)
        # E[σ(⟨w,θ*⟩)⟨w,θ⟩] = ⟨θ, θ*⟩ a(‖θ*‖) by Stein's lemma
        return _gauss(softplus) - float(theta @ self.theta_star) * self._a_star

    def population_gradient(self, theta: np.ndarray) -> np.ndarray:
        a = self._a(float(np.linalg.norm(theta)))
        return np.asarray(a * theta - self._a_star * self.theta_star, dtype=np.float64)


@registry.register("logistic_regression")
def build(
    config: ProblemConfig, workers: int, rng: np.random.Generator, setup: DataSetup
) -> Problem:
    """Draw θ*, then N = ``samples`` labelled samples split over ``workers``; with
    ``problem.dataset``, on that (two-class) data (:mod:`bgdsim.problems.real_data`)."""
    if config.dataset is not None:
        return build_empirical(config, workers, "logistic", setup)
    theta_star, sizes, w = draw_data(config, workers, rng)
    p = _sigmoid(np.matmul(w, theta_star))
    y = (rng.random(w.shape[:2]) < p).astype(np.float64)
    return LogisticRegression(w, y, theta_star, sizes)
