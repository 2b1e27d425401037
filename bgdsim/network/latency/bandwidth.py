"""Bandwidth: the size of a message and the time to push it onto a link."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["message_bytes", "transmission_time"]


def message_bytes(dim: int, dtype: str = "<f8") -> int:
    """Size in bytes of a ``dim``-vector of ``dtype`` (payload only, no header)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0:
        raise ValueError(f"dim must be an integer >= 0, got {dim!r}")
    return int(dim) * np.dtype(dtype).itemsize


def transmission_time(nbytes: int, bandwidth: float | None) -> float:
    """Seconds to push ``nbytes`` onto a link of ``bandwidth`` bytes/s (None or inf: 0.0)."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, np.integer)) or nbytes < 0:
        raise ValueError(f"nbytes must be an integer >= 0, got {nbytes!r}")
    if bandwidth is None or bandwidth == math.inf:
        return 0.0
    if not bandwidth > 0:  # also NaN
        raise ValueError(f"bandwidth must be > 0 bytes per second (or None), got {bandwidth!r}")
    return int(nbytes) / float(bandwidth)
