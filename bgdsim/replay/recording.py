"""Re-run a logged run's faults against another defence.

:func:`rerun` reads a log, keeps everything the *world* did — the Byzantine sets, every
link's latency and loss, the workers' compute times and send offsets, the faults, the
attack's random draws — and lets only the *server* change: its rule, k, step size,
missing-report policy, barrier and timeout. Honest gradients (and the attack's messages,
which depend on them) are recomputed at the new iterates, on the SimPy runtime, through
the round engine's :class:`~bgdsim.engine.RecordedWorld`. The new log names its parent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bgdsim import events as ev
from bgdsim.config import ScenarioError, apply_overrides, parse_override, validate_scenario
from bgdsim.engine.recorded import Recording, RoundRecord
from bgdsim.replay.reader import Log, LogError
from bgdsim.result import RunResult
from bgdsim.sim.runtime import SignKey, run

__all__ = ["CHANGEABLE", "read_recording", "rerun"]

#: the keys a re-run may change: the server's side only (and the run's name and length)
CHANGEABLE = (
    "name",
    "rounds",
    "server.aggregator",
    "server.step_size",
    "server.step_schedule",
    "server.missing",
    "server.barrier",
    "server.quorum",
    "server.grace",
    "server.round_timeout",
    "server.pre",
    "server.max_norm",
)


_TABLES = ("server.aggregator.", "server.step_schedule.")  # keys inside a changeable table


def read_recording(log: Log) -> Recording:
    """Read the per-round world from a log (only rounds that completed)."""
    rounds: dict[int, RoundRecord] = {}
    complete: list[int] = []
    digest = ""
    for e in log.events():
        kind = e["event"]
        t = int(e.get("round", 0))
        if kind == ev.ROUND_START:
            rounds[t] = RoundRecord(start=e["time"])
        elif kind == ev.BYZANTINE_SET:
            rounds[t].byzantine = list(e["workers"])
        elif kind == ev.BROADCAST:
            rounds[t].lat_down = log.payload(e["latency"])
        elif kind == ev.DROP and t in rounds:
            target = rounds[t].down_reason if e["dir"] == "down" else rounds[t].up_reason
            target[e["worker"]] = e.get("reason", "loss")
        elif kind == ev.SEND and e.get("dir") == "up" and t in rounds:
            rounds[t].send_time[e["worker"]] = e["time"]
            rounds[t].lat_up[e["worker"]] = e["latency"]
        elif kind == ev.ROUND_END:
            complete.append(t)
            digest = e.get("digest", digest)
        elif kind == ev.RUN_END:
            digest = e.get("digest", digest)
    network = log.header.get("network", {})
    return Recording(log.path, digest, {t: rounds[t] for t in complete}, network)


def rerun(
    parent: str | Path,
    overrides: dict[str, Any] | list[str],
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    sign_key: SignKey = None,
) -> RunResult:
    """Re-run ``parent``'s recorded world with the server changed by ``overrides``.

    Args:
        parent: the log to re-run.
        overrides: dotted keys (or ``--set`` strings) among :data:`CHANGEABLE`.
        log_path: as for :func:`bgdsim.run`; the default names the log
            ``logs/<name>-seed<seed>.jsonl``, or the first free ``-2``, ``-3``, … (the
            parent's own path is taken: it is never written over).
        overwrite: replace an existing log at ``log_path`` (never the parent).
        sign_key: sign the re-run's log (as for :func:`bgdsim.run`).

    Raises:
        LogError: the parent is not a readable log.
        ScenarioError: a refused or invalid key.
        LogPathError: ``log_path`` is refused (:mod:`bgdsim.logpaths`).
    """
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    for key in overrides:
        if key not in CHANGEABLE and not key.startswith(_TABLES):
            allowed = ", ".join(CHANGEABLE)
            raise ScenarioError(
                f"--set {key}: a re-run keeps the recorded world (workers, problem, seed, "
                f"network, adversary, faults); it can change only: {allowed}"
            )
    with Log(parent) as log:
        recording = read_recording(log)
        data = apply_overrides(log.header["scenario"], overrides)
    scenario = validate_scenario(data, f"re-run of {Path(parent).name}")
    if scenario.rounds > len(recording.rounds):
        raise ScenarioError(
            f"rounds: the parent log has {len(recording.rounds)} complete rounds, "
            f"cannot re-run {scenario.rounds}"
        )
    if not recording.rounds:
        raise LogError(f"{parent}: no complete round to re-run")
    return run(
        scenario, log_path=log_path, overwrite=overwrite, recording=recording, sign_key=sign_key
    )
