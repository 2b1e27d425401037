"""Coordinate-wise median, and the coordinate-wise median of batch means (Yin et al. 2018).

Both rules act on each of the d coordinates separately, so one Byzantine report can move
a coordinate only within the range of the honest values (while fewer than half the values
of that coordinate are Byzantine). ``coordinate_median_of_means`` is the coordinate-wise
analogue of the paper's Algorithm 2: the k consecutive batch means of
:func:`bgdsim.aggregators.gmom.batch_means`, then their coordinate-wise median instead of
their geometric median.

Numerics. The median of each coordinate is one ``numpy`` selection (``partition``) on a
transposed copy of the reports, so that every coordinate's n values are contiguous; for
even n the lower middle value is the maximum of the lower half. The two middle values are
averaged as ½a + ½b, which equals ``numpy.median``'s (a + b)/2 and cannot overflow.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators import register
from bgdsim.aggregators._common import reports
from bgdsim.aggregators.gmom import batch_means

__all__ = ["coordinate_median", "coordinate_median_of_means", "median_of_rows"]


def median_of_rows(x: np.ndarray) -> np.ndarray:
    """The coordinate-wise median of the rows of a float64 ``(n, d)`` array, n ≥ 1.

    No validation; ``x`` is not modified.

    >>> median_of_rows(np.array([[0.0, 5.0], [1.0, -1.0], [9.0, 2.0]])).tolist()
    [1.0, 2.0]
    """
    n = x.shape[0]
    if n == 1:
        return x[0].copy()
    h = n // 2
    xt = x.T.copy(order="C")  # (d, n): each coordinate's values contiguous; never x itself
    xt.partition(h, axis=1)  # the upper middle value at h, the lower half before it
    upper = xt[:, h]
    if n % 2:
        return upper.copy()
    lower = xt[:, :h].max(axis=1)
    return 0.5 * lower + 0.5 * upper


@register("coordinate_median")
def coordinate_median(vectors: np.ndarray) -> np.ndarray:
    """Coordinate-wise median of the reports (Yin, Chen, Ramchandran, Bartlett 2018).

    A(g_1, …, g_n)_c = median{ g_{1,c}, …, g_{n,c} } for every coordinate c; for even n the
    mean of the two middle values.

    Robust while fewer than half of the reports are Byzantine (in every coordinate, the
    median then lies between two honest values).

    Args:
        vectors: ``(n, d)`` reports, n ≥ 1.

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array.

    >>> coordinate_median(np.array([[0.0, 0.0], [1.0, 2.0], [100.0, -50.0]])).tolist()
    [1.0, 0.0]
    """
    return median_of_rows(reports(vectors, "coordinate_median"))


@register("coordinate_median_of_means")
def coordinate_median_of_means(
    vectors: np.ndarray, *, batches: Annotated[int, Field(ge=1)] = 20
) -> np.ndarray:
    """Coordinate-wise median of k batch means (the median-of-means of Yin et al. 2018).

    A_k(g_1, …, g_n)_c = median{ ḡ_{1,c}, …, ḡ_{k,c} },  ḡ_ℓ = (1/b) Σ_{j∈batch ℓ} g_j,

    with the consecutive batches of the paper's Algorithm 2 (eq. (8); sizes differing by at
    most one, as in ``gmom``). k = 1 gives the mean, k = n the coordinate-wise median.

    Args:
        vectors: ``(n, d)`` reports in worker order, n ≥ 1.
        batches: k ≥ 1, the number of batches (capped at n); supplied by the server.

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, or k < 1.
    """
    x = reports(vectors, "coordinate_median_of_means")
    if batches < 1:
        raise ValueError(f"coordinate_median_of_means needs batches >= 1, got batches={batches}")
    k = min(batches, x.shape[0])
    if k == 1:
        return x.mean(axis=0)
    if k == x.shape[0]:  # every batch is one report: no averaging to do
        return median_of_rows(x)
    return median_of_rows(batch_means(x, k))
