"""Byzantine-set schedules: :class:`Schedule`, the ``schedules`` registry, each schedule.

A schedule is built once per run from (m, q, its random stream, the server's k, its
parameters) and picks B_t, at most q workers, each round from the round's
:class:`~bgdsim.attacks.AdversaryView` (the table of schedules is in
:mod:`bgdsim.adversary`). The registry is what ``adversary.schedule`` names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from bgdsim.aggregators.gmom import batch_bounds
from bgdsim.attacks import AdversaryView
from bgdsim.registry import GROUPS, Registry

if TYPE_CHECKING:
    from bgdsim.adversary.plan import RoundPlan

__all__ = [
    "AdaptiveSchedule",
    "BatchConcentrateSchedule",
    "BatchSpreadSchedule",
    "RandomSchedule",
    "RoundRobinSchedule",
    "Schedule",
    "ScriptedSchedule",
    "StaticSchedule",
    "schedules",
]


class Schedule(ABC):
    """Chooses B_t each round.

    Args:
        m: the number of workers.
        q: the bound on |B_t|.
        rng: the schedule's own random stream.
        batches: the server's k (schedules that aim at gmom's batches use it).
    """

    def __init__(self, m: int, q: int, rng: np.random.Generator, batches: int = 1) -> None:
        self.m, self.q, self.rng, self.batches = m, q, rng, batches

    @abstractmethod
    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        """B_t for round ``round`` (1-based), sorted int indices, at most q of them."""


schedules: Registry[type[Schedule]] = Registry("schedule", GROUPS["schedule"])


def _check_workers(workers: list[int], m: int, q: int, where: str) -> np.ndarray:
    if len(set(workers)) != len(workers):
        raise ValueError(f"{where}: duplicate worker ids")
    if len(workers) > q:
        raise ValueError(f"{where}: {len(workers)} workers but cluster.byzantine (q) is {q}")
    bad = [w for w in workers if not 0 <= w < m]
    if bad:
        raise ValueError(f"{where}: worker {bad[0]} is not in 0..{m - 1}")
    return np.sort(np.asarray(workers, dtype=np.int64))


@schedules.register("static")
class StaticSchedule(Schedule):
    """The same set every round: ``workers`` if given, else q workers drawn once at random."""

    def __init__(
        self,
        m: int,
        q: int,
        rng: np.random.Generator,
        batches: int = 1,
        *,
        workers: list[int] | None = None,
    ) -> None:
        super().__init__(m, q, rng, batches)
        if workers is None:
            self.set = np.sort(rng.choice(m, size=q, replace=False)).astype(np.int64)
        else:
            self.set = _check_workers(workers, m, q, "adversary.schedule.workers")

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        return self.set


@schedules.register("random")
class RandomSchedule(Schedule):
    """A new uniformly random set of q workers every round.

    A special case of the paper's adversary, which picks B_t *worst-case* with full
    knowledge (§1.2): a uniformly random set is a weak one. ``batch_spread`` (the worst
    placement of Theorem 1's counting) and ``adaptive`` are the strong schedules.
    """

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        return np.sort(self.rng.choice(self.m, size=self.q, replace=False)).astype(np.int64)


@schedules.register("round_robin")
class RoundRobinSchedule(Schedule):
    """Workers (t−1)q, …, tq−1 (mod m) in round t: every worker is Byzantine in turn."""

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        start = (round - 1) * self.q
        return np.unique(np.arange(start, start + self.q) % self.m)


def _batch_members(m: int, k: int, order: np.ndarray | None) -> list[np.ndarray]:
    """The workers in each of the server's k batches this round."""
    starts = [*batch_bounds(m, k).tolist(), m]
    layout = np.arange(m) if order is None else np.asarray(order)
    return [layout[a:b] for a, b in pairwise(starts)]


@schedules.register("batch_spread")
class BatchSpreadSchedule(Schedule):
    """One Byzantine worker in each of min(q, k) of gmom's batches.

    Spoils as many batches as q allows — the worst case of Theorem 1's counting, where a
    batch is bad as soon as it holds one Byzantine report. Which member of a batch (and,
    when q < k, which batches) is drawn at random each round; with q > k the surplus goes
    round the batches again. Batches are the server's actual ones this round (its
    re-batching permutation, if any, is in the view).
    """

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        members = _batch_members(self.m, self.batches, view.batch_order)
        order = self.rng.permutation(len(members))
        pools = [self.rng.permutation(members[b]).tolist() for b in order]
        chosen: list[int] = []
        while len(chosen) < min(self.q, self.m):
            for pool in pools:
                if pool and len(chosen) < self.q:
                    chosen.append(pool.pop())
        return np.sort(np.asarray(chosen, dtype=np.int64))


@schedules.register("batch_concentrate")
class BatchConcentrateSchedule(Schedule):
    """Fill whole batches first: spoils ⌈q/b⌉ batches only (the benign placement)."""

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        members = _batch_members(self.m, self.batches, view.batch_order)
        chosen: list[int] = []
        for b in self.rng.permutation(len(members)):
            chosen.extend(members[b].tolist()[: self.q - len(chosen)])
            if len(chosen) >= self.q:
                break
        return np.sort(np.asarray(chosen, dtype=np.int64))


@schedules.register("scripted")
class ScriptedSchedule(Schedule):
    """Explicit sets: ``sets[t-1]`` in round t; after the list, none (or repeat, ``cycle``)."""

    def __init__(
        self,
        m: int,
        q: int,
        rng: np.random.Generator,
        batches: int = 1,
        *,
        sets: list[list[int]],
        cycle: bool = False,
    ) -> None:
        super().__init__(m, q, rng, batches)
        where = "adversary.schedule.sets"
        self.sets = [_check_workers(s, m, q, f"{where}[{i}]") for i, s in enumerate(sets)]
        self.cycle = cycle
        if cycle and not self.sets:
            raise ValueError(f"{where}: cycle needs at least one set")

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        i = round - 1
        if self.cycle:
            return self.sets[i % len(self.sets)]
        return self.sets[i] if i < len(self.sets) else np.zeros(0, dtype=np.int64)


@schedules.register("adaptive")
class AdaptiveSchedule(Schedule):
    """Greedy: grow B_t one worker at a time, each time adding the worker whose corruption
    moves the server's aggregate farthest from the honest mean.

    Needs the attack (to know what a corrupted worker would send) and the server's rule,
    both in the omniscient view; ``candidates`` workers (drawn at random each round, all
    if ≥ m) are tried at each step, so a round costs about q × candidates aggregations.
    """

    def __init__(
        self,
        m: int,
        q: int,
        rng: np.random.Generator,
        batches: int = 1,
        *,
        candidates: Annotated[int, Field(ge=1)] = 16,
    ) -> None:
        super().__init__(m, q, rng, batches)
        self.candidates = candidates
        self.craft: Callable[[AdversaryView], RoundPlan] | None = None

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        if self.q == 0:  # nobody to place
            return np.zeros(0, dtype=np.int64)
        if self.craft is None or view.aggregate is None:
            raise RuntimeError("the adaptive schedule needs the attack and the server's rule")
        target = view.honest.mean(axis=0)
        chosen: list[int] = []
        for _ in range(self.q):
            pool = np.setdiff1d(np.arange(self.m), chosen)
            if pool.size > self.candidates:
                pool = self.rng.choice(pool, size=self.candidates, replace=False)
            best, best_dev = -1, -1.0
            for j in np.sort(pool).tolist():
                trial = view.with_byzantine(np.sort(np.asarray([*chosen, j])))
                plan = self.craft(trial)
                agg = view.server_aggregate(plan.as_received())
                dev = float(np.linalg.norm(agg - target))
                if dev > best_dev:
                    best, best_dev = j, dev
            chosen.append(best)
        return np.sort(np.asarray(chosen, dtype=np.int64))
