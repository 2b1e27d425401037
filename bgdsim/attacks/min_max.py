"""Min-Max (Shejwalkar & Houmansadr, "Manipulating the Byzantine: Optimizing Model
Poisoning Attacks and Defenses for Federated Learning", NDSS 2021, §IV: the
AGR-agnostic Min-Max attack).

Every Byzantine worker sends g_m = μ + γ* p, μ the honest mean and p a perturbation,

    γ* = max γ   s.t.   max_{i∈H} ‖g_m − g_i‖² ≤ max_{i,j∈H} ‖g_i − g_j‖²:

the crafted gradient is no farther from any honest gradient than the two most distant
honest gradients are from each other, so a distance-based filter cannot single it out.
γ* is found by a bracketing bisection (see ``bgdsim.attacks._agr``).

Perturbations p (``perturbation``): ``unit_vector`` −μ/‖μ‖, ``std`` −σ (coordinate-wise
standard deviation, the default), ``sign`` −sign(μ).

Against the *mean* the bias is (q/m) γ* p; γ* ‖p‖ is of the order of the honest spread, so
the attack is built for stealth, not to overwhelm averaging.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._agr import Perturbation, craft

__all__ = ["min_max"]


@register("min_max")
def min_max(
    view: AdversaryView, rng: np.random.Generator, *, perturbation: Perturbation = "std"
) -> np.ndarray:
    """μ + γ* p with max_i ‖g_m − g_i‖² ≤ max_{i,j} ‖g_i − g_j‖² over the honest workers."""
    return craft(view, perturbation, "max")
