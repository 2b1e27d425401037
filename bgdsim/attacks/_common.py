"""Helpers shared by the attacks: parameter types and the honest workers' rows."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView

__all__ = ["Scale", "honest_rows", "pairwise_sq_distances", "tile"]

Scale = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A strictly positive, finite multiplier."""


def honest_rows(view: AdversaryView) -> np.ndarray:
    """The ``(|H|, d)`` gradients of this round's honest workers H = [m] \\ B_t.

    All m rows if every worker is Byzantine (as :meth:`AdversaryView.honest_mean`).
    """
    mask = view.honest_mask
    return view.honest[mask] if mask.any() else view.honest


def tile(message: np.ndarray, view: AdversaryView) -> np.ndarray:
    """The same ``(d,)`` message for every Byzantine worker: a ``(|B_t|, d)`` array."""
    return np.tile(message, (len(view.byzantine), 1))


def pairwise_sq_distances(x: np.ndarray) -> np.ndarray:
    """``(n, n)`` squared Euclidean distances ‖x_i − x_j‖² between the rows of ``x``.

    One Gram-matrix product over the centred rows (centring keeps the cancellation in
    ‖a‖² + ‖b‖² − 2⟨a, b⟩ small); clipped at 0, zero diagonal.
    """
    c = x - x.mean(axis=0)
    sq = np.einsum("ij,ij->i", c, c)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (c @ c.T)
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    return d2
