"""Averaging: the server rule of Algorithm 1 (Chen, Su, Xu 2017, §2.1)."""

from __future__ import annotations

import numpy as np

from bgdsim.aggregators import register


@register("mean")
def mean(vectors: np.ndarray) -> np.ndarray:
    """Coordinate-wise average of the reports (Algorithm 1, step 4).

    A(g_1, …, g_n) = (1/n) Σ_j g_j. A single Byzantine report moves it arbitrarily far
    (the paper's motivation for Algorithm 2).

    Args:
        vectors: ``(n, d)`` reports, n ≥ 1.

    Returns:
        The ``(d,)`` mean.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"mean needs a non-empty (n, d) array, got shape {x.shape}")
    return x.mean(axis=0)
