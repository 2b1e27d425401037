"""Min-Sum (Shejwalkar & Houmansadr, "Manipulating the Byzantine: Optimizing Model
Poisoning Attacks and Defenses for Federated Learning", NDSS 2021, §IV: the
AGR-agnostic Min-Sum attack).

Every Byzantine worker sends g_m = μ + γ* p, μ the honest mean and p a perturbation,

    γ* = max γ   s.t.   Σ_{i∈H} ‖g_m − g_i‖² ≤ max_{i∈H} Σ_{j∈H} ‖g_i − g_j‖²:

the crafted gradient's total squared distance to the honest gradients is no larger than
that of the most outlying honest gradient (what Krum-like scores look at). γ* is found by
a bracketing bisection (see ``bgdsim.attacks._agr``); since Σ_i (g_i − μ) = 0 it also has
the closed form γ*² = (max_i Σ_j ‖g_i − g_j‖² − Σ_i ‖g_i − μ‖²) / (|H| ‖p‖²), which the
tests check the search against.

Perturbations p (``perturbation``): ``unit_vector`` −μ/‖μ‖, ``std`` −σ (coordinate-wise
standard deviation, the default), ``sign`` −sign(μ).
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._agr import Perturbation, craft

__all__ = ["min_sum"]


@register("min_sum")
def min_sum(
    view: AdversaryView, rng: np.random.Generator, *, perturbation: Perturbation = "std"
) -> np.ndarray:
    """μ + γ* p with Σ_i ‖g_m − g_i‖² ≤ max_i Σ_j ‖g_i − g_j‖² over the honest workers."""
    return craft(view, perturbation, "sum")
