"""Re-run a logged run's faults against another defence.

:func:`rerun` reads a log, keeps everything the *world* did — the Byzantine sets, every
link's latency and loss, the workers' compute times and send offsets, the faults, the
attack's random draws — and lets only the *server* change: its rule, k, step size,
missing-report policy, barrier and timeout. Honest gradients (and the attack's messages,
which depend on them) are recomputed at the new iterates, on the SimPy runtime, through
the round engine's :class:`~bgdsim.engine.RecordedWorld`. The new log names its parent.

The parent is verified first (:func:`bgdsim.verify`: its digest chain and every round
recomputed), so a re-run costs about as much as verifying the parent plus running the
new server. A parent that does not verify is refused (:class:`ParentMismatch`) and
nothing is written; a parent still being written, cut short or diverged is re-run over
the rounds it completed and that verified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bgdsim import events as ev
from bgdsim import logpaths
from bgdsim.config import (
    Scenario,
    ScenarioError,
    apply_overrides,
    parse_override,
    validate_scenario,
)
from bgdsim.engine.recorded import Recording, RoundRecord
from bgdsim.engine.steps import Progress
from bgdsim.eventlog.signing import key_id, resolve
from bgdsim.registry import did_you_mean
from bgdsim.replay.checker import verify
from bgdsim.replay.reader import Log, LogError
from bgdsim.replay.verdict import Verification
from bgdsim.result import RunResult
from bgdsim.sim.runtime import SignKey, default_log_path, run

__all__ = ["CHANGEABLE", "ParentMismatch", "read_recording", "rerun"]

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


class ParentMismatch(Exception):
    """The log to re-run does not verify: it was refused and nothing was run or written
    (the CLI exits 1, as ``replay --verify`` does on the same log).

    Attributes:
        verification: what :func:`bgdsim.verify` found (its ``mismatch`` names the round,
            the quantity and what differs).
    """

    def __init__(self, parent: Path, verification: Verification) -> None:
        super().__init__(
            f"{parent}: the log to re-run does not verify, nothing was re-run: "
            f"{verification.message()}"
        )
        self.verification = verification


def read_recording(log: Log, until: int | None = None) -> Recording:
    """Read the per-round world from a log (only rounds that completed; with ``until``,
    only rounds 1 to ``until``: those that verified, while the log may still grow)."""
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
            if t == until:
                break
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
    progress: Progress | None = None,
) -> RunResult:
    """Re-run ``parent``'s recorded world with the server changed by ``overrides``.

    The parent is verified first (:func:`bgdsim.verify`), after the overrides, the log
    path and the key are checked. Without a ``rounds`` override, a parent with fewer
    verified complete rounds than its scenario asks for (still being written, cut short,
    or diverged) is re-run over those rounds.

    Args:
        parent: the log to re-run.
        overrides: dotted keys (or ``--set`` strings) among :data:`CHANGEABLE`.
        log_path: as for :func:`bgdsim.run`; the default names the log
            ``logs/<name>-seed<seed>.jsonl``, or the first free ``-2``, ``-3``, … (the
            parent's own path is taken: it is never written over).
        overwrite: replace an existing log at ``log_path`` (never the parent).
        sign_key: sign the re-run's log (as for :func:`bgdsim.run`); a parent signed
            with the same key has its signatures checked too.
        progress: called as the parent is verified, as by :func:`bgdsim.verify`.

    Raises:
        ParentMismatch: the parent does not verify (nothing was run or written).
        LogError: the parent is not a readable log, or has no complete round.
        ScenarioError: a refused or invalid key; more ``rounds`` than the parent has.
        LogPathError: ``log_path`` is refused (:mod:`bgdsim.logpaths`).
        SignKeyError: ``sign_key`` is not a usable key.
    """
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    for key in overrides:
        if key not in CHANGEABLE and not key.startswith(_TABLES):
            allowed = ", ".join(CHANGEABLE)
            hint = did_you_mean(key, CHANGEABLE)
            raise ScenarioError(
                f"--set {key}: not a key a re-run can change{hint}; it keeps the recorded "
                f"world (workers, problem, seed, network, adversary, faults) and can change "
                f"only: {allowed}"
            )
    parent = Path(parent)
    with Log(parent) as log:
        header = log.header
    secret = resolve(sign_key)
    signed = header.get("signed")
    named = signed.get("key_id") if isinstance(signed, dict) else None
    check_key = secret if secret is not None and named == key_id(secret) else None
    logged = header.get("scenario")
    scenario = _scenario(parent, logged, overrides, check_key)
    logpaths.log_target(default_log_path(scenario), log_path, overwrite=overwrite,
                        protect=(parent,))  # fmt: skip
    check = verify(parent, progress, sign_key=check_key)
    if not check.ok:
        raise ParentMismatch(parent, check)
    if check.rounds == 0:
        raise LogError(f"{parent}: no complete round to re-run ({check.message()})")
    if scenario.rounds > check.rounds:
        if "rounds" in overrides:
            raise ScenarioError(
                f"rounds: the parent log has {check.rounds} complete rounds, "
                f"cannot re-run {scenario.rounds}"
            )
        scenario = _scenario(parent, logged, {**overrides, "rounds": check.rounds}, check_key)
    with Log(parent) as log:
        recording = read_recording(log, None if check.complete else check.rounds)
    return run(
        scenario, log_path=log_path, overwrite=overwrite, recording=recording, sign_key=secret
    )


def _scenario(parent: Path, logged: Any, overrides: dict[str, Any], key: bytes | None) -> Scenario:
    """The parent's scenario with ``overrides``; when it fails and the parent's own
    scenario does too, the parent is verified first, so a damaged header is named as
    such (:class:`ParentMismatch` in the header) rather than as a bad key."""
    try:
        if not isinstance(logged, dict):
            raise ScenarioError(f"{parent}: the header holds no scenario table")
        return validate_scenario(apply_overrides(logged, overrides), f"re-run of {parent.name}")
    except ScenarioError:
        if overrides and isinstance(logged, dict) and _valid(logged):
            raise  # the overrides are at fault
        check = verify(parent, sign_key=key)
        if not check.ok:
            raise ParentMismatch(parent, check) from None
        raise


def _valid(logged: dict[str, Any]) -> bool:
    try:
        validate_scenario(logged, "the parent's scenario")
    except ScenarioError:
        return False
    return True
