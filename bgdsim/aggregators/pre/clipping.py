"""Norm clipping of each report: a fixed radius, a quantile of the round's norms, or ARC.

Every variant maps report x_i to

    clip(x_i, τ) = x_i · min(1, τ/‖x_i‖),

so no report leaves the ball of radius τ and none grows. They differ in τ:

* ``clipping`` — a fixed τ (static clipping, as analysed with momentum by Karimireddy, He,
  Jaggi 2021 and in the clipped-gradient literature);
* ``adaptive_clipping`` — τ = the ⌈p·n⌉-th smallest of this round's report norms (p =
  ``quantile``; the default 0.5 is the lower median). Setting the clipping norm to a
  quantile of the current norms is the adaptive clipping of Andrew, Thakkar, McMahan,
  Ramaswamy 2021 ("Differentially private learning with adaptive clipping", NeurIPS), who
  estimate the quantile privately over rounds; the server here sees every norm and takes
  it exactly. While fewer than a fraction 1 − p of the reports are Byzantine, τ is at
  most an honest report's norm;
* ``arc`` — adaptive robust clipping (Allouah, Guerraoui, Gupta, Jellouli, Rizk, Stephan
  2024, "Boosting robustness by clipping gradients in distributed learning"): the
  k = ⌊2(f/n)(n − f)⌋ largest reports are clipped to the norm of the (k + 1)-th largest.

Norms are computed without overflow (:func:`~bgdsim.aggregators._common.row_norms`).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators._common import check_f, check_tau, count_of, reports, row_norms
from bgdsim.aggregators.pre import register

__all__ = ["adaptive_clipping", "arc", "clip_rows", "clipping"]


def clip_rows(x: np.ndarray, tau: float) -> np.ndarray:
    """x_i · min(1, τ/‖x_i‖) for every row (τ ≥ 0; a row of norm ≤ τ is returned as is)."""
    norms = row_norms(x)
    scale = np.ones(x.shape[0])
    np.divide(tau, norms, out=scale, where=norms > tau)
    return x * scale[:, None]


@register("clipping")
def clipping(vectors: np.ndarray, *, tau: Annotated[float, Field(gt=0)]) -> np.ndarray:
    """Static clipping: y_i = x_i · min(1, τ/‖x_i‖) for a fixed radius τ.

    Args:
        vectors: ``(n, d)`` reports.
        tau: the radius τ > 0 (required).

    Returns:
        The ``(n, d)`` clipped reports.
    """
    x = reports(vectors, "clipping")
    check_tau(tau, "clipping")
    return clip_rows(x, tau)


@register("adaptive_clipping")
def adaptive_clipping(
    vectors: np.ndarray, *, quantile: Annotated[float, Field(gt=0, le=1)] = 0.5
) -> np.ndarray:
    """Clipping to a quantile of the round's norms (Andrew et al. 2021's adaptive norm).

    τ = ‖x‖_(⌈p·n⌉), the ⌈p·n⌉-th smallest report norm; y_i = x_i · min(1, τ/‖x_i‖).
    p = 1 clips nothing; if τ = 0 (most reports are zero) every report becomes zero.

    Args:
        vectors: ``(n, d)`` reports.
        quantile: p ∈ (0, 1] (default 0.5, the lower median).

    Returns:
        The ``(n, d)`` clipped reports.
    """
    x = reports(vectors, "adaptive_clipping")
    if not 0 < quantile <= 1:
        raise ValueError(f"adaptive_clipping needs 0 < quantile <= 1, got {quantile}")
    norms = row_norms(x)
    rank = max(1, count_of(quantile, x.shape[0], up=True))
    tau = float(np.partition(norms, rank - 1)[rank - 1])
    return clip_rows(x, tau)


@register("arc")
def arc(vectors: np.ndarray, *, f: int) -> np.ndarray:
    """Adaptive robust clipping, ARC (Allouah et al. 2024, Algorithm 1).

    k = ⌊2(f/n)(n − f)⌋; τ = the (k + 1)-th largest report norm; y_i = x_i · min(1, τ/‖x_i‖).
    k < n whenever f ≥ 0, so τ is always some report's norm; f ≥ n clips nothing.

    Args:
        vectors: ``(n, d)`` reports.
        f: the number of Byzantine reports to tolerate (the scenario's q, supplied).

    Returns:
        The ``(n, d)`` clipped reports.
    """
    x = reports(vectors, "arc")
    check_f(f, "arc")
    n = x.shape[0]
    k = max(0, (2 * f * (n - f)) // n)
    if k == 0:
        return x.copy()
    norms = row_norms(x)
    tau = float(np.partition(norms, n - k - 1)[n - k - 1])
    return clip_rows(x, tau)
