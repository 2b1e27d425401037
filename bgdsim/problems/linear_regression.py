"""The paper's linear regression (Chen, Su, Xu 2017, §4).

Samples X_i = (w_i, y_i) with w_i ~ N(0, I_d) and y_i = ⟨w_i, θ*⟩ + ζ_i,
ζ_i ~ N(0, noise²); loss f(X, θ) = ½(⟨w, θ⟩ − y)². Then F(θ) = ½‖θ − θ*‖² + noise²/2,
∇F(θ) = θ − θ*, so L = M = 1 and η = L/(2M²) = ½.

With a ``drift`` partition worker j's responses follow its own θ*_j = θ* + δ_j,
δ_j ~ N(0, (scale²/d) I), so F(θ) = ½‖θ − θ̄‖² + noise²/2 + ½ Σ_j (n_j/N)‖θ*_j − θ̄‖² and
the problem's θ* is θ̄ = Σ_j (n_j/N) θ*_j (heterogeneous optima).

Worker j's local gradient is ∇f̄_j(θ) = (1/n) W_jᵀ(W_j θ − y_j) = A_j θ − b_j with
A_j = W_jᵀW_j/n and b_j = W_jᵀy_j/n. When d ≤ n (the usual case) these sufficient
statistics are computed once, so a round costs O(m d²) instead of O(N d).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bgdsim.problems import DataSetup, Problem, draw_data, registry
from bgdsim.problems.real_data import build_empirical

if TYPE_CHECKING:
    from bgdsim.config import ProblemConfig


class LinearRegression(Problem):
    """Least squares on Gaussian covariates, data split evenly over the workers."""

    strong_convexity = 1.0
    smoothness = 1.0
    #: ½ Σ_j (n_j/N)‖θ*_j − θ*‖² with a drift partition (0: the paper's common θ*)
    heterogeneity = 0.0
    #: ‖θ*_j − θ*‖ per worker with a drift partition
    drift: np.ndarray | None = None

    def __init__(
        self,
        covariates: np.ndarray,
        responses: np.ndarray,
        theta_star: np.ndarray,
        noise: float,
        sizes: np.ndarray | None = None,
    ) -> None:
        m, n, d = covariates.shape
        super().__init__(d, np.full(m, n) if sizes is None else sizes, theta_star)
        self._n = self.sizes.astype(np.float64)[:, None]  # (m, 1) divisors
        self.noise = noise
        self.covariates = covariates  # (m, n, d)
        self.responses = responses  # (m, n)
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        if d <= int(self.sizes.min()):
            wt = covariates.transpose(0, 2, 1)
            gram = np.matmul(wt, covariates) / self._n[:, :, None]  # (m, d, d)
            rhs = np.matmul(wt, responses[:, :, None])[:, :, 0] / self._n  # (m, d)
            self._stats = (gram, rhs)

    def gradients(self, theta: np.ndarray) -> np.ndarray:
        if self._stats is not None:
            gram, rhs = self._stats
            return np.matmul(gram, theta) - rhs
        resid = np.matmul(self.covariates, theta) - self.responses  # (m, n)
        return np.matmul(self.covariates.transpose(0, 2, 1), resid[:, :, None])[:, :, 0] / self._n

    def sampled_gradients(
        self, theta: np.ndarray, rows: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Σ_i weights_ji · w_i(⟨w_i, θ⟩ − y_i) over the drawn samples of each worker."""
        at = np.arange(rows.shape[0])[:, None]
        w = self.covariates[at, rows]  # (m, b, d)
        resid = (np.matmul(w, theta) - self.responses[at, rows]) * weights
        return np.matmul(w.transpose(0, 2, 1), resid[:, :, None])[:, :, 0]

    def _take(self, rows: slice) -> None:
        # the statistics are sliced, not recomputed: the share uses the batched kernel
        self._take_sizes(rows)
        self._n = self._n[rows]
        self.covariates = self.covariates[rows]
        self.responses = self.responses[rows]
        if self._stats is not None:
            gram, rhs = self._stats
            self._stats = (gram[rows], rhs[rows])

    corruptions = ("flip", "shift", "scale")

    def corrupted_gradients(
        self, theta: np.ndarray, workers: np.ndarray, *, kind: str, strength: float
    ) -> np.ndarray:
        """``flip``: y → −strength·y; ``shift``: y → y + strength; ``scale``: y → strength·y.

        Computed from the workers' samples directly: (1/n) W_jᵀ(W_j θ − y'_j).
        """
        if kind not in self.corruptions:
            return super().corrupted_gradients(theta, workers, kind=kind, strength=strength)
        a, c = {"flip": (-strength, 0.0), "shift": (1.0, strength), "scale": (strength, 0.0)}[kind]
        w = self.covariates[workers]  # (|B|, n, d)
        y = a * self.responses[workers] + c
        resid = np.matmul(w, theta) - y
        return np.matmul(w.transpose(0, 2, 1), resid[:, :, None])[:, :, 0] / self._n[workers]

    def population_risk(self, theta: np.ndarray) -> float:
        base = 0.5 * float(np.sum((theta - self.theta_star) ** 2)) + 0.5 * self.noise**2
        return base + self.heterogeneity if self.heterogeneity else base

    def describe(self) -> dict[str, Any]:
        """With a drift partition: each worker's distance ‖θ*_j − θ*‖ to the common θ*."""
        return {} if self.drift is None else {"drift": self.drift.tolist()}

    def population_gradient(self, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta - self.theta_star, dtype=np.float64)


@registry.register("linear_regression")
def build(
    config: ProblemConfig, workers: int, rng: np.random.Generator, setup: DataSetup
) -> Problem:
    """Draw θ*, then N = ``samples`` samples split over ``workers`` (see ``local_sizes``);
    with ``problem.dataset``, least squares on that data (:mod:`bgdsim.problems.real_data`)."""
    if config.dataset is not None:
        return build_empirical(config, workers, "squared", setup)
    theta_star, sizes, w = draw_data(config, workers, rng)
    part = setup.partition
    if part is not None and part.kind == "drift":  # θ*_j = θ* + δ_j, from its own stream
        scale = float(part.scale) / np.sqrt(config.dim)
        optima = theta_star + scale * setup.partition_rng.standard_normal((workers, config.dim))
        y = np.matmul(w, optima[:, :, None])[:, :, 0]
    else:
        optima = None
        y = np.matmul(w, theta_star)
    y = y + config.noise * rng.standard_normal(w.shape[:2])
    if config.size_spread > 0:
        y[np.arange(w.shape[1])[None, :] >= sizes[:, None]] = 0.0
    if optima is None:
        return LinearRegression(w, y, theta_star, config.noise, sizes)
    share = sizes / sizes.sum()
    mean = share @ optima  # the population minimiser: Σ_j (n_j/N) θ*_j
    problem = LinearRegression(w, y, mean, config.noise, sizes)
    spread = np.sum((optima - mean) ** 2, axis=1)
    problem.heterogeneity = 0.5 * float(share @ spread)
    problem.drift = np.sqrt(spread)
    return problem
