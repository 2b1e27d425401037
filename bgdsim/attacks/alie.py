"""ALIE, "A little is enough": a small coordinate-wise shift hidden in the honest spread.

Baruch, Baruch, Goldberg, "A Little Is Enough: Circumventing Defenses For Distributed
Learning", NeurIPS 2019, Algorithm 3. Every Byzantine worker sends

    g_j = μ − z σ   (coordinate-wise),

where μ and σ are the coordinate-wise mean and standard deviation of the honest workers'
gradients (σ with ddof = 0), and z is the largest shift that still leaves the crafted
vector closer to the mean than enough honest workers for a majority to "support" it:

    s = ⌊n/2 + 1⌋ − f,    z_max = Φ^{-1}((n − s)/n),

with n the number of workers (m) and f the number of Byzantine workers (|B_t|). The paper
assumes f < n/2; when s < 1 (f too large) s is taken as 1 so z stays finite.

Against the *mean* ALIE is weak by design: the bias it adds is (f/n) z σ per coordinate,
against a statistical noise of σ/√n per coordinate in the honest mean, a ratio of
f z_max / √n (≈ 0.05 at m = 100, f = 5; ≈ 1 at f = 20). It is built to pass robust
rules (Krum, coordinate-wise median, trimmed mean) unnoticed, not to break averaging; a
user-given ``z`` sets the shift directly.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import honest_rows, tile

__all__ = ["alie", "z_max"]

Z = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def z_max(n: int, f: int) -> float:
    """Baruch et al.'s z_max = Φ^{-1}((n − s)/n), s = ⌊n/2 + 1⌋ − f (s clipped to ≥ 1).

    >>> round(z_max(100, 5), 4), round(z_max(100, 20), 4)
    (0.1004, 0.4959)
    """
    s = max(n // 2 + 1 - f, 1)
    return NormalDist().inv_cdf((n - s) / n)


@register("alie")
def alie(view: AdversaryView, rng: np.random.Generator, *, z: Z | None = None) -> np.ndarray:
    """Every Byzantine worker sends μ − z σ over the honest gradients, coordinate-wise.

    Args:
        view: the adversary's view.
        rng: unused.
        z: the shift in standard deviations, ≥ 0. None (default): the paper's z_max for
            n = m workers and f = |B_t| Byzantine ones (:func:`z_max`).
    """
    rows = honest_rows(view)
    if z is None:
        z = z_max(view.honest.shape[0], len(view.byzantine))
    return tile(rows.mean(axis=0) - z * rows.std(axis=0), view)
