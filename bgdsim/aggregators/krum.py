"""Krum and Multi-Krum (Blanchard, El Mhamdi, Guerraoui, Stainer 2017).

Each report is scored by how close it is to its n − f − 2 nearest other reports,

    s(i) = Σ_{j ∈ N_i} ‖g_i − g_j‖²,  N_i = the n − f − 2 reports nearest g_i (j ≠ i),

and Krum returns the report of least score; Multi-Krum averages the m best. Both need
n ≥ 2f + 3, the n > 2f + 2 of Blanchard et al.'s (α, f)-resilience result.

Numerics. All n² squared distances come from one Gram matrix (a single symmetric BLAS
product), ‖y_i‖² + ‖y_j‖² − 2⟨y_i, y_j⟩, on the reports relative to their coordinate-wise
median, y_i = g_i − med, so that a large shared offset does not cancel the distances
between nearby reports; a distance below 1e-6 of ‖y_i‖² + ‖y_j‖² (two reports close to
each other but far from the median, where the expansion's rounding would swamp it) is
recomputed from the explicit difference; negative rounding is clipped at 0. If the
centred reports are so
large that the squared distances or the scores (sums of n of them) could overflow — norms
beyond ~1e150 for n = 1000 — or so small that they could underflow, the Gram matrix is
recomputed after scaling them by a power of two (exact; it changes no comparison). Scaled
down that far, distances more than ~1e150 times smaller than the largest can underflow to
0 (the rule then sees those reports as equal). Ties in the score go to the lowest index;
note that Krum with n − f − 2 = 1 neighbour (n = 3, f = 0) always ties the closest pair.
Small products (n·d < 2²²) run on one BLAS thread.

Non-finite reports. A report with a NaN or an infinite entry is at distance +inf from
every other report (the distances between finite reports are computed without it), so its
score is +inf and it can never win; a finite report's score is +inf too when fewer than
n − f − 2 other reports are finite. Non-finite scores never win: if every score is
non-finite (fewer than n − f − 1 finite reports), Krum raises
:class:`~bgdsim.aggregators.PreconditionError`, and so does Multi-Krum if fewer than m
scores are finite. (The server rejects non-finite reports before any rule sees them; this
is for direct callers and the adversary's what-if calls.)
"""

from __future__ import annotations

import functools
import math
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import numpy as np
from pydantic import Field
from threadpoolctl import ThreadpoolController

from bgdsim.aggregators import PreconditionError, register
from bgdsim.aggregators._common import check_f, reports
from bgdsim.aggregators.coordinate_median import median_of_rows

__all__ = ["check_krum_inputs", "krum", "krum_scores", "multi_krum", "pairwise_sq_distances"]

_SQ_HI = 2.0**1000  # 4n · max ‖y_i‖² above this: distances or their sums could overflow
_SQ_LO = 2.0**-800  # 4n · max ‖y_i‖² below this: small distances could underflow
_MULTITHREAD_MIN = 1 << 22  # n·d below this: the Gram product runs on one BLAS thread
_FLAG_RTOL = 1e-6  # d² below this fraction of ‖y_i‖² + ‖y_j‖²: recomputed exactly


@functools.cache
def _controller() -> Any:
    return ThreadpoolController()


def _blas_threads(n: int, d: int) -> AbstractContextManager[Any]:
    """One BLAS thread for small products.

    On a busy 2-core machine a two-thread BLAS call on a small matrix waits for its second
    thread (measured: the 200 x 2000 Gram product 3.5 ms on one thread, 64 ms on two).
    """
    if n * d >= _MULTITHREAD_MIN:
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")


def pairwise_sq_distances(x: np.ndarray) -> np.ndarray:
    """The ``(n, n)`` squared distances ‖x_i − x_j‖² of a float64 ``(n, d)`` array, up to scale.

    Computed from one Gram matrix of the rows relative to their coordinate-wise median, and
    multiplied by a power of two s (s = 1 unless the entries or their row sums could
    overflow or underflow), which changes no comparison. Symmetric, non-negative, zero
    diagonal. A row with a NaN or inf entry is at distance +inf from every other row; the
    other distances are those of the finite rows alone.
    """
    n, d = x.shape
    with _blas_threads(n, d), np.errstate(over="ignore", invalid="ignore"):
        y = x - median_of_rows(x)
        gram = y @ y.T  # numpy uses the symmetric rank-k BLAS product for y @ y.T
        top = float(gram.diagonal().max())  # max ‖y_i‖²; every |gram| and d2 ≤ 4·top
        if not _SQ_LO <= 4.0 * n * top <= _SQ_HI:  # also catches inf, and 0 from underflow
            finite = np.isfinite(x).all(axis=1)
            if not finite.all():  # (a non-finite row makes gram's diagonal NaN or inf)
                return _with_non_finite_rows(x, finite)
            amax = max(float(y.max()), -float(y.min()))
            if amax > 0.0:
                y *= math.ldexp(1.0, -math.frexp(amax)[1])  # now max |y| is in [1/2, 1)
                gram = y @ y.T
    sq = gram.diagonal().copy()
    d2 = np.add.outer(sq, sq)  # exactly symmetric, as is gram
    gram *= 2.0
    d2 -= gram
    # where the expansion cancels (reports close to each other, far from the median) its
    # rounding, ~ε‖y‖², can swamp the distance: those are taken from the differences
    low = d2 <= _FLAG_RTOL * np.add.outer(sq, sq)
    np.fill_diagonal(low, False)
    i, j = np.nonzero(np.triu(low))
    if i.size:
        diff = y[i] - y[j]
        d2[i, j] = d2[j, i] = np.einsum("ij,ij->i", diff, diff)
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    return d2


def _with_non_finite_rows(x: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """:func:`pairwise_sq_distances` when some rows (``~finite``) hold a NaN or inf."""
    n = x.shape[0]
    d2 = np.full((n, n), np.inf)
    ok = np.flatnonzero(finite)
    if ok.size:
        d2[np.ix_(ok, ok)] = pairwise_sq_distances(x[ok])
    np.fill_diagonal(d2, 0.0)
    return d2


def krum_scores(d2: np.ndarray, f: int) -> np.ndarray:
    """Krum scores s(i): the sum of the n − f − 2 smallest d2[i, j], j ≠ i (needs n ≥ f + 3).

    ``d2`` is a squared-distance matrix with a zero diagonal (as from
    :func:`pairwise_sq_distances`); it is not modified. A NaN distance counts as +inf, and
    a score that is not finite is +inf (the worst).
    """
    neighbours = d2.shape[0] - f - 2
    # The n - f - 1 smallest entries of row i are its own 0 and its n - f - 2 nearest others
    # (partition puts NaN last, i.e. as if +inf).
    part = np.partition(d2, neighbours, axis=1)
    scores = part[:, : neighbours + 1].sum(axis=1)
    scores[np.isnan(scores)] = np.inf
    return scores


def _finite_count(x: np.ndarray) -> int:
    return int(np.isfinite(x).all(axis=1).sum())


def _all_finite_mean(x: np.ndarray, rule: str, need: str) -> np.ndarray:
    """The mean of every report, after checking that they are all finite."""
    out = x.mean(axis=0)
    if not np.isfinite(out).all() and not np.isfinite(x).all():  # (else: the sum overflowed)
        raise PreconditionError(
            f"{rule} needs {need} finite reports, got {_finite_count(x)} of n={x.shape[0]}"
        )
    return out


def check_krum_inputs(vectors: np.ndarray, f: int, rule: str, *, factor: int = 2) -> np.ndarray:
    """The reports as float64, after checking the shape, f ≥ 0 and n ≥ factor·f + 3."""
    x = reports(vectors, rule)
    check_f(f, rule)
    n = x.shape[0]
    if n < factor * f + 3:
        raise PreconditionError(f"{rule} needs n >= {factor}f + 3 reports, got n={n} with f={f}")
    return x


@register("krum")
def krum(vectors: np.ndarray, *, f: int) -> np.ndarray:
    """Krum (Blanchard et al. 2017): the report closest to its n − f − 2 nearest neighbours.

    KR(g_1, …, g_n) = g_{i*},  i* = argmin_i Σ_{j ∈ N_i} ‖g_i − g_j‖²,

    N_i the n − f − 2 reports nearest g_i (j ≠ i); ties go to the lowest index. The result
    is one of the reports, bit for bit, and never a non-finite one: a report with a NaN or
    inf entry scores +inf (see the module's "Non-finite reports").

    Args:
        vectors: ``(n, d)`` reports, n ≥ 2f + 3.
        f: the number of Byzantine reports to tolerate (supplied by the server: its q).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: If n < 2f + 3, or fewer than n − f − 1 reports are finite (every
            score is then +inf).
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, or f < 0.

    >>> krum(np.array([[0.0], [1.0], [2.0], [3.0], [100.0]]), f=1).tolist()
    [1.0]
    """
    x = check_krum_inputs(vectors, f, "krum")
    scores = krum_scores(pairwise_sq_distances(x), f)
    best = int(np.argmin(scores))
    if not np.isfinite(scores[best]):
        n = x.shape[0]
        raise PreconditionError(
            f"krum needs n - f - 1 = {n - f - 1} finite reports, got {_finite_count(x)}"
        )
    return x[best].copy()


@register("multi_krum")
def multi_krum(
    vectors: np.ndarray,
    *,
    f: int,
    m_select: Annotated[int, Field(ge=1)] | None = None,
) -> np.ndarray:
    """Multi-Krum (Blanchard et al. 2017, §5): the mean of the m best-scored reports.

    MKR(g_1, …, g_n) = (1/m) Σ_{i ∈ M} g_i,  M = the m reports of least Krum score
    Σ_{j ∈ N_i} ‖g_i − g_j‖² (see :func:`krum`; ties go to the lower index).

    m = 1 is Krum; m = n is the mean; the default m = n − f averages as many reports as
    there can be honest ones. A report of non-finite score (one with a NaN or inf entry,
    see :func:`krum`) is never averaged.

    Args:
        vectors: ``(n, d)`` reports, n ≥ 2f + 3.
        f: the number of Byzantine reports to tolerate (supplied by the server: its q).
        m_select: m, 1 ≤ m ≤ n (default n − f).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: If n < 2f + 3, m > n, or fewer than m reports have a finite
            score (with m = n: a report is not finite).
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, f < 0, or m < 1.
    """
    x = check_krum_inputs(vectors, f, "multi_krum")
    n = x.shape[0]
    m = n - f if m_select is None else m_select
    if m < 1:
        raise ValueError(f"multi_krum needs 1 <= m_select <= n, got m_select={m} with n={n}")
    if m > n:
        raise PreconditionError(f"multi_krum needs 1 <= m_select <= n, got m_select={m} with n={n}")
    if m == n:  # every report is kept
        return _all_finite_mean(x, "multi_krum", f"m_select = n = {n}")
    scores = krum_scores(pairwise_sq_distances(x), f)
    best = np.argsort(scores, kind="stable")[:m]
    if not np.isfinite(scores[best[-1]]):
        raise PreconditionError(
            f"multi_krum needs m_select = {m} reports of finite score, got "
            f"{int(np.isfinite(scores).sum())} ({_finite_count(x)} of n={n} reports finite)"
        )
    if m == 1:
        return x[int(best[0])].copy()
    return x[np.sort(best)].mean(axis=0)  # worker order: a stable sum
