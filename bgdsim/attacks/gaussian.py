"""Gaussian noise: each Byzantine worker sends an independent random vector.

Chen, Su, Xu (2017) §1.2: a Byzantine machine may send an arbitrary vector; this one does
not even look at the honest messages.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import Scale

__all__ = ["gaussian"]


@register("gaussian")
def gaussian(view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 10.0) -> np.ndarray:
    """Each Byzantine worker sends independent noise: g_j ~ N(0, s² I_d)."""
    return scale * rng.standard_normal((len(view.byzantine), view.honest.shape[1]))
