"""The search shared by ``min_max`` and ``min_sum`` (Shejwalkar & Houmansadr, NDSS 2021).

Both attacks send g_m = μ + γ p, with μ the honest mean, p a fixed perturbation and γ ≥ 0
as large as a distance constraint allows. With c_i = g_i − μ, the squared distance from
g_m to honest gradient i is

    ‖g_m − g_i‖² = ‖c_i‖² − 2γ ⟨c_i, p⟩ + γ² ‖p‖²,

so after one pass over the honest gradients (the ‖c_i‖², ⟨c_i, p⟩ and the pairwise
distances, all vectorised) each test of a γ costs O(|H|). The constraint is a convex
function of γ that holds at γ = 0 (μ lies in the honest convex hull), so the feasible γ
form an interval [0, γ*]: the search brackets γ* by doubling or halving from γ = 1 and then
bisects the bracket to a relative width of 1e-9. This is the paper's halving search
(γ ← γ ± step/2, step ← step/2) without its implicit cap near 1.5 γ_init.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from bgdsim.attacks import AdversaryView
from bgdsim.attacks._common import honest_rows, pairwise_sq_distances, tile

__all__ = ["Perturbation", "craft", "perturbation"]

Perturbation = Literal["unit_vector", "std", "sign"]

_BRACKET_STEPS = 64  # doublings / halvings of γ allowed while bracketing γ*
_REL_TOL = 1e-9  # bisection stops when the bracket is this small relative to γ


def perturbation(kind: Perturbation, rows: np.ndarray) -> np.ndarray:
    """The paper's three perturbations p over the honest ``rows`` (§IV-A).

    ``unit_vector``: −μ/‖μ‖ (0 if μ = 0); ``std``: −σ, the coordinate-wise standard
    deviation (ddof = 0); ``sign``: −sign(μ).
    """
    mu = rows.mean(axis=0)
    if kind == "unit_vector":
        norm = float(np.linalg.norm(mu))
        return -mu / norm if norm > 0 else np.zeros_like(mu)
    if kind == "std":
        return -rows.std(axis=0)
    return -np.sign(mu)


def largest_gamma(feasible: Callable[[float], bool]) -> float:
    """The largest γ ≥ 0 with ``feasible(γ)``, for a feasible set [0, γ*] (0 if γ* ≈ 0)."""
    lo, hi = 0.0, 1.0
    if feasible(hi):
        lo = hi
        for _ in range(_BRACKET_STEPS):
            hi = 2.0 * lo
            if not feasible(hi):
                break
            lo = hi
        else:
            return lo
    else:
        for _ in range(_BRACKET_STEPS):
            mid = hi / 2.0
            if feasible(mid):
                lo = mid
                break
            hi = mid
        else:
            return 0.0
    while hi - lo > _REL_TOL * hi:
        mid = 0.5 * (lo + hi)
        if feasible(mid):
            lo = mid
        else:
            hi = mid
    return lo


def craft(view: AdversaryView, kind: Perturbation, rule: Literal["max", "sum"]) -> np.ndarray:
    """μ + γ* p for every Byzantine worker, γ* the largest γ meeting ``rule``'s constraint.

    ``max`` (Min-Max): max_i ‖g_m − g_i‖² ≤ max_{i,j} ‖g_i − g_j‖².
    ``sum`` (Min-Sum): Σ_i ‖g_m − g_i‖² ≤ max_i Σ_j ‖g_i − g_j‖².
    i, j range over the honest workers H.
    """
    rows = honest_rows(view)
    mu = rows.mean(axis=0)
    p = perturbation(kind, rows)
    pp = float(p @ p)
    if pp == 0.0:
        return tile(mu, view)
    c = rows - mu
    cc = np.einsum("ij,ij->i", c, c)
    cp = c @ p
    d2 = pairwise_sq_distances(rows)
    if rule == "max":
        bound = float(d2.max())

        def feasible(gamma: float) -> bool:
            return bool(np.max(cc - 2.0 * gamma * cp) + gamma * gamma * pp <= bound)
    else:
        bound = float(d2.sum(axis=1).max())
        n, base, cross = len(rows), float(cc.sum()), float(cp.sum())

        def feasible(gamma: float) -> bool:
            return base - 2.0 * gamma * cross + n * gamma * gamma * pp <= bound

    return tile(mu + largest_gamma(feasible) * p, view)
