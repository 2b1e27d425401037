"""A round's recorded outcome against the recomputed one: aggregate, state, update.

The verifier recomputes a round with the engine's :class:`~bgdsim.engine.ServerCore`;
these checks compare what the log says with what that gives, bit for bit — the
aggregate, the new state of a rule with history (the ``state`` payload of ``aggregate``,
present exactly when the rule keeps one), θ_t, the step size η_t and the error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.engine import RoundResult
from bgdsim.problems import safe_norm
from bgdsim.replay._arrivals import Mismatch
from bgdsim.replay.reader import Log, same_vector

__all__ = ["check_aggregate", "check_update"]


def _differs(what: str, recomputed: np.ndarray, logged: np.ndarray, detail: str) -> Mismatch:
    delta = float(np.max(np.abs(recomputed - logged)))
    return Mismatch(what, f"{detail} (max |Δ| = {delta:.3g})")


def check_aggregate(log: Log, kind: str, e: dict[str, Any], res: RoundResult) -> None:
    """An ``aggregate`` or ``aggregate_skipped`` line against the recomputed close."""
    if kind == ev.AGGREGATE_SKIPPED:
        if res.skipped is None:
            raise Mismatch("aggregate", "recorded a skipped step, recomputed an aggregate")
        return
    if res.skipped is not None:
        raise Mismatch("aggregate", f"recorded an aggregate, recomputed: {res.skipped}")
    logged = log.payload(e["payload"])
    if not same_vector(res.aggregate, logged):
        raise _differs("aggregate", res.aggregate, logged, "differs from the recomputed one")
    ref = e.get("state")
    if res.state is None:
        if ref is not None:
            raise Mismatch("state", "recorded a rule state, but the rule keeps none")
        return
    if ref is None:
        raise Mismatch("state", "the rule's state is not recorded")
    state = log.payload(ref)
    if not same_vector(res.state, state):
        raise _differs("state", res.state, state, "differs from the recomputed one")


def check_update(log: Log, e: dict[str, Any], res: RoundResult, t: int) -> None:
    """An ``update`` line: θ_t = θ_{t−1} − η_t·aggregate, η_t and ‖θ_t − θ*‖."""
    logged = log.payload(e["theta"])
    if not same_vector(res.theta, logged):
        raise _differs("theta", res.theta, logged, f"differs from θ_{t - 1} − η·aggregate")
    if float(e["step_size"]) != res.step_size:
        raise Mismatch(
            "step_size", f"recorded {e['step_size']}, recomputed η_{t} = {res.step_size}"
        )
    star = log.payload(log.header["theta_star"])
    err = safe_norm(res.theta - star)
    if not math.isclose(err, float(e["error"]), rel_tol=1e-12, abs_tol=0.0):
        raise Mismatch("error", f"recorded {e['error']}, recomputed {err}")
