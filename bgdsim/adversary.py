"""Who is Byzantine in round t, and what the Byzantine workers send.

The paper's adversary may corrupt a *different* set B_t of at most q machines every round
(Chen, Su, Xu 2017, §1.2), choosing it with complete knowledge: all data, every honest
message of the round, the server's program and its random bits. A :class:`Schedule` is
built once per run from (m, q, its random stream, the server's k, its parameters) and
picks B_t each round from the round's :class:`~bgdsim.attacks.AdversaryView`; the
:class:`Adversary` then asks the attack for B_t's messages and assembles what every worker
sends. |B_t| ≤ q is asserted every round; a schedule may use fewer.

==================  =====================================================================
schedule            B_t
==================  =====================================================================
static              one set for the whole run (``workers``, or q drawn once at random)
random              a new uniformly random q-set every round (the paper's adversary)
round_robin         workers (t-1)q, …, tq-1 modulo m: every worker takes its turn
batch_spread        one worker in each of min(q, k) gmom batches, the rest spread again:
                    spoils as many batches as possible
batch_concentrate   whole batches, one after another: spoils as few batches as possible
adaptive            greedy: add the worker whose corruption moves the server's aggregate
                    farthest from the honest mean, q times (uses the attack itself)
scripted            explicit sets per round (``sets``), empty after the list ends
                    unless ``cycle``
==================  =====================================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any, overload

import numpy as np
from pydantic import Field

from bgdsim.aggregators.gmom import batch_bounds
from bgdsim.attacks import AdversaryView, Crafted
from bgdsim.registry import Registry

__all__ = [
    "Adversary",
    "BatchConcentrateSchedule",
    "BatchSpreadSchedule",
    "RandomSchedule",
    "RoundPlan",
    "Schedule",
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


schedules: Registry[type[Schedule]] = Registry("schedule")


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
            self.set = _check_workers(workers, m, q, "adversary.schedule_params.workers")

    def choose(self, round: int, view: AdversaryView) -> np.ndarray:
        return self.set


@schedules.register("random")
class RandomSchedule(Schedule):
    """A new uniformly random set of q workers every round (the paper's adversary)."""

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
        where = "adversary.schedule_params.sets"
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
        if self.craft is None or view.aggregate is None or self.q == 0:
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


# ----------------------------------------------------------------------------- adversary


class Messages(Sequence[np.ndarray | None]):
    """Each worker's message: row j of the round's block unless set otherwise.

    A list of m row views would cost O(m) Python every round; this holds the block and
    the few messages (silence, a malformed message) that are not one of its rows.
    """

    __slots__ = ("block", "other")

    def __init__(self, block: np.ndarray) -> None:
        self.block = block
        self.other: dict[int, np.ndarray | None] = {}

    def __len__(self) -> int:
        return int(self.block.shape[0])

    @overload
    def __getitem__(self, j: int) -> np.ndarray | None: ...
    @overload
    def __getitem__(self, j: slice) -> list[np.ndarray | None]: ...
    def __getitem__(self, j: int | slice) -> Any:
        if isinstance(j, slice):
            return [self[i] for i in range(len(self))[j]]
        if j in self.other:
            return self.other[j]
        if not -len(self) <= j < len(self):
            raise IndexError(j)
        return self.block[j]

    def __setitem__(self, j: int, message: np.ndarray | None) -> None:
        self.other[j] = message


@dataclass
class RoundPlan:
    """What every worker sends in one round.

    Attributes:
        byzantine: B_t.
        block: ``(m, d)``: row j is worker j's report whenever that is a well-formed
            float vector (honest rows are the honest gradients).
        outgoing: per worker, the message (a view of ``block``'s row, another array for a
            malformed one), or None for silence.
        loose: the workers whose message is not a row of ``block``.
        delays: ``(m,)`` extra seconds each worker waits before sending (0 if honest).
    """

    byzantine: np.ndarray
    block: np.ndarray
    outgoing: Messages
    loose: set[int]
    delays: np.ndarray

    def as_received(self) -> np.ndarray:
        """The ``(m, d)`` matrix a server would aggregate if every message arrived on time
        and the silent or malformed ones counted as zero (the ``zero`` policy)."""
        x = self.block.copy()
        for j in self.loose:
            x[j] = 0.0
        for j in self.byzantine.tolist():
            if self.outgoing[j] is None:
                x[j] = 0.0
        return x


class Adversary:
    """The omniscient, colluding adversary: a schedule and an attack.

    Args:
        schedule: picks B_t.
        attack: writes B_t's messages (``bgdsim.attacks``).
        params: the attack's validated parameters.
        q: the bound on |B_t|.
        rng: the attack's random stream.
    """

    def __init__(
        self,
        schedule: Schedule,
        attack: Callable[..., Any],
        params: dict[str, Any],
        q: int,
        rng: np.random.Generator,
    ) -> None:
        self.schedule = schedule
        self.attack = attack
        self.params = params
        self.q = q
        self.rng = rng
        if isinstance(schedule, AdaptiveSchedule):
            schedule.craft = self._craft_trial

    def act(self, view: AdversaryView, forced: list[int] | None = None) -> RoundPlan:
        """Choose B_t from ``view`` (whose ``byzantine`` is ignored) and craft the round.

        ``forced`` workers (a ``byzantine`` fault) are in B_t whatever the schedule says;
        the schedule's choice fills the rest, in its order, up to q.
        """
        byz = np.asarray(self.schedule.choose(view.round, view), dtype=np.int64)
        if forced:
            extra = [j for j in byz.tolist() if j not in forced]
            byz = np.asarray(forced + extra[: max(self.q - len(forced), 0)], dtype=np.int64)
        if byz.size > self.q or np.unique(byz).size != byz.size:
            raise RuntimeError(f"schedule returned {byz.tolist()}: more than q={self.q} or repeats")
        if byz.size and not (byz.min() >= 0 and byz.max() < view.m):
            raise RuntimeError(f"schedule returned {byz.tolist()}: not workers 0..{view.m - 1}")
        return self.craft(view.with_byzantine(np.sort(byz)), self.rng)

    def _craft_trial(self, view: AdversaryView) -> RoundPlan:
        # the adaptive schedule's look-ahead draws from a generator seeded from the
        # schedule's own stream: trials never shift the attack's stream
        seed = int(self.schedule.rng.integers(2**63))
        return self.craft(view, np.random.Generator(np.random.PCG64(seed)))

    def craft(self, view: AdversaryView, rng: np.random.Generator) -> RoundPlan:
        m, d = view.m, view.dim
        block = view.honest.copy()
        outgoing = Messages(block)
        loose: set[int] = set()
        delays = np.zeros(m)
        byz = view.byzantine
        if byz.size:
            with np.errstate(all="ignore"):  # an attack may overflow; the server rejects it
                crafted = self.attack(view, rng, **self.params)
            messages = crafted.messages if isinstance(crafted, Crafted) else crafted
            if isinstance(crafted, Crafted) and crafted.delays is not None:
                extra = np.asarray(crafted.delays, dtype=np.float64)
                if extra.shape != (byz.size,) or not np.isfinite(extra).all() or (extra < 0).any():
                    raise RuntimeError("an attack's delays must be finite, >= 0, one per worker")
                delays[byz] = extra
            for i, j in enumerate(byz.tolist()):
                if messages is None:
                    outgoing[j] = None
                    continue
                msg = np.asarray(messages[i])
                if msg.shape == (d,) and msg.dtype == np.float64:
                    block[j] = msg  # outgoing[j] is a view of this row
                else:
                    outgoing[j] = msg
                    loose.add(j)
        return RoundPlan(byz, block, outgoing, loose, delays)
