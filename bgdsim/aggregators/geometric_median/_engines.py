"""The iterate representations of the geometric-median solver ("engines"), and the choice
of engine, frame and start point.

Small n (≤ 128, d ≥ n): :class:`_GramEngine` iterates on n coefficients after one Gram
matrix X Xᵀ, O(n²) per step. Otherwise :class:`_MatvecEngine`: two BLAS passes over the
points per step. Distances the Gram-style expansion cannot resolve are recomputed from
explicit differences.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from bgdsim.aggregators.geometric_median._frame import _Frame, _shifted_frame
from bgdsim.aggregators.geometric_median._numerics import FloatArray, _median
from bgdsim.aggregators.geometric_median._validation import _check_finite

_GRAM_MAX_N: Final = 128  # Gram engine only for n <= this (and d >= n)
_N_CANDIDATES: Final = 16  # start candidates of the large-n engine ...
_N_SAMPLE: Final = 256  # ... judged on this many rows (at least 32) ...
_SAMPLE_ENTRIES: Final = 1 << 22  # ... holding at most about this many entries
_FLAG_RTOL: Final = 1e-6  # d² below this fraction of the norms involved: recompute exactly
_SHIFT_RATIO: Final = 1e4  # re-centre if ‖origin − start‖² > ratio × (median distance)²
_SAFE_SQ_LO: Final = 2.0**-800  # squared norms in [SQ_LO, SQ_HI]: the raw data can be the frame
_SAFE_SQ_HI: Final = 2.0**800
_any = np.logical_or.reduce  # what ndarray.any calls, without its Python wrapper


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
        d2: FloatArray = self.g @ s
        q = max(float(s @ d2), 0.0)
        self.sq_norm = q
        d2 *= -2.0  # ‖y_i‖² − 2 (G a)_i + aᵀGa, in place (the same bits)
        d2 += self.sq
        d2 += q
        m = float(s @ self.root)
        low = d2 <= _FLAG_RTOL * (self.sq + m * m)
        if _any(low):
            flag = low.nonzero()[0]
            y = self.frame.y
            z = y[at] if at is not None else y.T @ s
            diff = y[flag] - z
            d2[flag] = np.einsum("ij,ij->i", diff, diff)
        np.maximum(d2, 0.0, out=d2)
        return np.sqrt(d2, out=d2)

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
        d2: FloatArray = y @ s  # ‖y_i‖² − 2⟨y_i, s⟩ + ‖s‖², in place (the same bits)
        d2 *= -2.0
        d2 += self.sq
        d2 += q
        low = d2 <= _FLAG_RTOL * (self.sq + q)
        if _any(low):
            flag = low.nonzero()[0]
            diff = y[flag] - s
            d2[flag] = np.einsum("ij,ij->i", diff, diff)
        np.maximum(d2, 0.0, out=d2)
        return np.sqrt(d2, out=d2)

    def combine(self, coef: FloatArray) -> FloatArray:
        z: FloatArray = self.frame.y.T @ coef
        return z

    def gap(self, s: FloatArray, t: FloatArray) -> float:
        delta = s - t
        return math.sqrt(float(delta.dot(delta)))  # np.linalg.norm's own formula, bit for bit

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
