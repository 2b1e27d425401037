"""The frame the geometric-median solver works in: coordinates y = (x − c)·s with c a
data point (or 0) and s a power of two, so that squared norms neither overflow nor
underflow and the rescaling is exact (see "Numerics" in
:mod:`bgdsim.aggregators.geometric_median`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from bgdsim.aggregators.geometric_median._numerics import FloatArray

_SAFE_LO: Final = 2.0**-400  # |coordinates| in [LO, HI] need no rescaling
_SAFE_HI: Final = 2.0**400
_BLOCK_BYTES: Final = 1 << 20


@dataclass(frozen=True)
class _Frame:
    """Coordinates y = (x − origin)·scale of the points."""

    y: FloatArray
    origin: FloatArray | None  # None: origin 0
    origin_index: int | None
    scale: float  # a power of two, so the rescaling is exact

    def to_original(self, z: FloatArray) -> FloatArray:
        if self.origin is None:
            return z / self.scale if self.scale != 1.0 else z.copy()
        if self.scale == 1.0:
            return z + self.origin
        out: FloatArray = (z + self.origin * self.scale) / self.scale  # no overflow on the way
        return out


def _shifted_frame(x: FloatArray, k: int) -> _Frame:
    """The frame centred at data point ``k``, rescaled by a power of two if needed."""
    amax = max(abs(float(x.max())), abs(float(x.min())))
    scale = 1.0
    if amax > _SAFE_HI or 0.0 < amax < _SAFE_LO:
        scale = math.ldexp(1.0, min(max(-math.frexp(amax)[1], -1000), 1000))
    origin = x[k].copy()
    shift = origin * scale
    y = np.empty_like(x)
    rows = max(1, _BLOCK_BYTES // (8 * x.shape[1]))
    for s in range(0, x.shape[0], rows):
        blk = y[s : s + rows]
        if scale == 1.0:
            np.subtract(x[s : s + rows], origin, out=blk)
        else:
            np.multiply(x[s : s + rows], scale, out=blk)
            blk -= shift
    return _Frame(y, origin, k, scale)
