"""The Weiszfeld / Vardi-Zhang iteration of the geometric-median solver and its stopping
rule (see "Algorithm" and "Stopping rule" in :mod:`bgdsim.aggregators.geometric_median`)."""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from bgdsim.aggregators.geometric_median._engines import _Engine
from bgdsim.aggregators.geometric_median._numerics import _EPS, FloatArray, _median

_ZERO_RTOL: Final = 256 * _EPS  # least "distance is zero" threshold, relative to the scale
_SLOW_RATIO: Final = 0.9  # a step at least this fraction of the previous one is "slow" ...
_SLOW_RUN: Final = 12  # ... and this many slow steps in a row, off the data points, a stall
_sum = np.add.reduce  # what ndarray.sum calls, without its Python wrapper
_max = np.maximum.reduce


def _iterate(
    eng: _Engine,
    w: FloatArray,
    start: int,
    tol: float,
    max_iter: int,
    *,
    detect_stall: bool = True,
) -> tuple[FloatArray, int | None, int, bool, FloatArray, bool]:
    """Weiszfeld / Vardi-Zhang iteration from data point ``start``.

    Each step treats the nearest data point k exactly: with K = {k and the points coinciding
    with it} (or every point at distance zero from the iterate, which is then snapped onto
    x_k), η = Σ_K w_i and
    T', r' the Weiszfeld average and the resultant ‖Σ_{i∉K} (w_i/d_i)(x_i − x_k)‖ over i ∉ K,
    the step is z ← x_k if r' ≤ η, else (1 − η/r') T' + (η/r') x_k. This minimises
    w_k‖z − x_k‖ plus Weiszfeld's quadratic majoriser of the other terms, so it descends like
    Weiszfeld, is the Vardi-Zhang step at a data point, and does not crawl (at rate η/r) when
    the median lies near a data point. At a data point, r' ≤ η certifies the median.

    Stall: after ``_SLOW_RUN`` consecutive steps off the data points each at least
    ``_SLOW_RATIO`` times the previous one (linear convergence at a rate near 1: a flat
    valley, e.g. nearly collinear points), the iteration stops unconverged and says so,
    for the caller to polish with Newton steps (``detect_stall=False``: never; the caller
    resumes here when the polish could not certify its point).

    Returns:
        (state, index of the data point the state equals or None, iterations, converged,
        distances from the state to the points in frame units, stalled).
    """
    s = eng.point(start)
    at: int | None = start
    dist = eng.distances(s, at)
    positive = dist[dist > 0.0]
    if positive.size == 0:  # all points coincide
        return s, at, 0, True, dist, False
    zero = max(0.25 * tol, _ZERO_RTOL) * _median(positive)
    b = np.empty_like(w)
    prev_step = math.inf
    slow = 0

    for it in range(max_iter):
        before = dist  # the stopping rule's median distance is taken from the distances here
        k = int(dist.argmin())
        if dist[k] <= zero and at != k:  # snap onto the data point
            s, at = eng.point(k), k
            dist = eng.distances(s, at)
        if at == k:
            excluded = dist <= zero
            eta = float(w[excluded].sum())
            b.fill(0.0)
            np.divide(w, dist, out=b, where=~excluded)
            pk = s
        else:
            pk = eng.point(k)
            # x_k and every point coinciding with it (duplicated rows) are handled exactly
            group = (dist <= dist[k] + zero).nonzero()[0]
            if group.size > 1:
                group = np.array([i for i in group.tolist() if eng.gap(eng.point(i), pk) <= zero])
            eta = float(w[k]) if group.size == 1 else float(_sum(w[group]))
            np.divide(w, dist, out=b)
            b[group] = 0.0
        total = float(_sum(b))
        if total == 0.0:  # every point coincides with x_k
            return s, at, it + 1, True, dist, False
        t = eng.combine(b / total)
        r = total * eng.gap(t, pk)
        new_at: int | None = None
        if r <= eta:
            if at == k:  # Vardi-Zhang: x_k is the median
                return s, at, it + 1, True, dist, False
            new, new_at = pk, k
        else:
            alpha = eta / r
            new = (1.0 - alpha) * t + alpha * pk
        step = eng.gap(new, s)
        s, at = new, new_at
        dist = eng.distances(s, at)
        if _stops(step, before, tol, 16.0 * _EPS, math.sqrt(eng.sq_norm)):
            return s, at, it + 1, True, dist, False
        slow = slow + 1 if step >= _SLOW_RATIO * prev_step and at is None else 0
        prev_step = step
        if slow >= _SLOW_RUN and detect_stall:
            return s, at, it + 1, False, dist, True
    return s, at, max_iter, False, dist, False


def _stops(step: float, dist: FloatArray, tol: float, eps16: float, root: float) -> bool:
    """The stopping rule: step <= tol · med or step <= 16ε (√‖s‖² + med), med the median of
    ``dist``; decided from max(dist) ≥ med first when that already says no (the common
    case), so the median is computed only near the end."""
    top = float(_max(dist))
    if step > tol * top and step > eps16 * (root + top):
        return False
    med = _median(dist)
    return step <= tol * med or step <= eps16 * (root + med)
