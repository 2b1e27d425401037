"""Centered clipping (Karimireddy, He, Jaggi 2021), stateless.

Starting from a point v, every report's difference from v is clipped to norm τ and the
mean clipped difference is added to v, ``iters`` times:

    v ← v + (1/n) Σ_i clip(g_i − v, τ),   clip(z, τ) = z · min(1, τ/‖z‖).

Each step moves v by at most τ, and the f Byzantine reports move it by at most f·τ/n per
step, however far away they are. Karimireddy et al. start from the previous round's
aggregate (with worker momentum): that is ``centered_clipping_history``
(:mod:`~bgdsim.aggregators.centered_clipping_history`), a rule with server state. This one
is a pure function of one round's reports, so the start is a robust estimate of this
round's centre instead: the coordinate-wise median (default), or the origin
(``start="zero"``, their "no history" case, not translation equivariant).

Defaults (documented choices, not the paper's): ``tau=None`` takes τ = the median of
‖g_i − v₀‖, the distance within which half the reports lie — scale free, and while
honest reports are a majority, no larger than an honest report's distance; ``iters=3``
(the paper uses a single step from a good start; a few more let v settle when the start is
the coordinate-wise median, which can be √d-times worse than a geometric centre).

Numerics. Differences are taken from v (never squared in absolute coordinates); a row whose
squared norm overflows (norms ≳ 1e154) has its norm recomputed after scaling by its largest
entry. The mean clipped difference is one matrix-vector product.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim.aggregators import register
from bgdsim.aggregators._common import check_tau, reports, row_norms
from bgdsim.aggregators.coordinate_median import median_of_rows

__all__ = ["centered_clipping", "clip_steps"]


@register("centered_clipping")
def centered_clipping(
    vectors: np.ndarray,
    *,
    tau: Annotated[float, Field(gt=0)] | None = None,
    iters: Annotated[int, Field(ge=1)] = 3,
    start: Literal["coordinate_median", "zero"] = "coordinate_median",
) -> np.ndarray:
    """Centered clipping (Karimireddy, He, Jaggi 2021, eq. (CC)), from a stateless start.

    v₀ = coordinate-wise median of the reports (or 0);
    v_{l+1} = v_l + (1/n) Σ_i (g_i − v_l) · min(1, τ/‖g_i − v_l‖),  l = 0 … L − 1.

    Args:
        vectors: ``(n, d)`` reports, n ≥ 1.
        tau: the clipping radius τ > 0; ``None`` (default): the median of ‖g_i − v₀‖ (if
            that is 0, i.e. most reports equal v₀, v₀ is returned).
        iters: L ≥ 1, the number of clipping steps (default 3).
        start: v₀: ``"coordinate_median"`` (default) or ``"zero"``.

    Returns:
        The ``(d,)`` aggregate v_L.

    Raises:
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, τ ≤ 0 (or NaN),
            L < 1, or ``start`` is unknown.
    """
    x = reports(vectors, "centered_clipping")
    check_tau(tau, "centered_clipping")
    if iters < 1:
        raise ValueError(f"centered_clipping needs iters >= 1, got iters={iters}")
    if start == "coordinate_median":
        v = median_of_rows(x)
    elif start == "zero":
        v = np.zeros(x.shape[1])
    else:
        raise ValueError(
            f"centered_clipping start must be 'coordinate_median' or 'zero', got {start!r}"
        )
    return clip_steps(x, v, tau, iters)


def clip_steps(x: np.ndarray, v: np.ndarray, tau: float | None, iters: int) -> np.ndarray:
    """``iters`` clipping steps from v: v ← v + (1/n) Σ_i clip(x_i − v, τ).

    ``tau=None``: τ = the median of ‖x_i − v‖ at the first step (if that is 0, v itself).
    """
    n = x.shape[0]
    radius = tau
    for _ in range(iters):
        diff = x - v
        norms = row_norms(diff)
        if radius is None:
            radius = float(np.median(norms))
            if radius == 0.0:
                return v
        scale = np.ones(n)
        np.divide(radius, norms, out=scale, where=norms > radius)
        v = v + (scale @ diff) / n
    return v
