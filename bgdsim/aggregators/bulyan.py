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
certain ties are exact. In the trim, each coordinate's values are ranked by their
distance to the median and the β nearest taken; values equally far from it (copies of one
value — colluding workers send identical vectors — or values at median ± r) are taken
alternately from below and above the median, the lower first (see
:func:`closest_to_median_mean`).
"""

from __future__ import annotations

import numpy as np

from bgdsim.aggregators import PreconditionError, register
from bgdsim.aggregators.krum import _all_finite_mean, check_krum_inputs, pairwise_sq_distances

__all__ = ["bulyan", "closest_to_median_mean", "iterated_krum"]


_DRIFT = 2.0**8  # an entry removed this many times the score left: re-sum that score


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
        removed = srt[live, np.minimum(at, end)]  # d(i, r) if inside, else the last
        score[live] -= removed
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
            continue
        # a score that lost an entry far larger than what is left carries that entry's
        # rounding (~ε·removed): summed again from its present entries
        for i in live[removed > _DRIFT * np.abs(score[live])].tolist():
            upto = int(last[i]) + 1
            score[i] = srt[i, :upto][alive[order[i, :upto]]].sum()
    return chosen


def closest_to_median_mean(s: np.ndarray, beta: int) -> np.ndarray:
    """Per coordinate, the mean of the ``beta`` values nearest the median of a ``(θ, d)`` array.

    The values of each coordinate are ranked by their distance |x − median| to the
    coordinate's median and the first β averaged (El Mhamdi et al. 2018: "the β closest to
    the median"). Ties in the distance — equal values, or values at median ± r — are
    broken deterministically and symmetrically: the values at median − r and at median + r
    are taken alternately, the lower one first. The result depends only on the multiset of
    each coordinate's values (not on the row order). ``s`` is not modified.

    >>> closest_to_median_mean(np.array([[0.0], [1.0], [2.0], [2.5], [9.0]]), 3).tolist()
    [1.8333333333333333]
    >>> closest_to_median_mean(np.array([[0.0], [0], [1], [1], [1.5], [3], [3], [3]]), 6)
    array([1.08333333])
    """
    theta = s.shape[0]
    st = s.T.copy(order="C")  # (d, θ)
    st.sort(axis=1)
    h = theta // 2
    med = st[:, h] if theta % 2 else 0.5 * st[:, h - 1] + 0.5 * st[:, h]
    dist = np.abs(st - med[:, None])
    # rank of each value within its run of equal values (st is sorted): 0, 1, 2, …
    cols = np.arange(theta)
    starts = np.zeros(st.shape, dtype=np.intp)
    starts[:, 1:] = np.where(st[:, 1:] != st[:, :-1], cols[1:], 0)
    np.maximum.accumulate(starts, axis=1, out=starts)
    tie = 2 * (cols - starts) + (st > med[:, None])  # alternate sides, the lower first
    order = np.lexsort((tie, dist), axis=1)[:, :beta]
    return np.take_along_axis(st, order, axis=1).mean(axis=1)


@register("bulyan")
def bulyan(vectors: np.ndarray, *, f: int) -> np.ndarray:
    """Bulyan over Krum (El Mhamdi, Guerraoui, Rouault 2018, Algorithm 1).

    S = θ = n − 2f reports chosen by iterated Krum (see :func:`iterated_krum`);
    A(g_1, …, g_n)_c = (1/β) Σ_{i ∈ B_c} g_{i,c},  β = θ − 2f,

    B_c the β reports of S whose coordinate c is nearest the median of coordinate c over S
    (ties: see :func:`closest_to_median_mean`). f = 0 keeps every report in both steps: the
    mean.

    A report with a NaN or inf entry has Krum score +inf (as in :func:`krum`) and is never
    selected: the selection runs on the finite reports, each step counting the same
    neighbours as it would with them (they are the farthest from everyone). That needs
    F ≥ n − f − 1 finite reports (fewer: every score is +inf) and F ≥ θ.

    Args:
        vectors: ``(n, d)`` reports, n ≥ 4f + 3.
        f: the number of Byzantine reports to tolerate (supplied by the server: its q).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: If n < 4f + 3, or fewer than max(n − f − 1, n − 2f) reports
            are finite.
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, or f < 0.
    """
    x = check_krum_inputs(vectors, f, "bulyan", factor=4)
    n = x.shape[0]
    if f == 0:
        return _all_finite_mean(x, "bulyan", f"n = {n} (f = 0)")
    theta = n - 2 * f
    d2 = pairwise_sq_distances(x)
    if np.isfinite(d2).all():
        chosen = iterated_krum(d2, f, theta)
    else:
        ok = np.flatnonzero(np.isfinite(x).all(axis=1))
        need = max(n - f - 1, theta)
        if ok.size < need:
            raise PreconditionError(
                f"bulyan needs {need} finite reports (n - f - 1 and n - 2f), got {ok.size} of n={n}"
            )
        # every non-finite report is farther than every finite one from each finite one:
        # Krum with the same neighbour counts on the finite reports (f' = f − (n − F) ≥ −1)
        chosen = ok[iterated_krum(d2[np.ix_(ok, ok)], f - (n - ok.size), theta)]
    return closest_to_median_mean(x[np.sort(chosen)], theta - 2 * f)
