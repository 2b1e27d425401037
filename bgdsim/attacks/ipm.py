"""IPM, inner product manipulation: a small negative multiple of the honest mean.

Xie, Koyejo, Gupta, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner Product
Manipulation", UAI 2020, §4. Every Byzantine worker sends

    g_j = −ε · μ_H,   μ_H = (1/|H|) Σ_{i∈H} g_i,

so that the inner product ⟨aggregate, μ_H⟩ turns negative under rules that pick or
weight reports near the Byzantine ones. The paper's ε = 0.1 (against Krum and the median
it is the smallness that matters: the crafted vectors sit close to the honest cloud).

It is ``sign_flip`` with a small scale, and its purpose is the opposite: ``sign_flip``
overwhelms averaging by size, IPM stays small. Against the *mean* with q of m workers the
aggregate is (1 − (1 + ε) q/m) μ_H, a positive multiple of μ_H whenever
ε < (m − q)/q (≈ 19 at q = 5, 4 at q = 20 of m = 100): the step only shrinks, and the
mean still converges to its floor.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import Scale, tile

__all__ = ["ipm"]


@register("ipm")
def ipm(view: AdversaryView, rng: np.random.Generator, *, epsilon: Scale = 0.1) -> np.ndarray:
    """Every Byzantine worker sends −ε × the honest mean (Xie et al.'s ε = 0.1 by default)."""
    return tile(-epsilon * view.honest_mean(), view)
