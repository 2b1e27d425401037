"""Sign flipping: every Byzantine worker sends the honest mean, reversed and scaled.

A common baseline attack in the Byzantine-robust learning literature, not one from the
paper (Chen, Su, Xu 2017 has no experiments). It is one instance of the paper's model,
which lets a Byzantine machine send any vector, chosen with full knowledge of the honest
messages, the same across machines (§1.2, eq. (5)). Against the geometric median of means
a large scale (×100) pulls as hard as ``gm_shift``; the default ×10 falls short of that
once the honest mean is small near θ*.
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
