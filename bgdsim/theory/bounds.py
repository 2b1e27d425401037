"""The paper's error bounds as numbers: Theorem 1's rate, Corollary 1 (linear regression)
and Theorem 4 with all of its constants (Chen, Su, Xu 2017, §3, §4).

With the paper's explicit constants Theorem 4 is *vacuous* unless N/k is in the millions
(:class:`Theorem4` lists which hypothesis fails); Corollary 1 and Theorem 1 hold with a
universal c₂ the paper never gives, so their rates are the *shape* of the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bgdsim.theory._checks import _check_nd_delta, _positive
from bgdsim.theory.conditions import check_conditions, success_probability
from bgdsim.theory.constants import (
    ALPHA1,
    ALPHA2,
    SIGMA1,
    SIGMA2,
    c_alpha,
    contraction,
    delta1,
    delta2,
    lemma8_m_prime,
    rho,
    step_size,
    xi1,
    xi2,
)

__all__ = [
    "Theorem4",
    "corollary1_bound",
    "corollary1_rate",
    "theorem1_rate",
    "theorem4",
    "theorem4_bound",
]


def theorem1_rate(d: int, k: int, N: int, alpha: float, delta: float, c2: float = 1.0) -> float:
    """c₂ C_α √(k(d + log(1/δ))/N): the constant term of Theorem 1, eq. (9).

    c₂ is a universal constant the paper does not specify (default 1: the shape only).
    """
    _check_nd_delta(N, d, delta)
    _positive("c2", c2)
    return c2 * c_alpha(alpha) * math.sqrt(k * (d + math.log(1 / delta)) / N)


def corollary1_rate(d: int, k: int, N: int, alpha: float, c2: float = 1.0) -> float:
    """c₂ C_α √(dk/N): the error floor of Corollary 1 (linear regression).

    The paper only proves that a universal c₂ > 0 exists; its value is never given, so
    ``c2`` defaults to 1 and the result is the *shape* of the bound, not a guarantee.
    """
    if d < 1 or k < 1 or N < 1:
        raise ValueError(f"d, k, N must be >= 1, got d={d}, k={k}, N={N}")
    _positive("c2", c2)
    return c2 * c_alpha(alpha) * math.sqrt(d * k / N)


def corollary1_bound(
    t: int, initial_error: float, d: int, k: int, N: int, alpha: float, c2: float = 1.0
) -> float:
    """(½ + √3/4)^t ‖θ₀ − θ*‖ + c₂ C_α √(dk/N): Corollary 1 (L = M = 1, η = ½)."""
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t}")
    return contraction(1.0, 1.0) ** t * initial_error + corollary1_rate(d, k, N, alpha, c2)


@dataclass(frozen=True)
class Theorem4:
    """Theorem 4's constants for one setting (see :func:`theorem4`).

    Attributes:
        eta: η = L/(2M²).
        n: N/k, the samples behind one batch.
        delta1, delta2: Δ₁(N/k) (eq. (22)), Δ₂(N/k) (eq. (26)).
        m_prime: the M′ used in Δ₂.
        xi1, xi2: 4C_α Δ₁, 8C_α Δ₂.
        rho: 1 − √(1 − L²/(4M²)) − ξ₂L/(2M²); iterates contract by 1 − ρ.
        floor: η ξ₁ / ρ (inf when ρ ≤ 0).
        probability: 1 − exp(−k D(α − q/k ‖ δ)).
        violations: the hypotheses of Theorem 4 that fail here (empty when it applies).
    """

    eta: float
    n: float
    delta1: float
    delta2: float
    m_prime: float
    xi1: float
    xi2: float
    rho: float
    floor: float
    probability: float
    violations: tuple[str, ...]

    @property
    def applicable(self) -> bool:
        """Whether every hypothesis of Theorem 4 holds."""
        return not self.violations

    @property
    def rate(self) -> float:
        """1 − ρ, the per-round contraction of Theorem 4."""
        return 1 - self.rho

    def bound(self, t: int, initial_error: float) -> float:
        """(1 − ρ)^t ‖θ₀ − θ*‖ + η ξ₁/ρ.

        Raises:
            ValueError: t < 0, or a hypothesis fails (the bound would not be a theorem).
        """
        if t < 0:
            raise ValueError(f"t must be >= 0, got {t}")
        if self.violations:
            raise ValueError("Theorem 4 does not apply: " + "; ".join(self.violations))
        return self.rate**t * initial_error + self.floor


def theorem4(
    *,
    L: float,
    M: float,
    N: int,
    k: int,
    q: int,
    d: int,
    alpha: float,
    delta: float,
    r: float = 1.0,
    m: int | None = None,
    epsilon: float | None = None,
    sigma1: float = SIGMA1,
    alpha1: float = ALPHA1,
    sigma2: float = SIGMA2,
    alpha2: float = ALPHA2,
    m_prime: float | None = None,
) -> Theorem4:
    """Theorem 4's constants: ‖θ_t − θ*‖ ≤ (1 − ρ)^t ‖θ₀ − θ*‖ + η ξ₁/ρ.

    With ξ₁ = 4C_αΔ₁(N/k) (eq. (22)), ξ₂ = 8C_αΔ₂(N/k) (eq. (26)), ρ = 1 − √(1 − L²/(4M²))
    − ξ₂L/(2M²), η = L/(2M²), holding with probability 1 − exp(−kD(α − q/k‖δ)) (eq. (19)).
    The σ's default to Lemma 8's (linear regression) and ``m_prime`` to Lemma 8's M′(N/k, δ)
    (:func:`lemma8_m_prime`). ``r`` is the radius parameter of Θ ⊂ {‖θ − θ*‖ ≤ r√d}
    (default 1: the simulator starts at θ₀ = 0 with ‖θ*‖ = 1 ≤ √d).

    The structural hypotheses (2(1+ε)q ≤ k ≤ m, α ∈ (q/k, ½), 0 < δ ≤ α − q/k) raise
    :class:`ValueError`. The quantitative ones (Δ₁(N/k) ≤ σ₁²/α₁, Δ₂(N/k) ≤ σ₂²/α₂, ρ > 0)
    are recorded in ``violations`` so that the constants can still be inspected;
    :meth:`Theorem4.bound` refuses to give a number when any fails.
    """
    check_conditions(q=q, k=k, m=m, alpha=alpha, delta=delta, epsilon=epsilon)
    for name, value in (("sigma1", sigma1), ("alpha1", alpha1), ("r", r)):
        _positive(name, value)
    _positive("sigma2", sigma2)
    _positive("alpha2", alpha2)
    if k > N:
        raise ValueError(f"N must be >= k, got N={N}, k={k}")
    eta = step_size(L, M)
    n = N / k
    d1 = delta1(n, d, delta, sigma1)
    mp = lemma8_m_prime(n, d, delta) if m_prime is None else m_prime
    _positive("m_prime", mp)
    d2 = delta2(n, d, delta, M=M, m_prime=mp, r=r, sigma1=sigma1, sigma2=sigma2, alpha2=alpha2)
    x1, x2 = xi1(alpha, d1), xi2(alpha, d2)
    gap = rho(L, M, x2)
    violations: list[str] = []
    if d1 > sigma1**2 / alpha1:
        violations.append(f"Delta_1(N/k) = {d1:.4g} > sigma_1^2/alpha_1 = {sigma1**2 / alpha1:.4g}")
    if d2 > sigma2**2 / alpha2:
        violations.append(f"Delta_2(N/k) = {d2:.4g} > sigma_2^2/alpha_2 = {sigma2**2 / alpha2:.4g}")
    if gap <= 0:
        violations.append(f"rho = {gap:.4g} <= 0 (xi_2 = {x2:.4g} is too large)")
    return Theorem4(
        eta=eta,
        n=n,
        delta1=d1,
        delta2=d2,
        m_prime=mp,
        xi1=x1,
        xi2=x2,
        rho=gap,
        floor=eta * x1 / gap if gap > 0 else math.inf,
        probability=success_probability(k, q, alpha, delta),
        violations=tuple(violations),
    )


def theorem4_bound(t: int, initial_error: float, **params: Any) -> float:
    """‖θ_t − θ*‖ ≤ (1 − ρ)^t ‖θ₀ − θ*‖ + η ξ₁/ρ (Theorem 4); see :func:`theorem4`.

    Raises:
        ValueError: a hypothesis of Theorem 4 fails (named in the message).
    """
    return theorem4(**params).bound(t, initial_error)
