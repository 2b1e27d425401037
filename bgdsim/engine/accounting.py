"""Per-worker message counts, both directions, and how each round's barrier fired."""

from __future__ import annotations

import numpy as np

__all__ = ["Accounting"]


class Accounting:
    """Counts kept by the round engine for the summary and the ``run_end`` line."""

    KEYS = (
        "down_sent",
        "down_delivered",
        "down_dropped",
        "up_sent",
        "up_delivered",
        "up_dropped",
        "up_late",
        "up_rejected",
    )

    def __init__(self, m: int) -> None:
        self.per_worker: dict[str, np.ndarray] = {
            key: np.zeros(m, dtype=np.int64) for key in self.KEYS
        }
        self.barrier = {"all": 0, "quorum": 0, "timeout": 0}
        self.aggregate_skipped = 0

    def add(self, key: str, workers: list[int] | np.ndarray | int) -> None:
        """Count one message for each of ``workers`` (distinct) under ``key``."""
        counts = self.per_worker[key]
        if isinstance(workers, list) and len(workers) < 16:  # cheaper than fancy indexing
            for j in workers:
                counts[j] += 1
        else:
            counts[workers] += 1

    def totals(self) -> dict[str, int]:
        """Totals over the workers, plus barrier reasons and skipped aggregations."""
        out = {key: int(counts.sum()) for key, counts in self.per_worker.items()}
        out.update({f"barrier_{reason}": n for reason, n in self.barrier.items()})
        out["aggregate_skipped"] = self.aggregate_skipped
        out["up_in_flight"] = out["up_sent"] - out["up_dropped"] - out["up_delivered"]
        out["up_in_flight"] -= out["up_late"] + out["up_rejected"]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-worker counts as ``(m,)`` arrays (copies)."""
        return {key: counts.copy() for key, counts in self.per_worker.items()}
