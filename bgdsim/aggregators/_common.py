"""Helpers shared by the aggregation rules: input checks and overflow-safe row norms.

The checks raise ``ValueError`` with messages that name the rule, so that every rule reports
a bad input the same way (``"<rule> needs a non-empty (n, d) array, got shape …"``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_f", "check_tau", "reports", "row_norms"]


def reports(vectors: np.ndarray, rule: str) -> np.ndarray:
    """The reports as a float64 array, after checking that they are a non-empty ``(n, d)``."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{rule} needs a non-empty (n, d) array, got shape {x.shape}")
    return x


def check_f(f: int, rule: str) -> None:
    """Check that the number of Byzantine reports to tolerate is f ≥ 0."""
    if f < 0:
        raise ValueError(f"{rule} needs f >= 0, got f={f}")


def check_tau(tau: float | None, rule: str) -> None:
    """Check that a radius or threshold τ, if given, is > 0 (NaN is refused)."""
    if tau is not None and not tau > 0:
        raise ValueError(f"{rule} needs tau > 0, got tau={tau}")


def row_norms(y: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of a finite float64 array, without overflow."""
    with np.errstate(over="ignore"):
        sq = np.einsum("ij,ij->i", y, y)
    norms = np.sqrt(sq)
    bad = np.flatnonzero(~np.isfinite(sq))
    if bad.size:
        big = np.abs(y[bad]).max(axis=1)
        scaled = y[bad] / big[:, None]
        norms[bad] = big * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    return norms


def count_of(fraction: float, n: int, *, up: bool = False) -> int:
    """⌊fraction·n⌋ (⌈·⌉ with ``up``), a product within rounding of an integer counting as
    that integer: 0.29 of 100 is 29, not the 28 that 0.29 * 100 = 28.999999999999996
    floors to (nor is 0.07 of 100 the 8 that 7.000000000000001 ceils to)."""
    x = float(fraction) * n
    near = round(x)
    if abs(x - near) <= 1e-12 * max(1.0, abs(x)):
        return int(near)
    return math.ceil(x) if up else math.floor(x)
