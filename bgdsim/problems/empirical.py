"""Generalised linear models on a real data set: least squares, logistic and softmax.

A model maps features x ∈ ℝᵖ (standardised, intercept last) through Θ ∈ ℝ^{p×C} (θ is
Θ flattened row-major, d = p·C) to scores z = Θᵀx, with a loss ℓ(z, y) whose gradient in
z is a residual r(z, y):

* ``squared`` (C = 1): ℓ = ½(z − y)², r = z − y;
* ``logistic`` (C = 1, y ∈ {0, 1}): ℓ = log(1 + eᶻ) − yz, r = σ(z) − y;
* ``softmax`` (C classes, y one-hot): ℓ = log Σ_c e^{z_c} − ⟨z, y⟩, r = softmax(z) − y.

Worker j's local risk is f̄_j(θ) = (1/n_j) Σ_i ℓ(Θᵀx_i, y_i) + (λ/2)‖θ‖², with gradient
∇f̄_j(θ) = vec((1/n_j) X_jᵀ R_j) + λθ, computed for all workers in one batched call.
There is no population here: :meth:`EmpiricalProblem.population_risk` is the empirical
risk of the *whole training set* (all workers' samples, penalty included) and θ* is its
minimiser, so ‖θ − θ*‖ measures optimisation, as in the paper's Theorem 1 with the sample
in place of the population. Constants of Assumption 1: L = λ (+ λ_min(XᵀX/N) for least
squares), M = λ + c·λ_max(XᵀX/N) with c = 1, ¼, ½ (Böhning's bound for softmax).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgdsim.problems import Problem

__all__ = ["LOSSES", "EmpiricalProblem", "loss", "residual"]

#: the losses, and the curvature bound c of each (M = λ + c·λ_max(XᵀX/N))
LOSSES = {"squared": 1.0, "logistic": 0.25, "softmax": 0.5}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def residual(kind: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂ℓ/∂z: z − y, σ(z) − y or softmax(z) − y (``y`` one-hot for softmax)."""
    if kind == "squared":
        return z - y
    if kind == "logistic":
        out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z)) - y  # overflow-free σ
        return out
    return _softmax(z) - y


def loss(kind: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ℓ(z, y) per sample (the last axis is C)."""
    if kind == "squared":
        out: np.ndarray = 0.5 * ((z - y) ** 2).sum(axis=-1)
        return out
    if kind == "logistic":
        return (np.logaddexp(0.0, z) - y * z).sum(axis=-1)
    top = z.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=-1)) + top[..., 0]
    return lse - (z * y).sum(axis=-1)


class EmpiricalProblem(Problem):
    """A GLM on real data split over the workers (see the module doc).

    Args:
        kind: ``squared`` | ``logistic`` | ``softmax``.
        features: ``(m, n_max, p)`` local features, zero past n_j.
        targets: ``(m, n_max, C)`` local targets (one-hot for softmax), zero past n_j.
        sizes: n_j.
        train: the whole training set, ``(N, p)`` features and ``(N, C)`` targets.
        test: the held-out set, ``(n_test, p)`` features and ``(n_test,)`` labels or
            targets, or None.
        l2: λ.
        description: what the log header says about the data (:meth:`describe`).
        theta_star: θ* if already known (the same training set and λ), else computed.
    """

    def __init__(
        self,
        kind: str,
        features: np.ndarray,
        targets: np.ndarray,
        sizes: np.ndarray,
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray] | None,
        l2: float,
        description: dict[str, Any] | None = None,
        theta_star: np.ndarray | None = None,
    ) -> None:
        self.kind = kind
        self.description = description or {}
        self.features, self.targets = features, targets
        self.train, self.test = train, test
        self.l2 = l2
        self.p, self.classes = features.shape[2], targets.shape[2]
        self._n = np.asarray(sizes, dtype=np.float64)[:, None, None]
        X = train[0]
        eig = np.linalg.eigvalsh(X.T @ X / X.shape[0])
        self.smoothness = l2 + LOSSES[kind] * float(eig[-1])
        self.strong_convexity = l2 + (max(float(eig[0]), 0.0) if kind == "squared" else 0.0)
        star = self._minimiser() if theta_star is None else theta_star
        super().__init__(self.p * self.classes, sizes, star)

    def describe(self) -> dict[str, Any]:
        return self.description

    def _theta(self, theta: np.ndarray) -> np.ndarray:
        return theta.reshape(self.p, self.classes)

    def gradients(self, theta: np.ndarray) -> np.ndarray:
        """vec((1/n_j) X_jᵀ r(X_j Θ, Y_j)) + λθ for every worker j, ``(m, d)``."""
        return self._grad(self.features, self.targets, self._n, theta)

    def _grad(self, X: np.ndarray, Y: np.ndarray, n: np.ndarray, theta: np.ndarray) -> np.ndarray:
        R = residual(self.kind, np.matmul(X, self._theta(theta)), Y)  # (m, n, C)
        G = np.matmul(X.transpose(0, 2, 1), R) / n  # padding rows have x = 0: they add 0
        return G.reshape(G.shape[0], -1) + self.l2 * theta

    def sampled_gradients(
        self, theta: np.ndarray, rows: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """vec(Σ_i weights_ji · x_i r(Θᵀx_i, y_i)) + λθ over each worker's drawn samples."""
        at = np.arange(rows.shape[0])[:, None]
        X = self.features[at, rows]  # (m, b, p)
        R = residual(self.kind, np.matmul(X, self._theta(theta)), self.targets[at, rows])
        G = np.matmul(X.transpose(0, 2, 1), R * weights[:, :, None])
        return G.reshape(G.shape[0], -1) + self.l2 * theta

    def _take(self, rows: slice) -> None:
        self._take_sizes(rows)
        self._n = self._n[rows]
        self.features = self.features[rows]
        self.targets = self.targets[rows]

    def population_risk(self, theta: np.ndarray) -> float:
        """The whole training set's empirical risk (1/N) Σ ℓ + (λ/2)‖θ‖² (no population)."""
        X, Y = self.train
        mean = float(loss(self.kind, X @ self._theta(theta), Y).mean())
        return mean + 0.5 * self.l2 * float(theta @ theta)

    def population_gradient(self, theta: np.ndarray) -> np.ndarray:
        """The gradient of :meth:`population_risk`."""
        X, Y = self.train
        n = np.array([[[X.shape[0]]]], dtype=np.float64)
        return np.asarray(self._grad(X[None], Y[None], n, theta)[0])

    def _minimiser(self) -> np.ndarray:
        """θ*: the normal equations for least squares, else L-BFGS to gradient 1e-10."""
        X, Y = self.train
        d = self.p * self.classes
        if self.kind == "squared":
            A = X.T @ X / X.shape[0] + self.l2 * np.eye(self.p)
            return np.asarray(np.linalg.solve(A, X.T @ Y / X.shape[0]).reshape(d))
        from scipy.optimize import minimize

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            return self.population_risk(theta), self.population_gradient(theta)

        opts = {"maxiter": 5000, "gtol": 1e-10, "ftol": 0.0}
        res = minimize(fun, np.zeros(d), jac=True, method="L-BFGS-B", options=opts)
        return np.asarray(res.x, dtype=np.float64)

    corruptions = ("flip",)

    def corrupted_gradients(
        self, theta: np.ndarray, workers: np.ndarray, *, kind: str, strength: float
    ) -> np.ndarray:
        """``flip``: label c becomes C − 1 − c (logistic: 1 − y; least squares: y → −y·
        strength); computed on the workers' samples directly."""
        if kind not in self.corruptions:
            return super().corrupted_gradients(theta, workers, kind=kind, strength=strength)
        Y = self.targets[workers]
        if self.kind == "squared":
            Y = -strength * Y
        elif self.kind == "logistic":
            Y = np.where(
                self.features[workers][..., -1:] != 0, 1.0 - Y, 0.0
            )  # intercept 0: padding
        else:
            Y = Y[..., ::-1]
        return self._grad(self.features[workers], Y, self._n[workers], theta)

    def test_metrics(self, theta: np.ndarray) -> dict[str, float]:
        """``test_loss`` (mean ℓ on the held-out set, no penalty) and, for classification,
        ``test_accuracy``; empty without a test split."""
        if self.test is None:
            return {}
        X, y = self.test
        with np.errstate(all="ignore"):  # θ may be huge under attack: inf or nan, no warning
            z = X @ self._theta(theta)
            if self.kind == "squared":
                return {"test_loss": float(loss("squared", z, y[:, None]).mean())}
            if self.kind == "logistic":
                target = y[:, None].astype(np.float64)
                predicted = (z[:, 0] > 0).astype(np.int64)
            else:
                target = np.eye(self.classes)[y]
                predicted = np.argmax(z, axis=1)
            test_loss = float(loss(self.kind, z, target).mean())
        return {"test_loss": test_loss, "test_accuracy": float((predicted == y).mean())}
