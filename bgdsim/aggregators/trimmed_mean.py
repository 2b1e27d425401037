"""Coordinate-wise trimmed mean (Yin, Chen, Ramchandran, Bartlett 2018).

In every coordinate the b largest and the b smallest of the n values are dropped and the
n − 2b others averaged. With b ≥ q (the number of Byzantine reports) every kept value of a
coordinate lies between two honest values of it, so no report can move the aggregate out
of the honest range. b = f by default (the server's q); ``beta`` sets b = ⌊β n⌋ instead, a
fraction that stays meaningful when the server excludes missing reports and n varies.

Numerics. Two ``numpy`` selections (``partition``) on a transposed copy of the reports, so
that every coordinate's n values are contiguous: the first moves the b largest values to
the end, the second the b smallest of the rest to the front; the middle n − 2b values are
then averaged. No sort, no running sums (which would cancel catastrophically next to huge
dropped values).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators import PreconditionError, register
from bgdsim.aggregators._common import check_f, count_of, reports

__all__ = ["trimmed_mean", "trimmed_mean_of_rows"]


def trimmed_mean_of_rows(x: np.ndarray, b: int) -> np.ndarray:
    """Coordinate-wise mean of a float64 ``(n, d)`` array without the b largest and b smallest.

    No validation (needs 0 ≤ 2b < n); ``x`` is not modified. b = 0 is ``x.mean(axis=0)``.

    >>> trimmed_mean_of_rows(np.array([[0.0], [1.0], [2.0], [3.0], [100.0]]), 1).tolist()
    [2.0]
    """
    if b == 0:
        return x.mean(axis=0)
    n = x.shape[0]
    xt = x.T.copy(order="C")  # (d, n), never x itself
    xt.partition(n - b, axis=1)  # the b largest of each coordinate now at [n - b, n)
    xt[:, : n - b].partition(b, axis=1)  # in place: the b smallest of the rest at [0, b)
    return xt[:, b : n - b].mean(axis=1)


@register("trimmed_mean")
def trimmed_mean(
    vectors: np.ndarray,
    *,
    f: int,
    beta: Annotated[float, Field(ge=0, lt=0.5)] | None = None,
) -> np.ndarray:
    """Coordinate-wise trimmed mean (Yin et al. 2018, "β-trimmed mean").

    A(g_1, …, g_n)_c = (1/(n − 2b)) Σ_{i=b+1}^{n−b} g_{(i),c},

    g_{(1),c} ≤ … ≤ g_{(n),c} the sorted values of coordinate c. b = 0 is exactly the mean
    (Algorithm 1).

    Args:
        vectors: ``(n, d)`` reports, n ≥ 1.
        f: the number of Byzantine reports to tolerate, b = f (supplied by the server: its q).
        beta: if set, b = ⌊β n⌋ instead of f (0 ≤ β < ½), so b follows the number of reports.

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: If n ≤ 2f (when ``beta`` is not set).
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, f < 0, or β is
            outside [0, ½).
    """
    x = reports(vectors, "trimmed_mean")
    check_f(f, "trimmed_mean")
    n = x.shape[0]
    if beta is None:
        if n <= 2 * f:
            raise PreconditionError(f"trimmed_mean needs n > 2f reports, got n={n} with f={f}")
        b = f
    elif 0.0 <= beta < 0.5:
        b = count_of(beta, n)  # 2b < n since beta < 1/2
    else:
        raise ValueError(f"trimmed_mean needs 0 <= beta < 0.5, got beta={beta}")
    return trimmed_mean_of_rows(x, b)
