"""Silence: the Byzantine workers send nothing (Chen, Su, Xu 2017, §1.2: a Byzantine
machine may also fail to respond); the server's missing-report policy fills the gap.
"""

from __future__ import annotations

import numpy as np

from bgdsim.attacks import AdversaryView, register

__all__ = ["silent"]


@register("silent")
def silent(view: AdversaryView, rng: np.random.Generator) -> None:
    """The Byzantine workers send nothing; the server's missing-report policy applies."""
    return
