"""Bulyan (El Mhamdi, Guerraoui, Rouault 2018): iterated Krum, then a coordinate-wise trim.

1. Selection: θ = n − 2f reports are chosen one at a time, each the Krum choice among the
   reports not chosen yet (with the same f: its n' − f − 2 nearest remaining neighbours,
   n' the number remaining).
2. Aggregation: in every coordinate, the β = θ − 2f selected values closest to the
   coordinate's median (over the selection) are averaged.

It needs n ≥ 4f + 3. The selection bounds the ℓ₂ distance of what is kept; the trim then
bounds every coordinate, against the attacks that hide a large error in one coordinate of
a report with a good Krum score.

Ties in a Krum score go to the lowest index, as in ``krum``. The last selection step runs
on 2f + 1 remaining reports with f − 1 neighbours, so for f = 1 (every score 0) and f = 2
(the closest pair) it always ties: Bulyan is then invariant to the order of the reports
only up to that last choice; for f = 0 and f ≥ 3 ties need coincident distances.

Numerics. The squared distances come once from one Gram matrix (see
:func:`bgdsim.aggregators.krum.pairwise_sq_distances`). The iterated selection does not
recompute scores: each row of the distance matrix is sorted once, and a score is kept as
the sum of the first n' − f − 2 still-present entries of its row, with a pointer to the
last one; removing report r lowers every score by d(i, r) if r was among those entries and
otherwise by the last entry, whose pointer then moves back. That is O(n² log n) once plus
O(n) per step (amortised) instead of O(n²) per step. Scores are thus updated by
subtraction (relative rounding ~n·eps, far below the gaps between scores of distinct
reports), and set exactly again once one or no neighbour is counted, so that those
certain ties are exact. In the trim, the β values nearest the median form a window of β
consecutive sorted values; the window whose farther end is nearest the median is taken,
ties going to the most central window (the symmetric trim; the lower of two equally
central ones).
"""

from __future__ import annotations

import numpy as np

from bgdsim.aggregators import register
from bgdsim.aggregators.krum import check_krum_inputs, pairwise_sq_distances

__all__ = ["bulyan", "closest_to_median_mean", "iterated_krum"]


def iterated_krum(d2: np.ndarray, f: int, count: int) -> np.ndarray:
    """Indices of ``count`` reports chosen by Krum one at a time, in the order chosen.

    Step t chooses the remaining report of least score — the sum of its n − t − f − 2
    smallest squared distances ``d2`` to the other remaining reports — ties going to the
    lowest index. Needs n − count + 1 ≥ f + 2 (every step has ≥ 0 neighbours to count).

    Args:
        d2: ``(n, n)`` symmetric squared distances, zero diagonal (not modified).
        f: the Krum parameter.
        count: how many to choose, ≤ n − f − 1.
    """
    n = d2.shape[0]
    rows = np.arange(n)
    masked = d2.copy()
    np.fill_diagonal(masked, np.inf)  # each report last in its own row
    order = np.argsort(masked, axis=1, kind="stable")
    srt = np.take_along_axis(masked, order, axis=1)
    pos = np.empty_like(order)  # pos[i, j]: where j sits in row i's sorted order
    pos[rows[:, None], order] = rows[None, :]
    alive = np.ones(n, dtype=bool)
    k = n - f - 2  # neighbours counted now
    last = np.full(n, k - 1)  # position of the k-th present entry of each row
    score = srt[:, :k].sum(axis=1)
    chosen = np.empty(count, dtype=np.int64)
    for t in range(count):
        r = int(np.argmin(np.where(alive, score, np.inf)))
        chosen[t] = r
        alive[r] = False
        if t == count - 1:
            break
        live = np.flatnonzero(alive)
        at = pos[live, r]
        end = last[live]
        score[live] -= srt[live, np.minimum(at, end)]  # d(i, r) if inside, else the last
        movers = live[at >= end]  # r was the last included entry, or outside: move back
        back = last[movers] - 1
        while True:  # to the previous entry that is still present (or -1: none)
            ok = np.flatnonzero(back >= 0)
            gone = ok[~alive[order[movers[ok], back[ok]]]]
            if gone.size == 0:
                break
            back[gone] -= 1
        last[movers] = back
        k -= 1
        if k <= 1:  # exact scores (no accumulated rounding), so that exact ties stay ties
            score[live] = srt[live, last[live]] if k == 1 else 0.0
    return chosen


def closest_to_median_mean(s: np.ndarray, beta: int) -> np.ndarray:
    """Per coordinate, the mean of the ``beta`` values nearest the median of a ``(θ, d)`` array.

    Ties (two windows of β sorted values reaching equally far from the median) go to the
    most central window. ``s`` is not modified.

    >>> closest_to_median_mean(np.array([[0.0], [1.0], [2.0], [2.5], [9.0]]), 3).tolist()
    [1.8333333333333333]
    """
    theta = s.shape[0]
    st = s.T.copy(order="C")  # (d, θ)
    st.sort(axis=1)
    h = theta // 2
    med = st[:, h] if theta % 2 else 0.5 * st[:, h - 1] + 0.5 * st[:, h]
    spare = theta - beta  # windows start at 0 … spare
    lo = med[:, None] - st[:, : spare + 1]  # how far below the median each window starts
    hi = st[:, beta - 1 :] - med[:, None]  # how far above it each window ends
    reach = np.maximum(lo, hi)
    central = np.argsort(np.abs(np.arange(spare + 1) - spare / 2), kind="stable")
    start = central[np.argmin(reach[:, central], axis=1)]
    window = start[:, None] + np.arange(beta)[None, :]
    return np.take_along_axis(st, window, axis=1).mean(axis=1)


@register("bulyan")
def bulyan(vectors: np.ndarray, *, f: int) -> np.ndarray:
    """Bulyan over Krum (El Mhamdi, Guerraoui, Rouault 2018, Algorithm 1).

    S = θ = n − 2f reports chosen by iterated Krum (see :func:`iterated_krum`);
    A(g_1, …, g_n)_c = (1/β) Σ_{i ∈ B_c} g_{i,c},  β = θ − 2f,

    B_c the β reports of S whose coordinate c is nearest the median of coordinate c over S.
    f = 0 keeps every report in both steps: the mean.

    Args:
        vectors: ``(n, d)`` reports, n ≥ 4f + 3.
        f: the number of Byzantine reports to tolerate (supplied by the server: its q).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, f < 0, or
            n < 4f + 3.
    """
    x = check_krum_inputs(vectors, f, "bulyan", factor=4)
    if f == 0:
        return x.mean(axis=0)
    n = x.shape[0]
    theta = n - 2 * f
    chosen = np.sort(iterated_krum(pairwise_sq_distances(x), f, theta))
    return closest_to_median_mean(x[chosen], theta - 2 * f)
