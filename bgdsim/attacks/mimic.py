"""Mimic: every Byzantine worker copies one honest worker's gradient.

Karimireddy, He, Jaggi, "Byzantine-Robust Learning on Heterogeneous Datasets via
Bucketing", ICLR 2022, §4 ("mimic attack"): the Byzantine workers all send the gradient
of one chosen honest worker, g_j = g_{i*} for every j ∈ B_t. Every message is a genuine
honest gradient, so no outlier test can flag it, yet the aggregate is tilted towards
worker i*'s data: against the mean with q of m workers the aggregate is
((m − q) μ_H + q g_{i*})/m, a bias of (q/m)(g_{i*} − μ_H) per round.

The paper chooses i* from the direction in which the honest gradients vary most,
estimated over the first rounds; this version, when ``target`` is None, re-chooses every
round the honest worker whose gradient is farthest from the honest mean,
i* = argmax_{i∈H} ‖g_i − μ_H‖ (ties: the lowest index), the most off-centre genuine
gradient (a Byzantine worker's own honest row is never the default choice).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import tile

__all__ = ["mimic"]

Worker = Annotated[int, Field(ge=0)]


@register("mimic")
def mimic(
    view: AdversaryView, rng: np.random.Generator, *, target: Worker | None = None
) -> np.ndarray:
    """Every Byzantine worker sends g_{i*}, one honest worker's gradient.

    Args:
        view: the adversary's view.
        rng: unused.
        target: i*, a worker index in 0..m−1 (its row of ``view.honest``: what it computes
            honestly, even in a round where it is itself Byzantine). None (default): the
            honest worker farthest from the honest mean, argmax_{i∈H} ‖g_i − μ_H‖.

    Raises:
        ValueError: ``target`` is not a worker of this run (m is not known before the run,
            so the upper bound is checked here).
    """
    m = view.honest.shape[0]
    if target is not None:
        if target >= m:
            raise ValueError(f"adversary.attack.target: worker {target} is not in 0..{m - 1}")
        return tile(view.honest[target], view)
    mask = view.honest_mask
    ids = np.flatnonzero(mask) if mask.any() else np.arange(m)
    rows = view.honest[ids]
    dist = np.linalg.norm(rows - rows.mean(axis=0), axis=1)
    return tile(rows[int(np.argmax(dist))], view)
