"""The paper's constants (Chen, Su, Xu 2017): C_α, η, the contraction and ρ, Δ₁, Δ′₁, Δ₂,
ξ₁, ξ₂, M′ and the binary divergence D; with Lemma 8's σ's for linear regression.

Every function cites the equation or statement it implements; the notation is the paper's.
See :mod:`bgdsim.theory` for the overview (and for the naming of ρ vs. the contraction).
"""

from __future__ import annotations

import math

from bgdsim.theory._checks import _check_lm, _check_nd_delta, _positive

__all__ = [
    "ALPHA1",
    "ALPHA2",
    "SIGMA1",
    "SIGMA2",
    "binary_divergence",
    "c_alpha",
    "contraction",
    "delta1",
    "delta1_prime",
    "delta2",
    "lemma3_factor",
    "lemma8_m_prime",
    "rho",
    "step_size",
    "xi1",
    "xi2",
]

#: Lemma 8 (1): Assumption 2 holds for linear regression with σ₁ = √2, α₁ = √2.
SIGMA1 = math.sqrt(2.0)
ALPHA1 = math.sqrt(2.0)
#: Lemma 8 (2): Assumption 3 holds for linear regression with σ₂ = √8, α₂ = 8.
SIGMA2 = math.sqrt(8.0)
ALPHA2 = 8.0


def c_alpha(alpha: float) -> float:
    """C_α = 2(1 − α)/(1 − 2α), eq. (7) of Lemma 1.

    Lemma 1 takes α ∈ (0, ½); α = 0 is accepted as the limit C₀ = 2. C_α grows from 2
    and blows up as α → ½ (e.g. C_{1/4} = 3).

    Raises:
        ValueError: α outside [0, ½).
    """
    if not 0 <= alpha < 0.5:
        raise ValueError(
            f"C_alpha needs alpha in [0, 1/2) (Lemma 1: alpha in (0, 1/2)), got {alpha}"
        )
    return 2 * (1 - alpha) / (1 - 2 * alpha)


def step_size(L: float, M: float) -> float:
    """η = L/(2M²), the step size of Theorems 1–5 and Lemma 3."""
    _check_lm(L, M)
    return L / (2 * M**2)


def lemma3_factor(L: float, M: float) -> float:
    """√(1 − L²/(4M²)): one population gradient step with η = L/(2M²), eq. (14) (Lemma 3)."""
    _check_lm(L, M)
    return math.sqrt(1 - L**2 / (4 * M**2))


def contraction(L: float, M: float) -> float:
    """½ + ½√(1 − L²/(4M²)): the geometric rate of Theorem 1 (eq. (9)) and Theorem 5.

    Corollary 1 (L = M = 1): ½ + √3/4 ≈ 0.933. This is 1 − ρ for the smallest ρ the
    proof of Theorem 5 guarantees, ρ ≥ ½ − ½√(1 − L²/(4M²)) (see :func:`rho`).
    """
    return 0.5 + 0.5 * lemma3_factor(L, M)


def rho(L: float, M: float, xi2: float) -> float:
    """ρ = 1 − √(1 − L²/(4M²)) − ξ₂L/(2M²) of Lemma 4, Theorem 2 and Theorem 4.

    The iterates contract by (1 − ρ) per round; the theorems need ρ > 0 (not checked
    here: a non-positive value is returned as is).
    """
    if not xi2 >= 0:
        raise ValueError(f"xi2 must be >= 0, got {xi2}")
    return 1 - lemma3_factor(L, M) - xi2 * L / (2 * M**2)


def delta1(n: float, d: int, delta: float, sigma1: float = SIGMA1) -> float:
    """Δ₁(n, d, δ, σ₁) = √2 σ₁ √((d log 6 + log(3/δ))/n), eq. (22) (Lemma 6).

    Theorems 3–5 use n = N/k, the samples behind one batch.
    """
    _check_nd_delta(n, d, delta)
    _positive("sigma1", sigma1)
    return math.sqrt(2) * sigma1 * math.sqrt((d * math.log(6) + math.log(3 / delta)) / n)


def delta1_prime(n: float, d: int, delta: float, sigma2: float = SIGMA2) -> float:
    """Δ′₁(n, d, δ, σ₂) = √2 σ₂ √((d log 6 + log(3/δ))/n), eq. (25) (Lemma 7)."""
    return delta1(n, d, delta, sigma2)


def lemma8_m_prime(n: float, d: int, delta: float) -> float:
    """M′(n, δ) = (1/n)(√n + √d + √(2 log(4/δ)))², Assumption 4 for linear regression.

    This is the value derived at the end of Lemma 8's proof (a Gaussian-matrix bound,
    [Ver10, Cor. 5.35]); it is non-increasing in n as Assumption 4 requires. Lemma 8's
    *statement* prints M′(δ) = d + 2√(d log(4/δ)) + 2 log(4/δ) instead, which does not
    depend on n and does not match the proof; the proof's expression is used here.
    """
    _check_nd_delta(n, d, delta)
    return (math.sqrt(n) + math.sqrt(d) + math.sqrt(2 * math.log(4 / delta))) ** 2 / n


def delta2(
    n: float,
    d: int,
    delta: float,
    *,
    M: float,
    m_prime: float,
    r: float,
    sigma1: float = SIGMA1,
    sigma2: float = SIGMA2,
    alpha2: float = ALPHA2,
) -> float:
    """Δ₂(n), eq. (26) (Proposition 1)::

        Δ₂(n) = σ₂ √(2/n) · √( d log(18 (M ∨ M′)/σ₂) + ½ d log(n/d)
                               + log(6 σ₂² r √n / (α₂ σ₁ δ)) )

    (equivalently eq. (31)). ``r`` is the radius parameter of Θ ⊂ {‖θ − θ*‖ ≤ r√d}.

    Raises:
        ValueError: a non-positive input, or a negative expression under the root (n
            much smaller than d).
    """
    _check_nd_delta(n, d, delta)
    for name, value in (("M", M), ("m_prime", m_prime), ("r", r), ("sigma1", sigma1)):
        _positive(name, value)
    _positive("sigma2", sigma2)
    _positive("alpha2", alpha2)
    inner = (
        d * math.log(18 * max(M, m_prime) / sigma2)
        + 0.5 * d * math.log(n / d)
        + math.log(6 * sigma2**2 * r * math.sqrt(n) / (alpha2 * sigma1 * delta))
    )
    if inner < 0:
        raise ValueError(
            f"Delta_2 (eq. (26)) is undefined: the expression under the root is {inner:.3g} < 0"
        )
    return sigma2 * math.sqrt(2 / n) * math.sqrt(inner)


def xi1(alpha: float, delta1_value: float) -> float:
    """ξ₁ = 4C_α × Δ₁(N/k) (Theorem 3, Theorem 4)."""
    return 4 * c_alpha(alpha) * delta1_value


def xi2(alpha: float, delta2_value: float) -> float:
    """ξ₂ = 8C_α × Δ₂(N/k) (Theorem 3, Theorem 4)."""
    return 8 * c_alpha(alpha) * delta2_value


def binary_divergence(p: float, q: float) -> float:
    """D(p‖q) = p log(p/q) + (1 − p) log((1 − p)/(1 − q)) (Theorem 1), with 0 log 0 = 0.

    Raises:
        ValueError: p outside [0, 1] or q outside (0, 1).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"binary divergence needs p in [0, 1], got {p}")
    if not 0 < q < 1:
        raise ValueError(f"binary divergence needs q in (0, 1), got {q}")
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out
