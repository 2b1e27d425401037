"""The hypotheses of the paper's theorems on q, k, m, α, δ, ε, and the probability of the
good event (Chen, Su, Xu 2017, Theorems 1, 4, 5, Lemma 5, Remark 1).

:func:`check_conditions` raises :class:`ValueError` naming the violated condition;
:func:`success_probability` is eq. (19); :func:`remark1_epsilon` and :func:`remark1_alpha`
are Remark 1's choices of ε and α.
"""

from __future__ import annotations

import math

from bgdsim.theory.constants import binary_divergence

__all__ = ["check_conditions", "remark1_alpha", "remark1_epsilon", "success_probability"]


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
