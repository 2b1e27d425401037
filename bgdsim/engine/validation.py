"""Screening a report before the server counts it: what became of it, and why.

A report must be a real ``(d,)`` array with finite entries and, when ``server.max_norm``
is set, a norm no larger. :func:`validate_block` screens a whole round's ``(m, d)`` block
in one pass; every runtime and ``replay --verify`` use these two functions.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

__all__ = ["Outcome", "validate_block", "validate_report"]


class Outcome(str, Enum):
    """What became of one report that reached the server."""

    ACCEPTED = "deliver"
    REJECTED = "rejected"
    LATE = "late"


def validate_report(vector: Any, *, dim: int, max_norm: float | None = None) -> str | None:
    """Check a report's payload; return ``None`` if usable, else the reason it is not.

    A report must be a real ``(dim,)`` array with finite entries, and (when ``max_norm``
    is set) of norm at most ``max_norm``.
    """
    if not isinstance(vector, np.ndarray):
        return f"not an array ({type(vector).__name__})"
    if vector.shape != (dim,):
        return f"wrong shape {vector.shape} (expected ({dim},))"
    if vector.dtype.kind not in "fiu":
        return f"wrong dtype {vector.dtype} (expected real numbers)"
    if not np.isfinite(vector).all():
        bad = int(np.flatnonzero(~np.isfinite(vector))[0])
        return f"non-finite entry {vector[bad]} at index {bad}"
    if max_norm is not None:
        scale = float(np.max(np.abs(vector))) if dim else 0.0
        norm = scale * float(np.linalg.norm(vector / scale)) if scale else 0.0
        if norm > max_norm:
            return f"norm {norm:.3g} exceeds server.max_norm {max_norm:.3g}"
    return None


def validate_block(block: np.ndarray, *, max_norm: float | None = None) -> list[str | None]:
    """:func:`validate_report` for every row of a float ``(m, d)`` matrix, in one pass."""
    ok = np.isfinite(block).all(axis=1)
    verdicts: list[str | None] = [None] * block.shape[0]
    check = range(block.shape[0]) if max_norm is not None else np.flatnonzero(~ok).tolist()
    for i in check:
        verdicts[i] = validate_report(block[i], dim=block.shape[1], max_norm=max_norm)
    return verdicts
