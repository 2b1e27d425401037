"""Geometric median of means with norm trimming and a certified approximate median (Remark 2).

Chen, Su, Xu 2017, Remark 2: the geometric median in (8) may be replaced by a
(1 + γ)-approximate one (an objective within a factor 1 + γ of the least), at the price of
a deviation proportional to γ times the largest norm of the batch means; so batch means of
norm larger than a threshold τ are first trimmed away. τ = Θ(d) keeps the honest batch means
with high probability, and γ = 1/N makes the extra deviation O(d/N), below the statistical
error.

Choices made here (the remark fixes only orders of magnitude):

* τ: ``tau=None`` (default) means τ = 10·d, d the dimension of the reports (the constant
  c = 10 leaves room for gradients of norm ~‖θ₀ − θ*‖ even at d = 1); any τ > 0, ``inf``
  included (no trimming), may be given.
* γ: an aggregator does not know N, so ``gamma`` is a parameter, default 1e-6 (≤ 1/N for
  N ≤ 10⁶; set it to 1/N for larger data sets).
* Every batch mean trimmed: the geometric median of *all* batch means is returned (plain
  ``gmom``), not the zero vector. A zero step would silently stall the run whenever τ is
  too small for the problem's gradients; the untrimmed median is still Algorithm 2's
  estimator, robust while fewer than half the batches are spoiled.
* The (1 + γ) guarantee is certified, not inferred from a step size: the median is computed
  by :func:`bgdsim.aggregators.geometric_median.geometric_median` at a tolerance of γ/10,
  then a lower bound L ≤ min_y Σ_ℓ ‖y − ȳ_ℓ‖ is built by duality (see :func:`median_gap`);
  while Σ_ℓ ‖z − ȳ_ℓ‖ > (1 + γ)·L the solve is repeated with a 100× smaller tolerance (at
  most 5 times; the last, most precise, result is returned if rounding keeps the certificate
  out of reach, which only happens for γ near machine precision).
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators import register
from bgdsim.aggregators._common import check_tau, reports, row_norms
from bgdsim.aggregators.geometric_median import geometric_median
from bgdsim.aggregators.gmom import batch_means, check_finite_means

__all__ = ["TAU_PER_DIM", "approximate_geometric_median", "gmom_trimmed", "median_gap"]

TAU_PER_DIM = 10.0  # the default τ is TAU_PER_DIM · d
_FIRST_TOL_RATIO = 0.1  # first solver tolerance: γ times this
_TOL_SHRINK = 1e-2  # each retry divides the solver tolerance by 100
_RETRIES = 5
_AT_Z_RTOL = 1e-10  # points this close to z (relative to the median distance) count as at z


def median_gap(points: np.ndarray, z: np.ndarray) -> float:
    """A certified bound on the relative objective gap of z as a geometric median of ``points``.

    Returns G ≥ 0 with F(z) ≤ (1 + G)·min_y F(y), F(y) = Σ_i ‖y − x_i‖ (``inf`` if no
    bound is found). By weak duality, F(y) ≥ Σ_i v_i·(y − x_i) = Σ_i v_i·(z − x_i) for all y
    whenever ‖v_i‖ ≤ 1 and Σ_i v_i = 0; any such v_i give the lower bound L = Σ_i v_i·(z − x_i).
    Here v_i = (z − x_i)/‖z − x_i‖ (then v_i·(z − x_i) = ‖z − x_i‖), except that the points
    within 1e-10 of the median distance from z (z is at, or a rounding error away from, a data
    point) take −g/max(‖g‖, |K|), g the resultant of the others, absorbing as much of it as
    their unit balls allow; what remains, r, is removed evenly from the half P of the points
    nearest z, and every v_i divided by 1 + ‖r‖/|P| to stay in the unit ball. G = F(z)/L − 1.
    As z approaches the median, r → 0 and G → 0 (to first order in ‖r‖).
    """
    diff = points - z
    dist = row_norms(diff)
    f_z = float(dist.sum())
    if f_z == 0.0:
        return 0.0
    mid = float(np.median(dist))
    at_z = dist <= _AT_Z_RTOL * mid if mid > 0.0 else dist == 0.0
    inv = np.zeros_like(dist)
    np.divide(1.0, dist, out=inv, where=~at_z)
    resultant = -(inv @ diff)  # g, the resultant of the unit vectors of the points not at z
    bound = float(dist[~at_z].sum())  # Σ v_i·(z − x_i) so far
    absorb = int(at_z.sum())
    if absorb:
        share = resultant / -max(float(np.linalg.norm(resultant)), absorb)  # v_k, ‖v_k‖ ≤ 1
        bound -= float(share @ diff[at_z].sum(axis=0))
        resultant += absorb * share
    near = dist <= mid
    bound += float(resultant @ diff[near].mean(axis=0))
    lower = bound / (1.0 + float(np.linalg.norm(resultant)) / int(near.sum()))
    return max(f_z / lower - 1.0, 0.0) if lower > 0.0 else math.inf


def approximate_geometric_median(points: np.ndarray, *, gamma: float) -> tuple[np.ndarray, float]:
    """A (1 + γ)-approximate geometric median of ``points`` and its certified gap.

    Solves with :func:`~bgdsim.aggregators.geometric_median.geometric_median` at
    ``tol = γ/10`` and tightens the tolerance 100× (up to 5 times) until
    :func:`median_gap` ≤ γ; returns the last solution and its gap.
    """
    tol = _FIRST_TOL_RATIO * gamma
    z = geometric_median(points, tol=tol)
    gap = median_gap(points, z)
    for _ in range(_RETRIES):
        if gap <= gamma:
            break
        tol *= _TOL_SHRINK
        z = geometric_median(points, tol=tol)
        gap = median_gap(points, z)
    return z, gap


@register("gmom_trimmed")
def gmom_trimmed(
    vectors: np.ndarray,
    *,
    batches: Annotated[int, Field(ge=1)] = 20,
    tau: Annotated[float, Field(gt=0)] | None = None,
    gamma: Annotated[float, Field(gt=0, lt=1)] = 1e-6,
) -> np.ndarray:
    """Trimmed geometric median of means (Remark 2 on eq. (8)).

    ȳ_ℓ = (1/b) Σ_{j∈batch ℓ} g_j (ℓ = 1..k, consecutive batches as in ``gmom``);
    T = {ℓ : ‖ȳ_ℓ‖ ≤ τ} (all ℓ if that is empty);
    A(g_1, …, g_n) = z with Σ_{ℓ∈T} ‖z − ȳ_ℓ‖ ≤ (1 + γ) · min_y Σ_{ℓ∈T} ‖y − ȳ_ℓ‖.

    With τ = ∞ this is ``gmom`` up to the solver's accuracy. Trimming is by norm, so unlike
    ``gmom`` the rule is not translation equivariant (the origin is where gradients vanish).

    Args:
        vectors: ``(n, d)`` reports in worker order, n ≥ 1.
        batches: k ≥ 1, the number of batches (capped at n); supplied by the server.
        tau: τ > 0, the largest batch-mean norm kept; ``None`` (default): 10·d.
        gamma: γ in (0, 1), the certified relative objective gap (default 1e-6).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: If a kept batch mean overflows (finite reports of norm ~1e308).
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, k < 1, τ ≤ 0 (or
            NaN), or γ is outside (0, 1).
    """
    x = reports(vectors, "gmom_trimmed")
    if batches < 1:
        raise ValueError(f"gmom_trimmed needs batches >= 1, got batches={batches}")
    check_tau(tau, "gmom_trimmed")
    if not 0 < gamma < 1:
        raise ValueError(f"gmom_trimmed needs 0 < gamma < 1, got gamma={gamma}")
    threshold = TAU_PER_DIM * x.shape[1] if tau is None else tau
    k = min(batches, x.shape[0])
    means = x.mean(axis=0, keepdims=True) if k == 1 else batch_means(x, k)
    kept = means[row_norms(means) <= threshold]
    if kept.shape[0] == 0:  # every batch trimmed: fall back to all of them (see module doc)
        kept = means
    if kept.shape[0] == 1:
        return kept[0].copy()
    return approximate_geometric_median(check_finite_means(kept, "gmom_trimmed"), gamma=gamma)[0]
