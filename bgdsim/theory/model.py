"""Error models the simulations are compared with beside the paper's bounds.

The paper's floor c₂C_α√(dk/N) (Corollary 1) is an upper bound with an unspecified c₂;
these are the leading-order sizes of the two parts of gmom's final error on the paper's
linear regression (w ~ N(0, I_d), ζ ~ N(0, σ²)), not results of the paper:

* :func:`statistical_error` — σ√(d/N): the error of least squares on all N samples,
  E‖θ̂ − θ*‖ ≈ σ√(d/N) (θ̂ − θ* ≈ N(0, σ²I_d/N)). Fault-free gradient descent with the
  mean, or with gmom (whose median of Gaussian batch means is nearly as efficient as
  their mean), settles there.
* :func:`excess_error_model` — q/(k − q)·σ√(dk/N): how far q spoiled batch means pull a
  geometric median of k. Each honest batch mean lies about σ_b = σ√(dk/N) from the
  centre (N/k samples each, per-coordinate variance σ²k/N); moving the median by δ along
  u costs the k − q honest points a restoring force ≈ (k − q)δ/σ_b, and the q spoiled
  points, however far, pull with at most q (a unit vector each). Balance gives
  δ ≈ q/(k − q)·σ_b. It needs q < k/2 and grows without bound as k → 2q, where the
  paper's C_α = 2(1 − α)/(1 − 2α) blows up too.
"""

from __future__ import annotations

import math

__all__ = ["attack_error_model", "excess_error_model", "statistical_error"]


def statistical_error(d: int, N: int, noise: float = 1.0) -> float:
    """σ√(d/N): the error of least squares on all N samples (the fault-free floor).

    >>> statistical_error(10, 100_000)
    0.01
    """
    if d < 1 or N < 1 or not noise > 0:
        raise ValueError(f"need d, N >= 1 and noise > 0, got d={d}, N={N}, noise={noise}")
    return noise * math.sqrt(d / N)


def excess_error_model(d: int, k: int, q: int, N: int, noise: float = 1.0) -> float:
    """q/(k − q)·σ√(dk/N): how far q spoiled batch means move a geometric median of k.

    >>> round(excess_error_model(10, 20, 5, 100_000), 6)
    0.014907

    Raises:
        ValueError: unless 0 ≤ q < k/2 (past k/2 the median follows the spoiled batches).
    """
    if d < 1 or N < 1 or k < 1 or not noise > 0:
        raise ValueError(f"need d, k, N >= 1 and noise > 0, got d={d}, k={k}, N={N}")
    if not 0 <= 2 * q < k:
        raise ValueError(f"the excess-error model needs 0 <= q < k/2, got q={q}, k={k}")
    return q / (k - q) * noise * math.sqrt(d * k / N)


def attack_error_model(d: int, k: int, q: int, N: int, noise: float = 1.0) -> float:
    """√(statistical² + excess²): the two parts added in quadrature (they are unrelated:
    one is the honest samples' noise, the other the spoiled batches' pull).

    >>> round(attack_error_model(10, 20, 5, 100_000), 6)
    0.017951
    """
    return math.hypot(statistical_error(d, N, noise), excess_error_model(d, k, q, N, noise))
