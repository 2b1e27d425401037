"""Argument checks shared by the constants and bounds of :mod:`bgdsim.theory`.

Each raises :class:`ValueError` naming the argument and the hypothesis it breaks.
"""

from __future__ import annotations

import math


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_lm(L: float, M: float) -> None:
    _positive("L", L)
    _positive("M", M)
    if L > M:
        raise ValueError(
            f"Assumption 1 needs L <= M (strong convexity <= smoothness), got L={L}, M={M}"
        )


def _check_nd_delta(n: float, d: int, delta: float) -> None:
    _positive("n", n)
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
