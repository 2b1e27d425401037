"""Numeric primitives shared by the geometric-median solver: the float array type,
machine epsilon and a fast median of a vector."""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_EPS: Final = float(np.finfo(np.float64).eps)


def _median(v: FloatArray) -> float:
    """Median of a 1-D array (``np.median`` without its overhead)."""
    m = v.size // 2
    p = v.copy()
    if v.size % 2:
        p.partition(m)
        return float(p[m])
    p.partition((m - 1, m))
    return 0.5 * (float(p[m - 1]) + float(p[m]))
