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
    * :func:`rule_batches` — k for any rule (the aggregator's ``batches`` for rules that batch, m
      for ``geomed``, 1 otherwise); :func:`paper_floor` — its √(dk/N).
    * :func:`uneven_batches` — the batch sizes when k does not divide m (Algorithm 2
      assumes k | m).

Models (not the paper's: the leading-order sizes the simulations are compared with)
    * :func:`statistical_error` — σ√(d/N), least squares on all N samples.
    * :func:`excess_error_model` — q/(k − q)·σ√(dk/N), the pull of q spoiled batch means
      on a geometric median of k; :func:`attack_error_model` — both in quadrature.

Conditions (Theorem 1 / 4 / 5, Lemma 5): 2(1+ε)q ≤ k ≤ m for some ε > 0,
α ∈ (q/k, ½), 0 < δ ≤ α − q/k; :func:`check_conditions` raises :class:`ValueError`
naming the violated one.

The constants live in :mod:`bgdsim.theory.constants`, the conditions in
:mod:`bgdsim.theory.conditions`, the bounds in :mod:`bgdsim.theory.bounds` and the
scenario helpers in :mod:`bgdsim.theory.scenario`; import them from here.
"""

from __future__ import annotations

from bgdsim.theory.bounds import (
    Theorem4,
    corollary1_bound,
    corollary1_rate,
    theorem1_rate,
    theorem4,
    theorem4_bound,
)
from bgdsim.theory.conditions import (
    check_conditions,
    remark1_alpha,
    remark1_epsilon,
    success_probability,
)
from bgdsim.theory.constants import (
    ALPHA1,
    ALPHA2,
    SIGMA1,
    SIGMA2,
    binary_divergence,
    c_alpha,
    contraction,
    delta1,
    delta1_prime,
    delta2,
    lemma3_factor,
    lemma8_m_prime,
    rho,
    step_size,
    xi1,
    xi2,
)
from bgdsim.theory.model import attack_error_model, excess_error_model, statistical_error
from bgdsim.theory.scenario import (
    PAPER_RULES,
    paper_floor,
    predicted_floor,
    rule_batches,
    scenario_batches,
    uneven_batches,
)

__all__ = [
    "ALPHA1",
    "ALPHA2",
    "PAPER_RULES",
    "SIGMA1",
    "SIGMA2",
    "Theorem4",
    "attack_error_model",
    "binary_divergence",
    "c_alpha",
    "check_conditions",
    "contraction",
    "corollary1_bound",
    "corollary1_rate",
    "delta1",
    "delta1_prime",
    "delta2",
    "excess_error_model",
    "lemma3_factor",
    "lemma8_m_prime",
    "paper_floor",
    "predicted_floor",
    "remark1_alpha",
    "remark1_epsilon",
    "rho",
    "rule_batches",
    "scenario_batches",
    "statistical_error",
    "step_size",
    "success_probability",
    "theorem1_rate",
    "theorem4",
    "theorem4_bound",
    "uneven_batches",
    "xi1",
    "xi2",
]
