"""Sharing a training set out over the workers: i.i.d., label skew or quantity skew.

:func:`assign` returns each worker's rows of the training set (sorted index arrays):

* ``iid`` (the paper's): a seeded shuffle cut into m nearly equal parts (sizes differ by
  at most one, larger first);
* ``dirichlet`` (label skew, Hsu, Qi, Brown 2019): for each class c, proportions
  p_c ~ Dir(α·1_m) share c's samples out (largest remainders); small α gives each worker
  few classes, large α approaches i.i.d.;
* ``quantity`` (quantity skew): sizes n_j ∝ q_j with q ~ Dir(α·1_m) (labels ignored).

Every worker holds at least one sample: a worker left empty takes one sample from the
largest share (lowest-numbered worker first) — the draws stay a pure function of the seed.
The partition's statistics (sizes, per-worker label histograms) are :func:`histograms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["assign", "histograms", "largest_remainder"]


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights`` (largest remainders).

    >>> largest_remainder(10, np.array([0.5, 0.3, 0.2])).tolist()
    [5, 3, 2]
    >>> largest_remainder(4, np.array([1.0, 1.0, 1.0])).tolist()
    [2, 1, 1]
    """
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def assign(
    partition: Any, n: int, workers: int, labels: np.ndarray | None, rng: np.random.Generator
) -> list[np.ndarray]:
    """Each worker's rows of an ``n``-sample training set (see the module doc).

    ``partition``: a ``[data] partition`` table (``kind`` and its parameters) or None
    (i.i.d.); ``labels``: the training labels, needed by ``dirichlet``.

    Raises:
        ValueError: fewer samples than workers, or label skew without labels.
    """
    if n < workers:
        raise ValueError(f"{n} training samples cannot give each of {workers} workers one")
    kind = "iid" if partition is None else partition.kind
    if kind == "dirichlet":
        if labels is None:
            raise ValueError("partition dirichlet: needs class labels (a classification set)")
        shares = _dirichlet(labels, workers, float(partition.alpha), rng)
    elif kind == "quantity":
        sizes = largest_remainder(n, rng.dirichlet(np.full(workers, float(partition.alpha))))
        order = rng.permutation(n)
        shares = np.split(order, np.cumsum(sizes)[:-1])
    else:  # iid (drift shares out i.i.d. and moves the targets instead)
        shares = np.array_split(rng.permutation(n), workers)
    return [np.sort(s) for s in _no_empty([list(s) for s in shares])]


def _dirichlet(
    labels: np.ndarray, workers: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    parts: list[list[int]] = [[] for _ in range(workers)]
    for c in range(int(labels.max()) + 1):
        rows = rng.permutation(np.flatnonzero(labels == c))
        counts = largest_remainder(rows.size, rng.dirichlet(np.full(workers, alpha)))
        for j, chunk in enumerate(np.split(rows, np.cumsum(counts)[:-1])):
            parts[j].extend(chunk.tolist())
    return [np.asarray(p, dtype=np.int64) for p in parts]


def _no_empty(parts: list[list[int]]) -> list[np.ndarray]:
    """Give every empty part one row from the largest part (first largest on ties)."""
    for j, part in enumerate(parts):
        if not part:
            donor = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
            part.append(parts[donor].pop())
            parts[j] = part
    return [np.asarray(p, dtype=np.int64) for p in parts]


def histograms(shares: list[np.ndarray], labels: np.ndarray, classes: int) -> np.ndarray:
    """``(m, C)`` label counts per worker.

    >>> histograms([np.array([0, 1]), np.array([2])], np.array([0, 1, 1]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    return np.stack([np.bincount(labels[s], minlength=classes) for s in shares])
