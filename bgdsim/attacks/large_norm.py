"""Large norm: each Byzantine worker reverses and inflates its own honest gradient.

Chen, Su, Xu (2017) §1.2 and eq. (5): a Byzantine machine may send an arbitrary vector,
different across machines.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import Scale

__all__ = ["large_norm"]


@register("large_norm")
def large_norm(
    view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 100.0
) -> np.ndarray:
    """Each Byzantine worker sends −scale × its own honest gradient: g_j = −s ∇f̄_j(θ)."""
    return -scale * view.honest[view.byzantine]
