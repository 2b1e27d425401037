"""Zero reports: the Byzantine workers "forget" to compute (Chen, Su, Xu 2017, §1.2).

Against the mean with q of m workers the aggregate is (m − q)/m × the honest mean: the
step only shrinks, so averaging still converges to its floor, more slowly.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register

__all__ = ["zero"]


@register("zero")
def zero(view: AdversaryView, rng: np.random.Generator) -> np.ndarray:
    """Each Byzantine worker sends the zero vector (it "forgets" to compute)."""
    return np.zeros((len(view.byzantine), view.honest.shape[1]))
