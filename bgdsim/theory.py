"""The paper's convergence theory as numbers (Chen, Su, Xu 2017, §2.2, §3, §4).

Every function cites the equation or statement it implements; the notation is the paper's.

Constants
    * :func:`c_alpha` — C_α = 2(1−α)/(1−2α), eq. (7) (Lemma 1).
    * :func:`step_size` — η = L/(2M²) (Theorem 1, Lemma 3).
    * :func:`lemma3_factor` — √(1 − L²/(4M²)), eq. (14).
    * :func:`contraction` — ½ + ½√(1 − L²/(4M²)), the geometric rate of Theorem 1
      (eq. (9)), Theorem 5 and Corollary 1 (= ½ + √3/4 for L = M = 1).
    * :func:`rho` — ρ = 1 − √(1 − L²/(4M²)) − ξ₂L/(2M²) of Lemma 4 / Theorem 2 / Theorem 4.
      **Naming:** the paper's ρ is the *gap*; the iterates contract by (1 − ρ) per round.
      Theorem 1's rate ½ + ½√(1 − L²/(4M²)) is 1 − ρ at the smallest ρ the proof of
      Theorem 5 allows (eq. (33)); it is :func:`contraction` here, not ``rho``.
    * :func:`delta1` — Δ₁(n, d, δ, σ₁), eq. (22) (Lemma 6); :func:`delta1_prime` — Δ′₁,
      eq. (25) (Lemma 7); :func:`delta2` — Δ₂(n), eq. (26) (Proposition 1).
    * :func:`xi1`, :func:`xi2` — ξ₁ = 4C_α·Δ₁(N/k), ξ₂ = 8C_α·Δ₂(N/k) (Theorem 3, Theorem 4).
    * :func:`binary_divergence` — D(δ′‖δ) (Theorem 1); :func:`success_probability` —
      1 − exp(−k·D(α − q/k ‖ δ)), eq. (19) (Lemma 5, Theorems 1, 4, 5, Corollary 1).
    * :func:`lemma8_m_prime` — M′ of Lemma 8 (linear regression, Assumption 4); the
      Lemma 8 σ's are :data:`SIGMA1`, :data:`ALPHA1`, :data:`SIGMA2`, :data:`ALPHA2`.

Bounds
    * :func:`theorem4` / :func:`theorem4_bound` — Theorem 4 with all of its constants:
      ‖θ_t − θ*‖ ≤ (1 − ρ)^t ‖θ₀ − θ*‖ + η ξ₁/ρ. With the paper's explicit constants this
      bound is *vacuous* (ρ ≤ 0, or Δ₂ > σ₂²/α₂) unless N/k is in the millions; the result
      lists which hypothesis fails.
    * :func:`theorem1_rate` — c₂C_α√(k(d + log(1/δ))/N), the constant term of eq. (9).
    * :func:`corollary1_rate` / :func:`corollary1_bound` — Corollary 1 (linear regression):
      ‖θ_t − θ*‖ ≤ (½ + √3/4)^t ‖θ₀ − θ*‖ + c₂C_α√(dk/N). The paper proves that *some*
      universal c₂ > 0 exists but never gives its value, so ``c2`` is a parameter
      (default 1): the rate is the *shape* of the bound, not a guaranteed number.
    * :func:`predicted_floor` — Corollary 1's C_α√(dk/N) for a scenario, with Remark 1's α.

Conditions (Theorem 1 / 4 / 5, Lemma 5): 2(1+ε)q ≤ k ≤ m for some ε > 0,
α ∈ (q/k, ½), 0 < δ ≤ α − q/k; :func:`check_conditions` raises :class:`ValueError`
naming the violated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bgdsim.config import Scenario

__all__ = [
    "ALPHA1",
    "ALPHA2",
    "PAPER_RULES",
    "SIGMA1",
    "SIGMA2",
    "Theorem4",
    "binary_divergence",
    "c_alpha",
    "check_conditions",
    "contraction",
    "corollary1_bound",
    "corollary1_rate",
    "delta1",
    "delta1_prime",
    "delta2",
    "lemma3_factor",
    "lemma8_m_prime",
    "predicted_floor",
    "remark1_alpha",
    "remark1_epsilon",
    "rho",
    "scenario_batches",
    "step_size",
    "success_probability",
    "theorem1_rate",
    "theorem4",
    "theorem4_bound",
    "xi1",
    "xi2",
]

#: Lemma 8 (1): Assumption 2 holds for linear regression with σ₁ = √2, α₁ = √2.
SIGMA1 = math.sqrt(2.0)
ALPHA1 = math.sqrt(2.0)
#: Lemma 8 (2): Assumption 3 holds for linear regression with σ₂ = √8, α₂ = 8.
SIGMA2 = math.sqrt(8.0)
ALPHA2 = 8.0

#: The server rules the paper's theorems cover, and how k is read from a scenario:
#: Algorithm 1 (``mean``, k = 1), Algorithm 2 (``gmom``, k = ``server.batches``), its
#: trimmed variant of Remark 2 (``gmom_trimmed``) and k = m (``geomed``, §2.1).
PAPER_RULES = ("mean", "gmom", "gmom_trimmed", "geomed")


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


# ----------------------------------------------------------------------------- constants


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


def _check_lm(L: float, M: float) -> None:
    _positive("L", L)
    _positive("M", M)
    if L > M:
        raise ValueError(
            f"Assumption 1 needs L <= M (strong convexity <= smoothness), got L={L}, M={M}"
        )


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


def _check_nd_delta(n: float, d: int, delta: float) -> None:
    _positive("n", n)
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")


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


# ---------------------------------------------------------------------------- conditions


def check_conditions(
    *,
    q: int,
    k: int,
    m: int | None = None,
    alpha: float | None = None,
    delta: float | None = None,
    epsilon: float | None = None,
) -> None:
    """Check the hypotheses of Theorems 1, 4, 5 and Lemma 5 that involve q, k, m, α, δ.

    * 2(1+ε)q ≤ k ≤ m: with ``epsilon`` given, exactly that; without it, "for some
      ε > 0", i.e. 2q < k when q ≥ 1 (any k ≥ 1 when q = 0). k ≤ m only when m is given.
    * α ∈ (q/k, ½) (Theorem 4; Theorem 1 states the narrower (1/(2+2ε), ½)).
    * 0 < δ ≤ α − q/k (needs α).

    Raises:
        ValueError: naming the first violated condition.
    """
    if q < 0:
        raise ValueError(f"q must be >= 0, got {q}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if epsilon is not None:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        if not 2 * (1 + epsilon) * q <= k:
            raise ValueError(
                f"condition 2(1+eps)q <= k fails: 2(1+{epsilon:g})*{q} = "
                f"{2 * (1 + epsilon) * q:g} > k = {k}"
            )
    elif q > 0 and not 2 * q < k:
        raise ValueError(
            f"condition 2(1+eps)q <= k fails for every eps > 0: k = {k} <= 2q = {2 * q}"
        )
    if m is not None and k > m:
        raise ValueError(f"condition k <= m fails: k = {k} > m = {m}")
    if alpha is not None and not q / k < alpha < 0.5:
        raise ValueError(f"condition alpha in (q/k, 1/2) fails: alpha = {alpha}, q/k = {q / k:g}")
    if delta is not None:
        if alpha is None:
            raise ValueError("condition delta <= alpha - q/k needs alpha")
        if not 0 < delta <= alpha - q / k:
            raise ValueError(
                f"condition 0 < delta <= alpha - q/k fails: delta = {delta:g}, "
                f"alpha - q/k = {alpha - q / k:g}"
            )


def success_probability(k: int, q: int, alpha: float, delta: float) -> float:
    """1 − exp(−k D(α − q/k ‖ δ)), eq. (19) (Lemma 5; Theorems 1, 4, 5; Corollary 1).

    The probability of the good event E_{α,ξ₁,ξ₂} (eq. (11)): at most a fraction α of the
    k batches is bad, counting q Byzantine batches and statistically bad ones.

    Raises:
        ValueError: α ∉ (q/k, ½) or δ ∉ (0, α − q/k].
    """
    if q < 0 or k < 1:
        raise ValueError(f"need q >= 0 and k >= 1, got q={q}, k={k}")
    if not q / k < alpha < 0.5:
        raise ValueError(f"condition alpha in (q/k, 1/2) fails: alpha = {alpha}, q/k = {q / k:g}")
    if not 0 < delta <= alpha - q / k:
        raise ValueError(
            f"condition 0 < delta <= alpha - q/k fails: delta = {delta:g}, "
            f"alpha - q/k = {alpha - q / k:g}"
        )
    return 1 - math.exp(-k * binary_divergence(alpha - q / k, delta))


def remark1_epsilon(q: int, k: int) -> float:
    """ε with k = 2(1+ε)q, i.e. ε = k/(2q) − 1 (Remark 1). Needs q ≥ 1."""
    if q < 1:
        raise ValueError(f"Remark 1's epsilon needs q >= 1, got {q}")
    return k / (2 * q) - 1


def remark1_alpha(epsilon: float) -> float:
    """α = (2+ε)/(4+4ε), Remark 1's choice for k = 2(1+ε)q; then α − q/k = ε/(4+4ε)."""
    if not epsilon > 0:
        raise ValueError(f"Remark 1's alpha needs epsilon > 0, got {epsilon}")
    return (2 + epsilon) / (4 + 4 * epsilon)


# -------------------------------------------------------------------------------- bounds


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


# ------------------------------------------------------------------------------ scenario


def scenario_batches(scenario: Scenario) -> int:
    """k for a scenario's rule: 1 for ``mean``, m for ``geomed``, ``server.batches`` else.

    Raises:
        ValueError: a rule outside :data:`PAPER_RULES` (the paper has no bound for it).
    """
    rule = scenario.server.aggregator
    if rule not in PAPER_RULES:
        raise ValueError(
            f"the paper's bound covers the rules {', '.join(PAPER_RULES)}; "
            f"server.aggregator is {rule!r}"
        )
    if rule == "mean":
        return 1
    if rule == "geomed":
        return scenario.cluster.workers
    return scenario.server.batches


def predicted_floor(scenario: Scenario) -> float:
    """Corollary 1's floor C_α √(dk/N) for a linear-regression scenario, with c₂ = 1.

    This is the *shape* of the paper's bound, not a guaranteed number: Corollary 1 holds
    with some universal c₂ the paper does not specify, and only with probability
    1 − exp(−kD(α − q/k‖δ)). Conventions:

    * k from :func:`scenario_batches` (1 for ``mean``, m for ``geomed``, else
      ``server.batches``); d = ``problem.dim``, N = ``problem.samples``, q =
      ``cluster.byzantine``.
    * q ≥ 1: α as in Remark 1, α = (2+ε)/(4+4ε) with ε = k/(2q) − 1 (k = 2(1+ε)q).
      When k ≤ 2q no ε > 0 exists and the paper guarantees nothing: returns ``inf``
      (so ``mean`` with any Byzantine worker gives ``inf``).
    * q = 0: any α ∈ (0, ½) is allowed (q/k = 0) and C_α decreases to 2 as α → 0, so
      the limit C₀ = 2 is used — the smallest constant the bound admits (Remark 1's rule
      would give α → ¼, C = 3, as ε → ∞). The floor is then 2√(dk/N) (2√(d/N) for the mean).
    * ``problem.noise`` multiplies the floor: Lemma 8 assumes ζ ~ N(0, 1), and the noise
      scales ∇f(X, θ*) = −wζ, hence σ₁ and Δ₁, linearly.

    Raises:
        ValueError: the problem is not ``linear_regression``, or the rule is not one the
            paper analyses (see :data:`PAPER_RULES`).
    """
    if scenario.problem.kind != "linear_regression":
        raise ValueError(
            "predicted_floor follows Corollary 1 (linear regression); "
            f"problem.kind is {scenario.problem.kind!r}"
        )
    k = scenario_batches(scenario)
    q = scenario.cluster.byzantine
    d, n_samples = scenario.problem.dim, scenario.problem.samples
    if q == 0:
        alpha = 0.0
    elif k <= 2 * q:
        return math.inf
    else:
        alpha = remark1_alpha(remark1_epsilon(q, k))
    return scenario.problem.noise * corollary1_rate(d, k, n_samples, alpha, c2=1.0)
