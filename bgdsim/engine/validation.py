"""Screening a report before the server counts it: what became of it, and why.

A report must be a real ``(d,)`` array with finite entries and, when ``server.max_norm``
is set, a norm no larger. :func:`validate_block` screens a whole round's ``(m, d)`` block
in one pass; every runtime and ``replay --verify`` use these two functions.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

__all__ = ["REPORT_DTYPES", "Outcome", "validate_block", "validate_report"]


class Outcome(str, Enum):
    """What became of one report that reached the server."""

    ACCEPTED = "deliver"
    REJECTED = "rejected"
    LATE = "late"


#: the only report dtypes a server takes: real float32 or float64 (compared by dtype, so
#: a byte-swapped float64 is refused like any other); anything else is rejected
REPORT_DTYPES = (np.dtype("<f8"), np.dtype("<f4"), np.dtype("=f8"), np.dtype("=f4"))


def validate_report(vector: Any, *, dim: int, max_norm: float | None = None) -> str | None:
    """Check a report's payload; return ``None`` if usable, else the reason it is not.

    A report must be a ``(dim,)`` array of float32 or float64 (integers, float16,
    float128, complex, objects and byte-swapped floats are refused: their conversion to
    the server's float64 could overflow, lose or invent values), with finite entries,
    and (when ``max_norm`` is set) of norm at most ``max_norm``, computed on the float64
    values with a scale so that it cannot overflow.
    """
    if not isinstance(vector, np.ndarray):
        return f"not an array ({type(vector).__name__})"
    if vector.dtype not in REPORT_DTYPES:
        return f"wrong dtype {vector.dtype.str} (expected float32 or float64)"
    if vector.shape != (dim,):
        return f"wrong shape {vector.shape} (expected ({dim},))"
    values = vector.astype(np.float64, copy=False)
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        return f"non-finite entry {values[bad]} at index {bad}"
    if max_norm is not None:
        scale = float(np.max(np.abs(values))) if dim else 0.0
        norm = scale * float(np.linalg.norm(values / scale)) if scale else 0.0
        if norm > max_norm:
            return f"norm {norm:.3g} exceeds server.max_norm {max_norm:.3g}"
    return None


def validate_block(block: np.ndarray, *, max_norm: float | None = None) -> list[str | None]:
    """:func:`validate_report` for every row of a float ``(m, d)`` matrix, in one pass."""
    verdicts: list[str | None] = [None] * block.shape[0]
    if max_norm is None and np.isfinite(block).all():  # one pass, no per-row reduction
        return verdicts
    ok = np.isfinite(block).all(axis=1)
    check = range(block.shape[0]) if max_norm is not None else np.flatnonzero(~ok).tolist()
    for i in check:
        verdicts[i] = validate_report(block[i], dim=block.shape[1], max_norm=max_norm)
    return verdicts
