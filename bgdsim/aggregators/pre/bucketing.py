"""Bucketing (Karimireddy, He, Jaggi 2022, "Byzantine-robust learning on heterogeneous
datasets via bucketing", ICLR 2022, Algorithm 1).

The reports are shuffled by a random permutation π, cut into ⌈n/s⌉ buckets of s
consecutive shuffled reports (the last one smaller when s does not divide n) and each
bucket is replaced by its mean:

    y_b = mean{ x_π(i) : (b − 1)s < i ≤ min(bs, n) },   b = 1 … ⌈n/s⌉.

Averaging s reports divides the honest spread by ≈ √s, while at most f buckets hold a
Byzantine report; the paper takes s ≤ n/(2f) (and s = 2 in its experiments). The
permutation is drawn from the server's random bits for the round (``rng``, supplied), so
the adversary, ``replay --verify`` and a re-run see the same buckets. The paper writes the
last bucket's mean with 1/s; a bucket of fewer reports is averaged over what it holds.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators._common import reports
from bgdsim.aggregators.pre import register

__all__ = ["bucketing"]


@register("bucketing")
def bucketing(
    vectors: np.ndarray,
    *,
    s: Annotated[int, Field(ge=1)] = 2,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Bucket means of the shuffled reports (Karimireddy, He, Jaggi 2022, Algorithm 1).

    Args:
        vectors: ``(n, d)`` reports.
        s: the bucket size s ≥ 1 (default 2).
        rng: the server's random bits for this round (supplied); ``None``: no shuffle.

    Returns:
        The ``(⌈n/s⌉, d)`` bucket means, in bucket order.

    Raises:
        ValueError: ``vectors`` is not a non-empty ``(n, d)`` array, or s < 1.
    """
    x = reports(vectors, "bucketing")
    if s < 1:
        raise ValueError(f"bucketing needs s >= 1, got s={s}")
    n = x.shape[0]
    if rng is not None:
        x = x[rng.permutation(n)]
    if s == 1:
        return x.copy()
    starts = np.arange(0, n, s)
    sizes = np.diff(np.append(starts, n))
    with np.errstate(over="ignore", invalid="ignore"):  # huge reports: inf, as the mean's
        return np.add.reduceat(x, starts, axis=0) / sizes[:, None]
