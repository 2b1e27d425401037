"""Re-run a logged run's faults against another defence.

:func:`rerun` reads a log, keeps everything the *world* did — the Byzantine sets, every
link's latency and loss, the workers' compute times and send offsets, the faults, the
attack's random draws — and lets only the *server* change: its rule, k, step size,
missing-report policy, barrier and timeout. Honest gradients (and the attack's messages,
which depend on them) are recomputed at the new iterates. The new log names its parent.

Times are replayed relative to each round's start, so a server with another timeout or
barrier sees every message sent and arriving the same number of seconds after its
broadcast (and at exactly the recorded instants while the rounds start as they did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import adversary
from bgdsim.attacks import AdversaryView
from bgdsim.config import ScenarioError, apply_overrides, parse_override, validate_scenario
from bgdsim.network.links import UpLinks
from bgdsim.replay import Log, LogError

__all__ = ["CHANGEABLE", "Recording", "rerun"]

#: the keys a re-run may change: the server's side only (and the run's name and length)
CHANGEABLE = (
    "name",
    "rounds",
    "server.aggregator",
    "server.batches",
    "server.step_size",
    "server.missing",
    "server.barrier",
    "server.quorum",
    "server.grace",
    "server.round_timeout",
    "server.params",
    "server.max_norm",
)


@dataclass
class _RoundRecord:
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
    rounds: dict[int, _RoundRecord]
    network: dict[str, Any] = field(default_factory=dict)  # the parent header's description

    @classmethod
    def from_log(cls, log: Log) -> Recording:
        """Read the per-round world from a log (only rounds that completed)."""
        rounds: dict[int, _RoundRecord] = {}
        complete: list[int] = []
        digest = ""
        for _, e in log.lines():
            kind = e["event"]
            t = int(e.get("round", 0))
            if kind == "round_start":
                rounds[t] = _RoundRecord(start=e["time"])
            elif kind == "byzantine_set":
                rounds[t].byzantine = list(e["workers"])
            elif kind == "broadcast":
                rounds[t].lat_down = log.payload(e["latency"])
            elif kind == "drop" and t in rounds:
                target = rounds[t].down_reason if e["dir"] == "down" else rounds[t].up_reason
                target[e["worker"]] = e.get("reason", "loss")
            elif kind == "send" and e.get("dir") == "up" and t in rounds:
                rounds[t].send_time[e["worker"]] = e["time"]
                rounds[t].lat_up[e["worker"]] = e["latency"]
            elif kind == "round_end":
                complete.append(t)
                digest = e.get("digest", digest)
            elif kind == "run_end":
                digest = e.get("digest", digest)
        network = log.header.get("network", {})
        return cls(log.path, digest, {t: rounds[t] for t in complete}, network)


class RecordedNetwork:
    """The :class:`~bgdsim.network.links.Network` interface, answered from a recording."""

    def __init__(self, recording: Recording, m: int) -> None:
        self.rec = recording
        self.m = m
        self._t = 0

    def _round(self, t: int) -> _RoundRecord:
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
        plan = self._craft(view.with_byzantine(byz), self.rng)
        plan.delays[:] = 0.0
        return plan


def rerun(
    parent: str | Path,
    overrides: dict[str, Any] | list[str],
    *,
    log_path: str | Path | bool | None = True,
) -> Any:
    """Re-run ``parent``'s recorded world with the server changed by ``overrides``.

    Args:
        parent: the log to re-run.
        overrides: dotted keys (or ``--set`` strings) among :data:`CHANGEABLE`.
        log_path: as for :func:`bgdsim.run`; the default names the log
            ``logs/<name>-seed<seed>.jsonl`` (give ``--set name=...`` to keep both).

    Raises:
        LogError: the parent is not a readable log.
        ScenarioError: a refused or invalid key.
    """
    from bgdsim.sim.runtime import run

    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    for key in overrides:
        if key not in CHANGEABLE and not key.startswith("server.params."):
            allowed = ", ".join(CHANGEABLE)
            raise ScenarioError(
                f"--set {key}: a re-run keeps the recorded world (workers, problem, seed, "
                f"network, adversary, faults); it can change only: {allowed}"
            )
    with Log(parent) as log:
        recording = Recording.from_log(log)
        data = apply_overrides(log.header["scenario"], overrides)
    scenario = validate_scenario(data, f"re-run of {Path(parent).name}")
    if scenario.rounds > len(recording.rounds):
        raise ScenarioError(
            f"rounds: the parent log has {len(recording.rounds)} complete rounds, "
            f"cannot re-run {scenario.rounds}"
        )
    if not recording.rounds:
        raise LogError(f"{parent}: no complete round to re-run")
    return run(scenario, log_path=log_path, _recording=recording)
