"""Geometric median of means: the server rule of Algorithm 2 (Chen, Su, Xu 2017, eq. (8)).

The n reports are split into k *fixed* batches of consecutive workers,
{(ℓ-1)b+1, …, ℓb} for ℓ = 1..k, each batch is averaged, and the geometric median of the
k batch means is the aggregate. k = 1 gives the mean (Algorithm 1); k = n gives the
geometric median of the reports (``geomed``).

When k does not divide n, the batches are still consecutive and their sizes differ by at
most one: the first ``n mod k`` batches hold ⌈n/k⌉ reports and the rest ⌊n/k⌋ (the split
of ``numpy.array_split``).

With unequal local sample counts n_j (``problem.size_spread``), each batch mean weights
its reports by n_j and the median weights each batch by its total count. When the server
excludes missing reports, the batches are
formed the same way over the n reports it kept, in worker order; if n < k, each report
is its own batch.

With ``rebatch = true`` the server shuffles the reports before batching, anew each round
(bucketing, Karimireddy et al. 2022): the permutation is drawn from the server's random
bits, which — as the paper assumes — the adversary sees (``AdversaryView.batch_order``).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators import PreconditionError, register
from bgdsim.aggregators.geometric_median import geometric_median

__all__ = [
    "batch_bounds",
    "batch_means",
    "batch_order",
    "check_finite_means",
    "geomed",
    "gmom",
    "uneven_batches",
]


def batch_bounds(n: int, k: int) -> np.ndarray:
    """Start offsets of k consecutive batches over n items, sizes differing by ≤ 1.

    >>> batch_bounds(10, 3).tolist()
    [0, 4, 7]
    """
    if k < 1:
        raise ValueError(f"batches must be >= 1, got {k}")
    k = min(k, n)
    base, extra = divmod(n, k)
    sizes = np.full(k, base, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate(([0], np.cumsum(sizes)[:-1]))


def uneven_batches(n: int, k: int) -> dict[str, int] | None:
    """The batch sizes when k does not divide n, or None when it does.

    The paper's Algorithm 2 assumes k | m (batches of b = m/k). Otherwise the consecutive
    batches of :func:`batch_bounds` hold ⌈n/k⌉ reports (the first n mod k of them) or
    ⌊n/k⌋, and the geometric median weights every batch mean alike.

    >>> uneven_batches(10, 3)
    {'workers': 10, 'batches': 3, 'large': 1, 'large_size': 4, 'small_size': 3}
    >>> uneven_batches(10, 5) is None
    True
    """
    k = min(k, n)
    if k < 1 or n % k == 0:
        return None
    base, extra = divmod(n, k)
    return {"workers": n, "batches": k, "large": extra, "large_size": base + 1, "small_size": base}


def batch_means(vectors: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """The ``(min(k, n), d)`` means of k consecutive batches of the ``(n, d)`` reports.

    With ``weights`` (n,), each batch mean is Σ_j w_j g_j / Σ_j w_j over the batch.
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = x.shape[0]
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        starts = batch_bounds(n, k)
        sums = np.add.reduceat(x * w[:, None], starts, axis=0)
        return sums / np.add.reduceat(w, starts)[:, None]
    if n % k == 0:
        return x.reshape(k, n // k, x.shape[1]).mean(axis=1)
    starts = batch_bounds(n, k)
    sizes = np.diff(np.append(starts, n))
    return np.add.reduceat(x, starts, axis=0) / sizes[:, None]


def check_finite_means(means: np.ndarray, rule: str) -> np.ndarray:
    """``means``, after checking that no batch mean overflowed (reports of norm ~1e308).

    Raises:
        PreconditionError: A batch mean is not finite: the geometric median needs finite
            points, so the rule cannot run on these (finite) reports.
    """
    if not np.isfinite(means).all():
        bad = int(np.flatnonzero(~np.isfinite(means).all(axis=1))[0])
        raise PreconditionError(f"{rule} needs finite batch means, batch {bad}'s mean overflows")
    return means


def batch_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """The order in which a re-batching server lays out n reports before batching."""
    return rng.permutation(n)


@register("gmom")
def gmom(
    vectors: np.ndarray,
    *,
    batches: Annotated[int, Field(ge=1)] = 20,
    tol: Annotated[float, Field(gt=0, lt=1)] = 1e-10,
    rebatch: bool = False,
    rng: np.random.Generator | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Geometric median of means (Algorithm 2, eq. (8)).

    A_k(g_1, …, g_n) = med{ (1/b) Σ_{j∈batch ℓ} g_j : ℓ = 1..k },
    med{y_i} = argmin_y Σ_i ‖y − y_i‖ (eq. (6)).

    Robust as long as fewer than half of the batches hold a Byzantine report:
    2(1+ε)q ≤ k (Theorem 1); the error floor grows as √(dk/N).

    Args:
        vectors: ``(n, d)`` reports in worker order, n ≥ 1.
        batches: k ≥ 1, the number of batches (capped at n).
        tol: the geometric-median solver's relative step tolerance.
        rebatch: shuffle the reports (with ``rng``) before forming the batches.
        rng: the server's random bits for this round (supplied by the server).
        weights: the reports' local sample counts n_j, supplied by the server when they
            differ: each batch mean is then weighted by n_j, and the geometric median
            by the batches' total counts (k = 1 gives the sample-weighted mean).

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: A batch mean overflows (finite reports of norm near 1e308).
        ValueError: If ``vectors`` is not a non-empty ``(n, d)`` array, k < 1, or
            ``rebatch`` without ``rng``.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"gmom needs a non-empty (n, d) array, got shape {x.shape}")
    if batches < 1:
        raise ValueError(f"batches must be >= 1, got {batches}")
    k = min(batches, x.shape[0])
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if rebatch:
        if rng is None:
            raise ValueError("gmom with rebatch needs the server's rng")
        order = batch_order(x.shape[0], rng)
        x = x[order]
        w = None if w is None else w[order]
    if w is not None:
        totals = np.add.reduceat(w, batch_bounds(x.shape[0], k))
        means = check_finite_means(batch_means(x, k, w), "gmom")
        return geometric_median(means, weights=totals, tol=tol)
    if k == 1:  # A_1 is exactly the mean (paper §2.1)
        return x.mean(axis=0)
    return geometric_median(check_finite_means(batch_means(x, k), "gmom"), tol=tol)


@register("geomed")
def geomed(
    vectors: np.ndarray,
    *,
    tol: Annotated[float, Field(gt=0, lt=1)] = 1e-10,
) -> np.ndarray:
    """Geometric median of the reports: gmom with k = n (paper §2.1, "When k = m").

    med{g_1, …, g_n} = argmin_y Σ_j ‖y − g_j‖.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"geomed needs a non-empty (n, d) array, got shape {x.shape}")
    return geometric_median(x, tol=tol)
