"""Input checks of the geometric-median solver: points, weights (normalised to sum 1)
and finiteness, with messages that name the offending row or weight."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bgdsim.aggregators.geometric_median._numerics import FloatArray


def _as_points(points: ArrayLike) -> FloatArray:
    arr = np.asarray(points)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"points must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"points must be a 2-D array of shape (n, d), got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"points must hold at least one point (n >= 1), got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _as_weights(weights: ArrayLike | None, n: int) -> tuple[FloatArray, float]:
    """Weights normalised to sum 1, and their original sum."""
    if weights is None:
        return np.full(n, 1.0 / n), float(n)
    arr = np.asarray(weights)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"weights must be a real numeric array, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"weights must have shape ({n},) to match points, got {arr.shape}")
    w = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(f"weights must be finite, got weights[{bad[0]}] = {float(w[bad[0]])}")
    neg = np.flatnonzero(w < 0.0)
    if neg.size:
        raise ValueError(
            f"weights must be non-negative, got weights[{neg[0]}] = {float(w[neg[0]])}"
        )
    w_max = float(w.max())
    if w_max == 0.0:
        raise ValueError("weights must not all be zero")
    w = w / w_max
    s = float(w.sum())
    return w / s, s * w_max


def _check_finite(x: FloatArray, rows: NDArray[np.intp] | None = None) -> bool:
    """Raise on the first row (of ``rows``, default all) with a NaN/inf; else return True."""
    if rows is None:
        if x.size == 0 or (math.isfinite(float(x.max())) and math.isfinite(float(x.min()))):
            return True
        rows = np.arange(x.shape[0])
    for i in rows:
        if not np.isfinite(x[i]).all():
            raise ValueError(f"points must be finite, row {int(i)} contains NaN or inf")
    return True
