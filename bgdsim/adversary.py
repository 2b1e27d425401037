"""Who is Byzantine in round t: the adversary's schedules.

The paper's adversary may corrupt a *different* set B_t of at most q machines every round
(Chen, Su, Xu 2017, §1.2), choosing it after seeing the round's honest messages. A
schedule is built once per run from (m, q, its random stream, its parameters) and then
called each round: ``schedule.choose(t, honest)`` returns the sorted indices B_t. The
runtime asserts |B_t| ≤ q; a schedule may use fewer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from bgdsim.registry import Registry

__all__ = ["RandomSchedule", "Schedule", "StaticSchedule", "schedules"]


class Schedule(ABC):
    """Chooses B_t each round."""

    def __init__(self, m: int, q: int, rng: np.random.Generator) -> None:
        self.m, self.q, self.rng = m, q, rng

    @abstractmethod
    def choose(self, round: int, honest: np.ndarray) -> np.ndarray:
        """B_t for round ``round`` given the ``(m, d)`` honest gradients; sorted int indices."""


schedules: Registry[type[Schedule]] = Registry("schedule")


@schedules.register("static")
class StaticSchedule(Schedule):
    """The same set every round: ``workers`` if given, else q workers drawn once at random."""

    def __init__(
        self, m: int, q: int, rng: np.random.Generator, *, workers: list[int] | None = None
    ) -> None:
        super().__init__(m, q, rng)
        if workers is None:
            chosen = rng.choice(m, size=q, replace=False)
        else:
            chosen = np.asarray(workers, dtype=np.int64)
            if len(set(workers)) != len(workers):
                raise ValueError("adversary.schedule_params.workers: duplicate worker ids")
            if len(workers) > q:
                raise ValueError(
                    f"adversary.schedule_params.workers: {len(workers)} workers but "
                    f"cluster.byzantine (q) is {q}"
                )
            bad = [w for w in workers if not 0 <= w < m]
            if bad:
                raise ValueError(
                    f"adversary.schedule_params.workers: worker {bad[0]} is not in 0..{m - 1}"
                )
        self.set = np.sort(chosen).astype(np.int64)

    def choose(self, round: int, honest: np.ndarray) -> np.ndarray:
        return self.set


@schedules.register("random")
class RandomSchedule(Schedule):
    """A new uniformly random set of q workers every round (the paper's adversary)."""

    def choose(self, round: int, honest: np.ndarray) -> np.ndarray:
        return np.sort(self.rng.choice(self.m, size=self.q, replace=False)).astype(np.int64)
