"""Weighted geometric median: Weiszfeld's iteration with the Vardi-Zhang step.

Definition (Chen, Su, Xu 2017, eq. (6)): the geometric median of points x_1, …, x_n in R^d
with weights w_i ≥ 0 is

    med{x_i} = argmin_z  f(z),   f(z) = Σ_i w_i ‖z − x_i‖₂ .

f is convex; the minimiser is unique unless the points are collinear (then any minimiser is
returned). A strict weighted majority of identical points is always the median.

Algorithm.
    *Weiszfeld*: z ← T(z) = Σ_i (w_i/d_i) x_i / Σ_i (w_i/d_i), d_i = ‖z − x_i‖, the minimiser
    of the quadratic majoriser Σ_i w_i ‖z − x_i‖²/(2 d_i) of f at z: a descent step that
    converges linearly, is undefined at a data point and crawls near one.

    *Vardi-Zhang* (2000): at a data point y = x_k, with K the points at distance zero from y
    (relative to the data's scale), η = Σ_{i∈K} w_i, T computed over i ∉ K and
    r = ‖Σ_{i∉K} w_i (x_i − y)/d_i‖: if r ≤ η, y is the median (stop; the data point is
    returned exactly); otherwise y ← (1 − η/r)⁺ T(y) + min(1, η/r) y.

    Every step here uses the Vardi-Zhang formula with K = {nearest data point k}, also off the
    data points: it then minimises w_k‖z − x_k‖ exactly plus Weiszfeld's majoriser of the
    other terms, so it still descends, equals Vardi-Zhang on a data point, and does not crawl
    (at Weiszfeld's rate η/r) when the median is at or near a data point; r ≤ η moves the
    iterate onto x_k, where the test is then made exactly.

Numerics.
    The problem is solved in a frame (x − c)·s with c a data point (the start) and s a power of
    two, so that squared norms cannot overflow or underflow (norms near 1e150 are fine) and the
    Gram-style expansion ‖y_i‖² − 2⟨y_i, z⟩ + ‖z‖² is used only where it is accurate (never
    under a large shared offset); distances it cannot resolve (d² below 1e-6 of the norms
    involved) are recomputed from explicit differences. The raw data serve as the frame when
    that is already accurate, saving a copy. The start is the best data point by objective
    (over all points for small n; for large n, the best of 16 judged on a sample of rows),
    never the mean. Small n (≤ 128, d ≥ n) iterates on n coefficients after one Gram matrix
    X Xᵀ, O(n²) per step; otherwise each step is two BLAS passes over the points. Mid-sized
    problems run BLAS on one thread (process-wide, for the duration of the call).

Stopping rule.
    Stop when the step ‖z_{t+1} − z_t‖ ≤ tol · median_i ‖x_i − z_t‖ (relative to the data's
    scale, not to the objective, which far-away attackers dominate) or is at rounding level,
    or when Vardi-Zhang certifies a data point. "Distance zero" means at most
    max(tol/4, 256 ε) times the median nonzero distance from the start point.

This module holds the public entry points; the solver's parts are private modules:
input checks (``_validation``), the frame (``_frame``), the engines and start point
(``_engines``), the iteration (``_iteration``), the BLAS thread policy (``_threads``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bgdsim.aggregators.geometric_median._engines import _build_engine, _GramEngine
from bgdsim.aggregators.geometric_median._iteration import _ZERO_RTOL, _iterate
from bgdsim.aggregators.geometric_median._numerics import FloatArray as FloatArray
from bgdsim.aggregators.geometric_median._numerics import _median
from bgdsim.aggregators.geometric_median._polish import _polish
from bgdsim.aggregators.geometric_median._threads import _blas_threads
from bgdsim.aggregators.geometric_median._validation import (
    _as_points,
    _as_weights,
    _check_finite,
)

__all__ = ["GeometricMedianResult", "geometric_median", "geometric_median_info", "unconverged"]


@dataclass(frozen=True)
class GeometricMedianResult:
    """Outcome of :func:`geometric_median_info`.

    Attributes:
        median: The ``(d,)`` float64 minimiser.
        iterations: Weiszfeld / Vardi-Zhang steps taken.
        converged: Whether the stopping rule was met (``False`` if ``max_iter`` ran out).
        objective: Σ_i w_i ‖median − x_i‖ with the weights as given.
    """

    median: FloatArray
    iterations: int
    converged: bool
    objective: float


def geometric_median(
    points: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> FloatArray:
    """The (weighted) geometric median argmin_z Σ_i w_i ‖z − x_i‖ (paper eq. (6)).

    Args:
        points: ``(n, d)`` real array, n ≥ 1, all entries finite.
        weights: Optional ``(n,)`` non-negative finite weights, not all zero (default: equal).
        tol: Relative step tolerance, ≥ 0: stop when the step is at most ``tol`` times the
            median distance from the iterate to the points.
        max_iter: Maximum number of iterations, ≥ 0.

    Returns:
        The ``(d,)`` float64 median; a median certified to be a data point is that point,
        bit for bit.

    Raises:
        ValueError: On a malformed ``points``, ``weights``, ``tol`` or ``max_iter``.
    """
    result = geometric_median_info(points, weights=weights, tol=tol, max_iter=max_iter)
    if not result.converged:
        for notes in _WATCHERS.get():
            notes.append(result.iterations)
    return result.median


_WATCHERS: ContextVar[tuple[list[int], ...]] = ContextVar("geometric_median_watchers", default=())


@contextmanager
def unconverged() -> Iterator[list[int]]:
    """Collect, while the block runs, the iteration counts of every
    :func:`geometric_median` that stopped at ``max_iter`` without converging.

    >>> with unconverged() as stalls:
    ...     _ = geometric_median([[0.0], [1.0]])
    >>> stalls
    []
    """
    notes: list[int] = []
    token = _WATCHERS.set((*_WATCHERS.get(), notes))
    try:
        yield notes
    finally:
        _WATCHERS.reset(token)


def geometric_median_info(
    points: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> GeometricMedianResult:
    """Like :func:`geometric_median`, also reporting iterations, convergence and objective.

    Args:
        points: ``(n, d)`` real array, n ≥ 1, all entries finite.
        weights: Optional ``(n,)`` non-negative finite weights, not all zero (default: equal).
        tol: Relative step tolerance, ≥ 0 (see :func:`geometric_median`).
        max_iter: Maximum number of iterations, ≥ 0.

    Returns:
        A :class:`GeometricMedianResult`.

    Raises:
        ValueError: On a malformed ``points``, ``weights``, ``tol`` or ``max_iter``; the
            message of a non-finite entry names its first row.
    """
    x = _as_points(points)
    n, d = x.shape
    w, w_total = _as_weights(weights, n)
    tol = float(tol)
    if not (math.isfinite(tol) and tol >= 0.0):
        raise ValueError(f"tol must be finite and >= 0, got {tol!r}")
    max_iter = operator.index(max_iter)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")

    if n == 1 or d == 0 or (weights is not None and not np.all(w > 0.0)):
        _check_finite(x)  # full check first, so the error names a row of the input
        if not np.all(w > 0.0):
            keep = w > 0.0
            x, w = x[keep], w[keep]
        if x.shape[0] == 1 or d == 0:
            return GeometricMedianResult(x[0].copy(), 0, True, 0.0)

    with _blas_threads(*x.shape):
        engine, start = _build_engine(x, w)
        state, at, iterations, converged, dist, stalled = _iterate(engine, w, start, tol, max_iter)
        polished = None
        if stalled:  # a flat valley: finish with Newton steps (see _polish)
            y = engine.frame.y
            z = y.T @ state if isinstance(engine, _GramEngine) else state
            zero = max(0.25 * tol, _ZERO_RTOL) * _median(dist)
            polished, steps, converged, dist = _polish(y, w, z, tol, zero)
            iterations += steps
            if not converged and iterations < max_iter:
                # no curvature to use (exactly collinear points: f is piecewise linear
                # along their line) — resume Weiszfeld / Vardi-Zhang from the data point
                # nearest the polished iterate, without stopping for a stall
                state, at, more, converged, dist, _ = _iterate(
                    engine, w, int(dist.argmin()), tol, max_iter - iterations, detect_stall=False
                )
                iterations += more
                polished = None
        if polished is not None:
            median = engine.frame.to_original(polished)
        else:
            median = x[at].copy() if at is not None else engine.to_original(state)
    objective = float(w @ dist) / engine.frame.scale * w_total
    return GeometricMedianResult(median, iterations, converged, objective)
