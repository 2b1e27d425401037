"""What a report shows of one event log, read with the log reader every command uses:
its header and scenario, its rounds (barrier, Byzantine set, error), its per-message
records as a round × worker grid of outcomes, and the run's summary numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import events as ev

__all__ = ["OUTCOMES", "RunView", "read_run"]

#: the outcome codes of the round × worker strip, in the order of their colours
OUTCOMES = ("delivered", "Byzantine", "missing", "late", "rejected")
DELIVERED, BYZANTINE, MISSING, LATE, REJECTED = range(5)


@dataclass
class RunView:
    """One run as its report shows it (every field read from the log)."""

    path: Path
    header: dict[str, Any]
    scenario_toml: str
    workers: int
    rounds: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, float]] = field(default_factory=list)
    strip: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int8))
    end: dict[str, Any] | None = None
    k: int | None = None

    @property
    def status(self) -> str:
        """``completed``, ``diverged``, or ``incomplete`` (no ``run_end``: cut short)."""
        return str(self.end.get("status", "?")) if self.end is not None else "incomplete"

    @property
    def final_error(self) -> float:
        return self.errors[-1][1] if self.errors else math.nan

    @property
    def floor(self) -> float:
        floor = self.header.get("floor")
        return float(floor) if isinstance(floor, int | float) else math.nan

    @property
    def sim_time(self) -> float:
        if self.end is not None:
            return float(self.end.get("time", math.nan))
        return float(self.rounds[-1]["end"]) if self.rounds else 0.0


def _int(value: Any, what: str, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{path}: malformed event: {what} is {value!r}, not an integer")
    return value


def _number(value: Any, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: malformed event: {what} is {value!r}, not a number")
    return float(value)


def _workers(value: Any, m: int, what: str, path: Path) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"{path}: malformed event: {what} is not a list of workers")
    out = [_int(w, what, path) for w in value]
    if any(not 0 <= w < m for w in out):
        raise ValueError(f"{path}: malformed event: {what} names a worker outside 0..{m - 1}")
    return out


def read_run(path: str | Path) -> RunView:
    """Read a log for its report.

    Raises:
        ValueError: the file is missing, not an event log (``LogError``), or has a
            malformed event.
    """
    from bgdsim.config import to_toml
    from bgdsim.replay import Log, read_messages
    from bgdsim.theory import rule_batches

    path = Path(path)
    with Log(path) as log:
        scenario = log.scenario()
        view = RunView(path, log.header, to_toml(scenario.to_dict()), scenario.cluster.workers)
        view.k = rule_batches(scenario)
        if isinstance(log.header.get("error"), int | float):
            view.errors.append((0, float(log.header["error"])))
        byz: dict[int, list[int]] = {}
        missing: dict[int, list[int]] = {}
        current: dict[str, Any] = {}
        for _, event in log.lines():
            kind, t = event.get("event"), _number(event.get("time"), "time", path)
            if kind == ev.ROUND_START:
                current = {"round": _int(event.get("round"), "round", path), "start": t,
                           "barrier": None, "reason": "", "heard": None, "byzantine": 0,
                           "end": t}  # fmt: skip
                view.rounds.append(current)
            elif kind == ev.BYZANTINE_SET and current:
                byz[current["round"]] = _workers(event.get("workers"), view.workers, kind, path)
                current["byzantine"] = len(byz[current["round"]])
            elif kind == ev.BARRIER and current:
                current.update(barrier=t, reason=str(event.get("reason", "")),
                               heard=event.get("heard"))  # fmt: skip
                missing[current["round"]] = _workers(
                    event.get("missing", []), view.workers, "missing", path
                )
            elif kind == ev.UPDATE:
                r = _int(event.get("round"), "round", path)
                view.errors.append((r, _number(event.get("error"), "error", path)))
                if current:
                    current["error"] = view.errors[-1][1]
            elif kind == ev.ROUND_END and current:
                current["end"] = t
            elif kind == ev.RUN_END:
                view.end = event
    msgs = read_messages(path)
    n = len(view.rounds)
    strip = np.zeros((n, view.workers), dtype=np.int8)
    index = {r["round"]: i for i, r in enumerate(view.rounds)}
    up = msgs[(msgs["dir"] == "up") & msgs["round"].isin(index.keys())]
    up = up[(up["worker"] >= 0) & (up["worker"] < view.workers)]
    for r, workers in missing.items():  # not heard by the barrier: late ones are refined
        if r in index and workers:
            strip[index[r], workers] = MISSING
    for code, name in ((LATE, ev.LATE), (REJECTED, ev.REJECTED)):
        rows = up[up["event"] == name]
        strip[[index[r] for r in rows["round"]], rows["worker"].to_numpy()] = code
    for r, workers in byz.items():  # B_t is shown whatever became of its reports
        if r in index and workers:
            strip[index[r], workers] = BYZANTINE
    view.strip = strip
    return view
