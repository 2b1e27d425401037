"""The held-out metrics ``replay --verify`` recomputes: ``test_loss`` and ``test_accuracy``.

A run on a real data set with a test split logs them at θ₀ (``run_start``), after every
update and at the end (``run_end``). The verifier rebuilds the problem from the header's
scenario and seed (the data set is re-read and must have the recorded digest) and
recomputes them at every recorded θ_t. A log of a problem without a test split must
carry none.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bgdsim.engine.world import build_problem
from bgdsim.problems import Problem
from bgdsim.replay._arrivals import Mismatch
from bgdsim.replay.reader import Log
from bgdsim.rng import Streams

__all__ = ["KEYS", "HeldOut"]

KEYS = ("test_loss", "test_accuracy")


class HeldOut:
    """Recomputes a log's held-out metrics (or checks there are none)."""

    def __init__(self, log: Log) -> None:
        self.problem: Problem | None = None
        self.last: dict[str, float] = {}
        head = log.header
        data = head.get("data")
        if not isinstance(data, dict) or not data.get("test"):
            self.check(None, head, "run_start")
            return
        sc = log.scenario()
        self.problem = build_problem(sc, Streams(int(head["seed"])))
        rebuilt = self.problem.describe().get("digest")
        if rebuilt != data.get("digest"):
            raise Mismatch("data", f"the data set {data.get('dataset')!r} read now (digest "
                           f"{rebuilt}) is not the run's ({data.get('digest')})")  # fmt: skip
        self.check(log.payload(head["theta"]), head, "run_start")

    def check(self, theta: np.ndarray | None, e: dict[str, Any], where: str) -> None:
        """The metrics recorded in ``e`` are those at θ (``theta`` None: there are none)."""
        want = {} if theta is None or self.problem is None else self.problem.test_metrics(theta)
        got = {k: e[k] for k in KEYS if k in e}
        if set(got) != set(want):
            raise Mismatch(f"{where} metrics", f"recorded {sorted(got) or 'none'}, the problem "
                           f"has {sorted(want) or 'none (no test split)'}")  # fmt: skip
        for key, value in want.items():
            if not math.isclose(float(got[key]), value, rel_tol=1e-12, abs_tol=1e-15):
                raise Mismatch(key, f"recorded {got[key]}, recomputed {value}")
        self.last = want

    def final(self, e: dict[str, Any]) -> None:
        """``run_end`` repeats the last round's metrics."""
        got = {k: e[k] for k in KEYS if k in e}
        if got != self.last:
            raise Mismatch("run_end metrics", f"recorded {got}, the last round's {self.last}")
