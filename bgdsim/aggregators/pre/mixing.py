"""Nearest-neighbour mixing, NNM (Allouah, Farhadkhani, Guerraoui, Gupta, Pinot, Stephan 2023).

"Fixing by mixing: a recipe for optimal Byzantine ML under heterogeneity" (AISTATS 2023):
every report is replaced by the mean of its n − f nearest reports, itself included,

    NNM(x_1, …, x_n)_i = (1/(n − f)) Σ_{j ∈ N_i} x_j,   N_i = the n − f reports nearest x_i,

which shrinks the spread of the honest reports while a Byzantine one can pull any output
by at most its share of a neighbourhood; composed with a robust rule (Krum, the geometric
median, coordinate-wise medians and trimmed means) it gives the optimal error under
heterogeneity when n > 2f.

Numerics. Distances come from the Gram matrix of the reports centred on their
coordinate-wise median (the ‖x‖² − 2⟨x, y⟩ + ‖y‖² shortcut loses precision under a large
shared offset; a robust centre removes it), in blocks of rows so that memory stays
O(block · n); a row whose squared norm overflows has its distances computed directly.
Ties at the (n − f)-th distance go to the lower worker index, so the result is a pure
function of the ordered reports.
"""

from __future__ import annotations

import numpy as np

from bgdsim.aggregators import PreconditionError
from bgdsim.aggregators._common import check_f, reports, row_norms
from bgdsim.aggregators.coordinate_median import median_of_rows
from bgdsim.aggregators.pre import register

__all__ = ["nearest_neighbours", "nnm"]

_BLOCK_ENTRIES = 1 << 22  # distances held at once (32 MiB of float64)


@register("nnm")
def nnm(vectors: np.ndarray, *, f: int) -> np.ndarray:
    """Nearest-neighbour mixing (Allouah et al. 2023, Algorithm 1).

    y_i = (1/(n − f)) Σ_{j ∈ N_i} x_j, where N_i holds x_i and the n − f − 1 reports
    nearest to it (Euclidean; ties to the lower index).

    Args:
        vectors: ``(n, d)`` reports.
        f: the number of Byzantine reports to tolerate (the scenario's q, supplied).

    Returns:
        The ``(n, d)`` mixed reports, row i for report i.

    Raises:
        PreconditionError: n ≤ f (no neighbourhood of n − f ≥ 1 reports).
        ValueError: ``vectors`` is not a non-empty ``(n, d)`` array, or f < 0.
    """
    x = reports(vectors, "nnm")
    check_f(f, "nnm")
    n = x.shape[0]
    if n <= f:
        raise PreconditionError(f"nnm needs n > f reports, got n={n}, f={f}")
    if f == 0:
        return np.broadcast_to(x.mean(axis=0), x.shape).copy()
    k = n - f
    out = np.empty_like(x)
    step = max(1, _BLOCK_ENTRIES // n)
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        mask = nearest_neighbours(x, rows, k)
        out[rows] = (mask.astype(np.float64) @ x) / k
    return out


def nearest_neighbours(x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """``(len(rows), n)`` bool: the k reports nearest each of ``x[rows]``, itself first.

    Ties at the k-th distance are broken towards the lower index.
    """
    dist = _distances(x, rows)
    dist[np.arange(rows.size), rows] = -1.0  # a report is its own nearest neighbour
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1 : k]
    inside = dist < kth
    tied = dist == kth
    need = k - inside.sum(axis=1, keepdims=True)
    return inside | (tied & (np.cumsum(tied, axis=1) <= need))


def _distances(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(len(rows), n)`` Euclidean distances from ``x[rows]`` to every row (NaN → inf)."""
    y = x - median_of_rows(x)
    with np.errstate(over="ignore", invalid="ignore"):
        sq = np.einsum("ij,ij->i", y, y)
        d2 = sq[rows, None] + sq[None, :] - 2.0 * (y[rows] @ y.T)
        dist = np.sqrt(np.maximum(d2, 0.0))
        big = np.flatnonzero(~np.isfinite(sq) | (sq > 1e300))
        for j in big:  # overflowing squares: the distances to and from j, directly
            dist[:, j] = _norms(y[rows] - y[j])
            where = np.flatnonzero(rows == j)
            if where.size:
                dist[where[0]] = _norms(y - y[j])
    dist[np.isnan(dist)] = np.inf
    return dist


def _norms(diff: np.ndarray) -> np.ndarray:
    finite = np.isfinite(diff).all(axis=1)
    out = np.full(diff.shape[0], np.inf)
    out[finite] = row_norms(diff[finite])
    return out
