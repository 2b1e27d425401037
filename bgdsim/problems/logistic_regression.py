"""Logistic regression with Gaussian covariates and a known θ*.

Samples w_i ~ N(0, I_d), y_i ∈ {0, 1} with P(y_i = 1 | w_i) = σ(⟨w_i, θ*⟩), σ the
logistic function; loss f(X, θ) = log(1 + e^{⟨w,θ⟩}) − y⟨w, θ⟩, so θ* minimises F.

By Stein's lemma the population gradient has a closed form in one-dimensional Gaussian
expectations: ∇F(θ) = a(‖θ‖) θ − a(‖θ*‖) θ* with a(s) = E[σ'(sZ)], Z ~ N(0, 1),
evaluated by Gauss–Hermite quadrature for s ≤ 1.5 (exact to rounding there) and by
adaptive quadrature in x = sZ beyond (σ'(sZ) is a spike of width 1/s at Z = 0, which
fixed nodes miss: at s = 20 they were 50 % off). M = ¼ (σ' ≤ ¼). L is the smallest eigenvalue of
the Hessian at θ*, min(a(s), E[σ'(sZ) Z²]) with s = ‖θ*‖ — the local strong convexity
that governs the final rate — so ``step_size = "auto"`` gives η = L/(2M²) = 8L.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

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


_GH_EXACT = 1.5  # Gauss–Hermite's error for E[σ'(sZ) Z^k] is below 1e-15 up to here
_CUT = 60.0  # σ'(x), log1p(e^{-|x|}) < e^{-60} beyond |x| = 60


def _expect(h: Any, s: float, power: int = 0) -> float:
    """E[h(sZ) Z^power] for Z ~ N(0, 1) and h decaying at least like e^{-|x|}."""
    if s <= _GH_EXACT:
        return _gauss(h(s * _NODES) * _NODES**power)
    from scipy import integrate

    norm = s * math.sqrt(2.0 * math.pi)

    def integrand(x: float) -> float:
        z = x / s
        return float(h(np.float64(x))) * z**power * math.exp(-0.5 * z * z) / norm

    value, _ = integrate.quad(
        integrand, -_CUT, _CUT, points=[0.0], epsabs=0.0, epsrel=1e-12, limit=200
    )
    return float(value)


def _log1p_exp_neg_abs(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(-np.abs(x)))


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
        self.strong_convexity = min(self._a_star, _expect(_sigmoid_prime, s, power=2))

    @staticmethod
    def _a(s: float) -> float:
        return _expect(_sigmoid_prime, s)

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
        if s <= _GH_EXACT:
            expected = _gauss(np.logaddexp(0.0, s * _NODES))
        else:  # softplus(x) = max(x, 0) + log(1 + e^{-|x|}); E[max(sZ, 0)] = s/√(2π)
            expected = s / math.sqrt(2.0 * math.pi) + _expect(_log1p_exp_neg_abs, s)
        # E[σ(⟨w,θ*⟩)⟨w,θ⟩] = ⟨θ, θ*⟩ a(‖θ*‖) by Stein's lemma
        return expected - float(theta @ self.theta_star) * self._a_star

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
