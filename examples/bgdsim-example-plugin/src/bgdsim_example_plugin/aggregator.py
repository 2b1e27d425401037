"""Comparative gradient elimination, CGE (Gupta, Liu, Vaidya 2021).

"Byzantine fault-tolerant distributed machine learning with norm-based comparative
gradient elimination" (DSN Workshops 2021): sort the reports by norm, drop the f largest
(here f + ``slack``) and average the rest.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators import PreconditionError

__all__ = ["cge"]


def cge(vectors: np.ndarray, *, f: int, slack: Annotated[int, Field(ge=0)] = 0) -> np.ndarray:
    """Mean of the reports left after dropping the f + slack of largest norm.

    A(x_1, …, x_n) = (1/|S|) Σ_{i∈S} x_i, S = the n − f − slack reports of least norm
    (equal norms: the lower index first).

    Args:
        vectors: ``(n, d)`` reports.
        f: the Byzantine reports to tolerate (bgdsim supplies the scenario's q).
        slack: how many more of the largest to drop (default 0), ≥ 0.

    Returns:
        The ``(d,)`` aggregate.

    Raises:
        PreconditionError: n ≤ f + slack (nothing would be left): bgdsim skips the round.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"cge needs a non-empty (n, d) array, got shape {x.shape}")
    n, drop = x.shape[0], f + slack
    if n <= drop:
        raise PreconditionError(f"cge needs n > f + slack reports, got n={n}, f + slack={drop}")
    with np.errstate(over="ignore"):  # a huge report's norm is inf: it sorts last
        norms = np.linalg.norm(x, axis=1)
    keep = np.argsort(norms, kind="stable")[: n - drop]
    return x[keep].mean(axis=0)
