"""A logged run's world, as the round engine's :class:`~bgdsim.engine.world.RecordedWorld`
asks for it: the recorded Byzantine sets, every link's latency and loss, the workers'
send times, per complete round.

Times are replayed relative to each round's start, so a server with another timeout or
barrier sees every message sent and arriving the same number of seconds after its
broadcast (and at exactly the recorded instants while the rounds start as they did).
Reading a log into a :class:`Recording` is :func:`bgdsim.replay.read_recording`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import adversary
from bgdsim.attacks import AdversaryView
from bgdsim.network.links import UpLinks

__all__ = ["RecordedAdversary", "RecordedNetwork", "Recording", "RoundRecord"]


@dataclass
class RoundRecord:
    """What the world did in one round of a log."""

    byzantine: list[int] = field(default_factory=list)
    lat_down: np.ndarray | None = None
    down_reason: dict[int, str] = field(default_factory=dict)
    start: float = 0.0
    send_time: dict[int, float] = field(default_factory=dict)  # as recorded
    lat_up: dict[int, float] = field(default_factory=dict)
    up_reason: dict[int, str] = field(default_factory=dict)


@dataclass
class Recording:
    """What the world did in each complete round of a log."""

    path: Path
    digest: str
    rounds: dict[int, RoundRecord]
    network: dict[str, Any] = field(default_factory=dict)  # the parent header's description


class RecordedNetwork:
    """The :class:`~bgdsim.network.links.Network` interface, answered from a recording."""

    def __init__(self, recording: Recording, m: int) -> None:
        self.rec = recording
        self.m = m
        self._t = 0

    def _round(self, t: int) -> RoundRecord:
        try:
            return self.rec.rounds[t]
        except KeyError:
            raise RuntimeError(f"the parent log has no complete round {t}") from None

    def broadcast(self, t: int, start: float) -> tuple[np.ndarray, list[str | None]]:
        self._t = t
        r = self._round(t)
        assert r.lat_down is not None
        reasons: list[str | None] = [r.down_reason.get(j) for j in range(self.m)]
        return np.array(r.lat_down), reasons

    def compute_times(self) -> np.ndarray:
        return np.zeros(self.m)  # in the recorded send times

    def send_times(
        self, t: int, start: float, lat_down: np.ndarray, compute: np.ndarray, delays: np.ndarray
    ) -> np.ndarray:
        """The recorded send times, shifted to this round's start (exact when unshifted)."""
        r = self._round(t)
        out = np.full(self.m, np.inf)
        for j, s in r.send_time.items():
            out[j] = s if start == r.start else start + (s - r.start)
        return out

    def draw_up_latencies(self) -> np.ndarray:
        r = self._round(self._t)
        return np.array([r.lat_up.get(j, 0.0) for j in range(self.m)])

    def up_latencies_seen(self, t: int, times: np.ndarray, latency: np.ndarray) -> np.ndarray:
        return latency.copy()  # recorded as the reports saw them

    def reports(
        self, t: int, send_times: np.ndarray, willing: np.ndarray, latency: np.ndarray
    ) -> UpLinks:
        r = self._round(t)
        sends = np.zeros(self.m, dtype=bool)
        sends[list(r.send_time)] = True
        reason: list[str | None] = [r.up_reason.get(j) for j in range(self.m)]
        return UpLinks(latency.copy(), reason, sends & willing)

    def describe(self) -> dict[str, Any]:
        return self.rec.network


class RecordedAdversary(adversary.Adversary):
    """The recorded Byzantine sets; the attack re-run on the new round's view.

    The attack draws from its own stream exactly as in the parent run, so random attacks
    make the same draws; its timing (``Crafted.delays``) is already in the recorded send
    offsets and is not applied twice.
    """

    def __init__(self, recording: Recording, base: adversary.Adversary) -> None:
        super().__init__(base.schedule, base.attack, base.params, base.q, base.rng)
        self.rec = recording

    def act(self, view: AdversaryView, forced: list[int] | None = None) -> adversary.RoundPlan:
        byz = np.asarray(self.rec.rounds[view.round].byzantine, dtype=np.int64)
        plan = self.craft(view.with_byzantine(byz), self.rng)
        plan.delays[:] = 0.0
        return plan
