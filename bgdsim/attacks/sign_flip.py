"""Sign flipping: the paper's own attack (Chen, Su, Xu 2017, §4 experiments).

Every Byzantine worker sends the honest mean, reversed and scaled: the paper's model lets a
Byzantine machine send any vector, chosen with full knowledge of the honest messages
(§1.2, eq. (5)), and the same vector across machines.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import Scale, tile

__all__ = ["sign_flip"]


@register("sign_flip")
def sign_flip(view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 10.0) -> np.ndarray:
    """Every Byzantine worker sends −scale × the honest mean: g_j = −s · (1/|H|) Σ_{i∈H} g_i.

    Against the mean with q of m workers the aggregate becomes ((m−q) − s q)/m × the honest
    mean, reversing the step once s > (m − q)/q.
    """
    return tile(-scale * view.honest_mean(), view)
