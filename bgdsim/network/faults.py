"""Scripted faults: crashes, partitions, degraded links, forced Byzantine workers, pauses.

A scenario lists faults as ``[[faults]]`` tables (or builds them in Python with
:func:`crash`, :func:`partition`, :func:`degrade`, :func:`byzantine`, :func:`server_pause`).
Each fault has a ``kind``, the ``workers`` (or, for a crash, ``relays``) it hits, and an
interval ``[from, until)`` in rounds (``unit = "round"``, the default) or simulated seconds
(``unit = "seconds"``); ``until`` unset means "to the end of the run".

=============  ===========================================================================
kind           effect while active
=============  ===========================================================================
crash          the workers neither receive nor send (a crashed relay cuts every worker
               below it); they resume after ``until``
partition      every message to or from the workers is lost, both directions
degrade        the workers' links: latency × ``factor``, loss probability + ``drop``
byzantine      the workers are Byzantine in those rounds, whatever the schedule says
               (the schedule fills the rest of B_t, |B_t| ≤ q always); rounds only
server_pause   the server starts no round: a round due in ``[from, until)`` starts at
               ``until``; seconds only
=============  ===========================================================================

A round-unit fault is active in rounds t with from ≤ t < until; a seconds-unit fault at
simulated times from ≤ s < until, judged when the message is sent (a crash: also when a
broadcast arrives). Every fault's start and end are log events (``fault_start``,
``fault_end``) at the simulated time they take effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from bgdsim._section import Section

__all__ = [
    "Fault",
    "FaultSchedule",
    "byzantine",
    "check_faults",
    "crash",
    "degrade",
    "partition",
    "server_pause",
]

Kind = Literal["crash", "partition", "degrade", "byzantine", "server_pause"]


class Fault(Section):
    """One ``[[faults]]`` entry."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, validate_default=True, populate_by_name=True
    )

    kind: Kind
    workers: list[int] = Field(default_factory=list, description="the workers it hits")
    relays: list[str] = Field(default_factory=list, description="crash only: relays it cuts")
    from_: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(0.0, alias="from")
    until: Annotated[float, Field(gt=0)] | None = Field(None, description="unset: to the end")
    unit: Literal["round", "seconds"] = "round"
    factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    drop: Annotated[float, Field(ge=0, le=1)] = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> Fault:
        if self.until is not None and self.until <= self.from_:
            raise ValueError(f"until: {self.until:g} is not after from ({self.from_:g})")
        if self.unit == "round" and (
            self.from_ != int(self.from_)
            or (self.until is not None and self.until != int(self.until))
        ):
            raise ValueError('from: rounds are whole numbers (or set unit = "seconds")')
        if self.kind == "byzantine" and self.unit != "round":
            raise ValueError('unit: a byzantine fault is given in rounds (unit = "round")')
        if self.kind == "server_pause" and self.unit != "seconds":
            raise ValueError('unit: a server_pause is given in seconds (unit = "seconds")')
        if self.kind == "server_pause" and (self.workers or self.relays):
            raise ValueError("workers: a server_pause hits the server, not workers")
        if self.kind != "server_pause" and not self.workers and not self.relays:
            raise ValueError("workers: a fault needs at least one worker (or relay)")
        if self.relays and self.kind != "crash":
            raise ValueError("relays: only a crash can hit relays")
        if self.kind != "degrade" and (self.factor != 1.0 or self.drop != 0.0):
            raise ValueError("factor: only a degrade fault takes factor and drop")
        if len(set(self.workers)) != len(self.workers):
            raise ValueError("workers: duplicate worker ids")
        return self

    def active_round(self, t: int) -> bool:
        """Active in round t (round-unit faults)."""
        return self.unit == "round" and self.from_ <= t and (self.until is None or t < self.until)

    def active_at(self, s: float) -> bool:
        """Active at simulated time s (seconds-unit faults)."""
        return self.unit == "seconds" and self.from_ <= s and (self.until is None or s < self.until)

    def hits(self, t: int, workers: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Which of ``workers`` it hits in round t, each judged at its own time in ``times``."""
        if self.active_round(t):
            return np.ones(workers.size, dtype=bool)
        if self.unit != "seconds":
            return np.zeros(workers.size, dtype=bool)
        until = np.inf if self.until is None else self.until
        return (times[workers] >= self.from_) & (times[workers] < until)

    def describe(self) -> dict[str, Any]:
        """The fields a log event carries."""
        out: dict[str, Any] = {"kind": self.kind, "unit": self.unit, "from": self.from_}
        out["until"] = self.until
        if self.workers:
            out["workers"] = sorted(self.workers)
        if self.relays:
            out["relays"] = sorted(self.relays)
        if self.kind == "degrade":
            out["factor"], out["drop"] = self.factor, self.drop
        return out


def _fault(
    kind: Kind, workers: Iterable[int], start: float, until: float | None, unit: str, **extra: Any
) -> Fault:
    return Fault.model_validate(
        {"kind": kind, "workers": list(workers), "from": start, "until": until, "unit": unit,
         **extra}
    )  # fmt: skip


def crash(
    workers: Iterable[int] = (),
    start: float = 0,
    until: float | None = None,
    *,
    unit: str = "round",
    relays: Iterable[str] = (),
) -> Fault:
    """Workers (or relays) that stop in ``[start, until)`` and resume after."""
    return _fault("crash", workers, start, until, unit, relays=list(relays))


def partition(
    workers: Iterable[int], start: float = 0, until: float | None = None, *, unit: str = "round"
) -> Fault:
    """Workers cut off from the server in both directions in ``[start, until)``."""
    return _fault("partition", workers, start, until, unit)


def degrade(
    workers: Iterable[int],
    start: float = 0,
    until: float | None = None,
    *,
    factor: float = 1.0,
    drop: float = 0.0,
    unit: str = "round",
) -> Fault:
    """The workers' links slow down (latency × factor) and lose more: each message is also
    dropped with probability ``drop``, independently of the link's own loss."""
    return _fault("degrade", workers, start, until, unit, factor=factor, drop=drop)


def byzantine(workers: Iterable[int], start: float = 1, until: float | None = None) -> Fault:
    """Force the workers Byzantine in rounds ``[start, until)``."""
    return _fault("byzantine", workers, start, until, "round")


def server_pause(start: float, until: float) -> Fault:
    """The server starts no round between ``start`` and ``until`` seconds."""
    return _fault("server_pause", (), start, until, "seconds")


def check_faults(faults: list[Fault], m: int, q: int, relays: set[str] | None = None) -> None:
    """Cross-checks against the cluster: known workers and relays, within q, no overlaps.

    Raises ``ValueError`` naming ``faults[i]`` and the field.
    """
    for i, f in enumerate(faults):
        bad = [w for w in f.workers if not 0 <= w < m]
        if bad:
            raise ValueError(f"faults[{i}].workers: worker {bad[0]} is not in 0..{m - 1}")
        if f.relays:
            unknown = sorted(set(f.relays) - (relays or set()))
            if unknown:
                have = ", ".join(sorted(relays or ())) or "none (the topology has no relays)"
                raise ValueError(
                    f"faults[{i}].relays: unknown relay '{unknown[0]}'; relays: {have}"
                )
        if f.kind == "byzantine" and len(f.workers) > q:
            raise ValueError(
                f"faults[{i}].workers: {len(f.workers)} forced Byzantine workers but "
                f"cluster.byzantine (q) is {q}"
            )
    for i, a in enumerate(faults):
        for j in range(i):
            b = faults[j]
            if a.kind != b.kind or a.unit != b.unit:
                continue
            shared = (set(a.workers) & set(b.workers)) | (set(a.relays) & set(b.relays))
            if a.kind == "server_pause":
                shared = {"server"}
            if shared and _overlap(a, b):
                who = sorted(map(str, shared))[0]
                raise ValueError(
                    f"faults[{i}]: overlaps faults[{j}] ({a.kind} of {who} in "
                    f"[{b.from_:g}, {_end(b)}) and [{a.from_:g}, {_end(a)}))"
                )
    if sum(1 for f in faults if f.kind == "byzantine") and q == 0:
        raise ValueError("faults: a byzantine fault needs cluster.byzantine >= 1")
    _check_forced_at_once(faults, q)


def _check_forced_at_once(faults: list[Fault], q: int) -> None:
    """At no time may byzantine faults (of one unit) force more than q workers together:
    the sets only grow where a fault starts, so those instants are the ones to check."""
    forced = [(i, f) for i, f in enumerate(faults) if f.kind == "byzantine"]
    for i, a in forced:
        active = [
            (j, b)
            for j, b in forced
            if b.unit == a.unit and b.from_ <= a.from_ and (b.until is None or a.from_ < b.until)
        ]
        workers = set().union(*(set(b.workers) for _, b in active))
        if len(workers) > q:
            which = ", ".join(f"faults[{j}]" for j, _ in active)
            raise ValueError(
                f"faults[{i}]: with {which} it forces {len(workers)} workers Byzantine from "
                f"round {a.from_:g} on, but cluster.byzantine (q) is {q}"
            )


def _end(f: Fault) -> str:
    return "end" if f.until is None else f"{f.until:g}"


def _overlap(a: Fault, b: Fault) -> bool:
    a_end = np.inf if a.until is None else a.until
    b_end = np.inf if b.until is None else b.until
    return a.from_ < b_end and b.from_ < a_end


class FaultSchedule:
    """Queries over a run's faults, by round and by simulated time."""

    def __init__(self, faults: list[Fault], m: int) -> None:
        self.faults = faults
        self.m = m
        self.timed = [f for f in faults if f.unit == "seconds"]

    def masks_at(self, kind: str, t: int, times: np.ndarray) -> np.ndarray:
        """Workers hit by ``kind`` in round t at their own times ``times`` (m,)."""
        mask = np.zeros(self.m, dtype=bool)
        for f in self.faults:
            if f.kind == kind and f.workers:
                w = np.asarray(f.workers)
                mask[w] |= f.hits(t, w, times)
        return mask

    def degrade_at(self, t: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per worker: latency factor and extra drop probability at their own times."""
        factor, drop = np.ones(self.m), np.zeros(self.m)
        for f in self.faults:
            if f.kind != "degrade":
                continue
            w = np.asarray(f.workers)
            hit = f.hits(t, w, times)
            factor[w[hit]] *= f.factor
            drop[w[hit]] = 1 - (1 - drop[w[hit]]) * (1 - f.drop)
        return factor, drop

    def forced_byzantine(self, t: int) -> list[int]:
        """Workers forced Byzantine in round t."""
        return sorted({w for f in self.faults if f.kind == "byzantine" and f.active_round(t)
                       for w in f.workers})  # fmt: skip

    def pause_end(self, s: float) -> float:
        """When a round due at time s may start (s itself unless the server is paused)."""
        for f in self.faults:
            if f.kind == "server_pause" and f.active_at(s):
                return float(f.until if f.until is not None else np.inf)
        return s

    def round_events(self, t: int) -> tuple[list[Fault], list[Fault]]:
        """Round-unit faults starting and ending at round t (one from round 0, the
        default, starts with the first round, 1)."""
        starts = [
            f
            for f in self.faults
            if f.unit == "round" and max(f.from_, 1) == t and (f.until is None or f.until > t)
        ]
        ends = [f for f in self.faults if f.unit == "round" and f.until == t]
        return starts, ends
