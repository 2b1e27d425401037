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
"""

from __future__ import annotations

import functools
import math
import operator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import ThreadpoolController

__all__ = ["GeometricMedianResult", "geometric_median", "geometric_median_info"]

FloatArray = NDArray[np.float64]

_EPS: Final = float(np.finfo(np.float64).eps)
_GRAM_MAX_N: Final = 128  # Gram engine only for n <= this (and d >= n)
_N_CANDIDATES: Final = 16  # start candidates of the large-n engine ...
_N_SAMPLE: Final = 256  # ... judged on this many rows (at least 32) ...
_SAMPLE_ENTRIES: Final = 1 << 22  # ... holding at most about this many entries
_FLAG_RTOL: Final = 1e-6  # d² below this fraction of the norms involved: recompute exactly
_SHIFT_RATIO: Final = 1e4  # re-centre if ‖origin − start‖² > ratio × (median distance)²
_SAFE_LO: Final = 2.0**-400  # |coordinates| in [LO, HI] need no rescaling
_SAFE_HI: Final = 2.0**400
_SAFE_SQ_LO: Final = 2.0**-800
_SAFE_SQ_HI: Final = 2.0**800
_ZERO_RTOL: Final = 256 * _EPS  # least "distance is zero" threshold, relative to the scale
_BLOCK_BYTES: Final = 1 << 20
_MULTITHREAD_MIN: Final = 1 << 22  # n·d below this: one BLAS thread (see _blas_threads)
_SINGLE_THREAD_MAX: Final = 1 << 12  # n·d below this: BLAS is single-threaded anyway


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
    return geometric_median_info(points, weights=weights, tol=tol, max_iter=max_iter).median


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
        state, at, iterations, converged, dist = _iterate(engine, w, start, tol, max_iter)
        median = x[at].copy() if at is not None else engine.to_original(state)
    objective = float(w @ dist) / engine.frame.scale * w_total
    return GeometricMedianResult(median, iterations, converged, objective)


# --------------------------------------------------------------------------- validation


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


def _median(v: FloatArray) -> float:
    """Median of a 1-D array (``np.median`` without its overhead)."""
    m = v.size // 2
    p = v.copy()
    if v.size % 2:
        p.partition(m)
        return float(p[m])
    p.partition((m - 1, m))
    return 0.5 * (float(p[m - 1]) + float(p[m]))


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


@functools.cache
def _controller() -> Any:
    return ThreadpoolController()


def _blas_threads(n: int, d: int) -> AbstractContextManager[Any]:
    """One BLAS thread for small problems.

    On a busy 2-core machine a multithreaded BLAS call on a small matrix can wait milliseconds
    for its second thread (measured: a 100 x 1000 solve 1.4 ms on one thread, 5-23 ms on two).
    Large problems keep the default, which is faster for memory-bound passes; tiny ones skip
    the (tens of µs) switch, as OpenBLAS does not split them.
    """
    if n * d >= _MULTITHREAD_MIN or n * d < _SINGLE_THREAD_MAX:
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")


# ------------------------------------------------------------------------------ frames


@dataclass(frozen=True)
class _Frame:
    """Coordinates y = (x − origin)·scale of the points."""

    y: FloatArray
    origin: FloatArray | None  # None: origin 0
    origin_index: int | None
    scale: float  # a power of two, so the rescaling is exact

    def to_original(self, z: FloatArray) -> FloatArray:
        if self.origin is None:
            return z / self.scale if self.scale != 1.0 else z.copy()
        if self.scale == 1.0:
            return z + self.origin
        out: FloatArray = (z + self.origin * self.scale) / self.scale  # no overflow on the way
        return out


def _shifted_frame(x: FloatArray, k: int) -> _Frame:
    """The frame centred at data point ``k``, rescaled by a power of two if needed."""
    amax = max(abs(float(x.max())), abs(float(x.min())))
    scale = 1.0
    if amax > _SAFE_HI or 0.0 < amax < _SAFE_LO:
        scale = math.ldexp(1.0, min(max(-math.frexp(amax)[1], -1000), 1000))
    origin = x[k].copy()
    shift = origin * scale
    y = np.empty_like(x)
    rows = max(1, _BLOCK_BYTES // (8 * x.shape[1]))
    for s in range(0, x.shape[0], rows):
        blk = y[s : s + rows]
        if scale == 1.0:
            np.subtract(x[s : s + rows], origin, out=blk)
        else:
            np.multiply(x[s : s + rows], scale, out=blk)
            blk -= shift
    return _Frame(y, origin, k, scale)


# ----------------------------------------------------------------------------- engines


class _Engine(Protocol):
    """An iterate representation. States are linear: convex combinations mix as vectors."""

    frame: _Frame
    sq_norm: float  # ‖s‖² of the state of the last distances() call, in frame units

    def point(self, k: int) -> FloatArray:
        """The state of data point k (exact)."""
        ...

    def distances(self, s: FloatArray, at: int | None) -> FloatArray:
        """Distances (frame units) from state ``s`` (data point ``at`` if known) to all points."""
        ...

    def combine(self, coef: FloatArray) -> FloatArray:
        """The state Σ_i coef_i y_i for coefficients summing to 1."""
        ...

    def gap(self, s: FloatArray, t: FloatArray) -> float:
        """‖s − t‖ in frame units."""
        ...

    def to_original(self, s: FloatArray) -> FloatArray:
        """The state as a ``(d,)`` vector in input coordinates."""
        ...


class _GramEngine:
    """Small n: states are coefficient vectors a (z = Yᵀ a); O(n²) per iteration."""

    def __init__(self, frame: _Frame) -> None:
        self.frame = frame
        y = frame.y
        self.g: FloatArray = y @ y.T
        self.sq: FloatArray = np.ascontiguousarray(self.g.diagonal())
        self.ok = bool(np.isfinite(self.sq).all())
        self.root: FloatArray = np.sqrt(self.sq) if self.ok else self.sq
        self.n = y.shape[0]
        self.sq_norm = 0.0

    def bad_rows(self) -> NDArray[np.intp]:
        return np.flatnonzero(~np.isfinite(self.sq))

    def max_sq(self) -> float:
        return float(self.sq.max())

    def start(self, w: FloatArray) -> tuple[int, float]:
        """Best data point by (approximate) objective and its median squared distance."""
        d2 = self.sq[:, None] + self.sq[None, :] - 2.0 * self.g
        np.maximum(d2, 0.0, out=d2)
        np.fill_diagonal(d2, 0.0)
        k = int(np.argmin(w @ np.sqrt(d2)))
        return k, _median(d2[:, k])

    def origin_sq(self, k: int) -> float:
        return float(self.sq[k])

    def point(self, k: int) -> FloatArray:
        a = np.zeros(self.n)
        a[k] = 1.0
        return a

    def distances(self, s: FloatArray, at: int | None) -> FloatArray:
        gs = self.g @ s
        q = max(float(s @ gs), 0.0)
        self.sq_norm = q
        d2 = self.sq - 2.0 * gs + q
        m = float(s @ self.root)
        low = d2 <= _FLAG_RTOL * (self.sq + m * m)
        if low.any():
            flag = low.nonzero()[0]
            y = self.frame.y
            z = y[at] if at is not None else y.T @ s
            diff = y[flag] - z
            d2[flag] = np.einsum("ij,ij->i", diff, diff)
        np.maximum(d2, 0.0, out=d2)
        return np.sqrt(d2)

    def combine(self, coef: FloatArray) -> FloatArray:
        return coef

    def gap(self, s: FloatArray, t: FloatArray) -> float:
        delta = s - t
        return math.sqrt(max(float(delta @ (self.g @ delta)), 0.0))

    def to_original(self, s: FloatArray) -> FloatArray:
        return self.frame.to_original(self.frame.y.T @ s)


class _MatvecEngine:
    """Large n: states are vectors z; two BLAS passes over the points per iteration."""

    def __init__(self, frame: _Frame) -> None:
        self.frame = frame
        y = frame.y
        self.sq: FloatArray = np.einsum("ij,ij->i", y, y)
        self.ok = bool(np.isfinite(self.sq).all())
        self.n = y.shape[0]
        self.sq_norm = 0.0

    def bad_rows(self) -> NDArray[np.intp]:
        return np.flatnonzero(~np.isfinite(self.sq))

    def max_sq(self) -> float:
        return float(self.sq.max())

    def start(self, w: FloatArray) -> tuple[int, float]:
        """Best of a few spread-out data points by objective, estimated on a sample of rows.

        Returns the point and its median squared distance to the sample. Reads only the
        sampled rows, through strided views (no copies).
        """
        n, d = self.frame.y.shape
        sample = max(32, min(_N_SAMPLE, _SAMPLE_ENTRIES // d))
        cand = slice(0, n, -(-n // _N_CANDIDATES))
        rows = slice(0, n, -(-n // sample))
        y = self.frame.y
        d2 = self.sq[rows, None] + self.sq[cand][None, :] - 2.0 * (y[rows] @ y[cand].T)
        np.maximum(d2, 0.0, out=d2)
        j = int((w[rows] @ np.sqrt(d2)).argmin())
        return j * cand.step, _median(d2[:, j])

    def origin_sq(self, k: int) -> float:
        return float(self.sq[k])

    def point(self, k: int) -> FloatArray:
        z: FloatArray = self.frame.y[k].copy()
        return z

    def distances(self, s: FloatArray, at: int | None) -> FloatArray:
        y = self.frame.y
        q = float(s @ s)
        self.sq_norm = q
        d2 = self.sq - 2.0 * (y @ s) + q
        low = d2 <= _FLAG_RTOL * (self.sq + q)
        if low.any():
            flag = low.nonzero()[0]
            diff = y[flag] - s
            d2[flag] = np.einsum("ij,ij->i", diff, diff)
        np.maximum(d2, 0.0, out=d2)
        return np.sqrt(d2)

    def combine(self, coef: FloatArray) -> FloatArray:
        z: FloatArray = self.frame.y.T @ coef
        return z

    def gap(self, s: FloatArray, t: FloatArray) -> float:
        return float(np.linalg.norm(s - t))

    def to_original(self, s: FloatArray) -> FloatArray:
        return self.frame.to_original(s)


def _use_gram(n: int, d: int) -> bool:
    return n <= _GRAM_MAX_N and d >= n


def _build_engine(x: FloatArray, w: FloatArray) -> tuple[_GramEngine | _MatvecEngine, int]:
    """Choose the frame (raw, or centred at the start) and the start point."""
    kind = _GramEngine if _use_gram(*x.shape) else _MatvecEngine
    frame = _Frame(x, None, None, 1.0)
    for attempt in range(3):
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite norms are checked
            eng = kind(frame)
        m = eng.max_sq() if eng.ok else math.nan
        k = 0
        if not eng.ok:  # NaN/inf (raises), or squared norms overflowed
            _check_finite(x, eng.bad_rows())
        elif frame.origin is not None or _SAFE_SQ_LO <= m <= _SAFE_SQ_HI:
            k, s2 = eng.start(w)
            if attempt == 2 or k == frame.origin_index or eng.origin_sq(k) <= _SHIFT_RATIO * s2:
                return eng, k
        frame = _shifted_frame(x, k)
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------- iteration


def _iterate(
    eng: _Engine,
    w: FloatArray,
    start: int,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, int | None, int, bool, FloatArray]:
    """Weiszfeld / Vardi-Zhang iteration from data point ``start``.

    Each step treats the nearest data point k exactly: with K = {k and the points coinciding
    with it} (or every point at distance zero from the iterate, which is then snapped onto
    x_k), η = Σ_K w_i and
    T', r' the Weiszfeld average and the resultant ‖Σ_{i∉K} (w_i/d_i)(x_i − x_k)‖ over i ∉ K,
    the step is z ← x_k if r' ≤ η, else (1 − η/r') T' + (η/r') x_k. This minimises
    w_k‖z − x_k‖ plus Weiszfeld's quadratic majoriser of the other terms, so it descends like
    Weiszfeld, is the Vardi-Zhang step at a data point, and does not crawl (at rate η/r) when
    the median lies near a data point. At a data point, r' ≤ η certifies the median.

    Returns:
        (state, index of the data point the state equals or None, iterations, converged,
        distances from the state to the points in frame units).
    """
    s = eng.point(start)
    at: int | None = start
    dist = eng.distances(s, at)
    positive = dist[dist > 0.0]
    if positive.size == 0:  # all points coincide
        return s, at, 0, True, dist
    zero = max(0.25 * tol, _ZERO_RTOL) * _median(positive)
    b = np.empty_like(w)

    for it in range(max_iter):
        med = _median(dist)
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
            group = np.flatnonzero(dist <= dist[k] + zero)
            if group.size > 1:
                group = np.array([i for i in group.tolist() if eng.gap(eng.point(i), pk) <= zero])
            eta = float(w[group].sum())
            np.divide(w, dist, out=b)
            b[group] = 0.0
        total = float(b.sum())
        if total == 0.0:  # every point coincides with x_k
            return s, at, it + 1, True, dist
        t = eng.combine(b / total)
        r = total * eng.gap(t, pk)
        new_at: int | None = None
        if r <= eta:
            if at == k:  # Vardi-Zhang: x_k is the median
                return s, at, it + 1, True, dist
            new, new_at = pk, k
        else:
            alpha = eta / r
            new = (1.0 - alpha) * t + alpha * pk
        step = eng.gap(new, s)
        s, at = new, new_at
        dist = eng.distances(s, at)
        if step <= tol * med or step <= 16.0 * _EPS * (math.sqrt(eng.sq_norm) + med):
            return s, at, it + 1, True, dist
    return s, at, max_iter, False, dist
