"""The outcome of one run, whatever runtime produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RunResult"]


@dataclass
class RunResult:
    """A finished run.

    Attributes:
        name, seed: the scenario's.
        rounds: rounds completed (the scenario's ``rounds`` unless the run diverged).
        errors: ``(rounds + 1,)`` array, ‖θ_t − θ*‖ for t = 0..rounds.
        thetas: ``(rounds + 1, d)`` iterates θ_0..θ_rounds.
        theta_star: θ*.
        floor: the paper's statistical error scale √(dk/N) for this scenario's rule.
        k: the k in ``floor``: the aggregator's ``batches`` for rules that batch, m for ``geomed``,
            1 for the others (see :func:`bgdsim.theory.rule_batches`).
        sim_time: simulated seconds from the start to the end of the run (the
            ``run_end`` event's ``time``).
        status: ``"completed"`` or ``"diverged"`` (θ stopped being finite).
        counts: message totals (sent / delivered / dropped / late / rejected, per
            direction), how often the barrier fired for each reason, skipped aggregations.
        per_worker: the same message counts per worker, ``(m,)`` arrays.
        log_path: the event log, or None if the run was not logged.
        wall_seconds: wall-clock duration (not part of the log).
        metrics: with a held-out test split, ``test_loss`` (and ``test_accuracy`` for
            classification) at θ_0..θ_rounds, ``(rounds + 1,)`` arrays; else empty.
    """

    name: str
    seed: int
    rounds: int
    errors: np.ndarray
    thetas: np.ndarray
    theta_star: np.ndarray
    floor: float
    k: int = 1
    sim_time: float = 0.0
    status: str = "completed"
    counts: dict[str, int] = field(default_factory=dict)
    per_worker: dict[str, np.ndarray] = field(default_factory=dict)
    log_path: Path | None = None
    wall_seconds: float = 0.0
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def final_error(self) -> float:
        """‖θ_T − θ*‖ after the last completed round."""
        return float(self.errors[-1])

    def summary(self) -> dict[str, Any]:
        """The JSON summary printed by ``bgdsim run --json``."""
        return {
            "name": self.name,
            "seed": self.seed,
            "rounds": self.rounds,
            "errors": [float(e) for e in self.errors],
            "final_error": self.final_error,
            "floor": self.floor,
            "k": self.k,
            "sim_time": self.sim_time,
            "status": self.status,
            "counts": dict(self.counts),
            "log": str(self.log_path) if self.log_path is not None else None,
            "wall_seconds": self.wall_seconds,
            **{key: float(values[-1]) for key, values in self.metrics.items()},
        }
