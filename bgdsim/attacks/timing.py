"""Timing: honest-looking reports that land just after the barrier, or just before it.

An adversary that sees the link model (this round's latencies) need not forge a vector to
hurt: a report that lands just after the barrier is *missing*, and the server's policy
decides what stands in for it (``zero``: a zero vector; ``stale``: an old report); a
report that lands just before the timeout holds the barrier open as long as possible.
The attack lies about nothing but when it speaks.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView, Crafted, register


@register("timing")
def timing(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    when: Literal["after", "before"] = "after",
    margin: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1e-3,
) -> Crafted:
    """Each Byzantine worker sends its honest gradient, timed to arrive at
    ``round_timeout + margin`` (``after``: late, so missing) or ``round_timeout − margin``
    (``before``: in time, at the last moment) after the broadcast:

        wait_j = max(0, target − (ℓ↓_j + compute + ℓ↑_j)),

    with ℓ↓_j, ℓ↑_j this round's down- and up-link latencies of worker j (slowed by any
    ``degrade`` fault) and its own compute time. A worker whose
    links are too slow for ``before`` simply sends at once.
    """
    if view.latency_down is None or view.latency_up is None:
        raise ValueError("timing needs the round's link latencies in the adversary's view")
    byz = view.byzantine
    target = view.round_timeout + (margin if when == "after" else -margin)
    compute = view.compute_time if view.compute_times is None else view.compute_times[byz]
    travel = view.latency_down[byz] + compute + view.latency_up[byz]
    return Crafted(view.honest[byz].copy(), np.maximum(0.0, target - travel))
