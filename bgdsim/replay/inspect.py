"""Looking into logs: one round worker by worker, a flat CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import aggregators
from bgdsim import events as ev
from bgdsim.aggregators.gmom import batch_order
from bgdsim.replay.reader import Log, LogError
from bgdsim.replay.tables import flatten

__all__ = ["batches", "export_csv", "timeline"]


def timeline(path: str | Path, t: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Round t worker by worker: per worker the send / deliver / drop / late / rejected
    times, Byzantine mark, batch (:func:`batches`), and the report's distance to the
    honest mean.

    Returns:
        (round summary, rows). The summary holds the round's start, barrier (time, reason),
        aggregate norm, step and error; a row per worker.
    """
    with Log(path) as log:
        sc = log.scenario()
        m = sc.cluster.workers
        rows: list[dict[str, Any]] = [{"worker": j} for j in range(m)]
        summary: dict[str, Any] = {"round": t}
        reports: dict[int, np.ndarray] = {}
        byz: set[int] = set()
        seed: int | None = None
        seen = False
        for e in log.events():
            if e.get("round") != t:
                continue
            seen = True
            kind = e["event"]
            j = e.get("worker")
            if kind == ev.ROUND_START:
                summary["start"] = e["time"]
            elif kind == ev.BYZANTINE_SET:
                byz = set(e["workers"])
            elif kind == ev.BROADCAST:
                lat = log.payload(e["latency"])
                for w in range(m):
                    rows[w]["down_latency"] = float(lat[w])
            elif j is not None:
                d = e.get("dir", "")
                rows[j][f"{d}_{kind}"] = e["time"]
                if kind == ev.SEND and d == "up":
                    rows[j]["up_latency"] = e["latency"]
                    if e.get("payload") is not None:
                        reports[j] = log.payload(e["payload"])
                if "reason" in e:
                    rows[j][f"{d}_reason"] = e["reason"]
            elif kind == ev.BARRIER:
                summary.update(barrier=e["time"], reason=e["reason"], missing=e["missing"])
            elif kind == ev.AGGREGATE:
                summary["aggregate_norm"] = float(np.linalg.norm(log.payload(e["payload"])))
                seed = e.get("server_seed")
            elif kind == ev.UPDATE:
                summary.update(error=e["error"], step_size=e["step_size"])
        if not seen:
            raise LogError(f"{log.path}: no round {t} in this log")
    batch_of = batches(sc, summary.get("missing", []), seed)
    # reports of the run's shape (d,) and a real number type, as float64: a malformed one
    # (another shape or type, e.g. a Byzantine worker's) has no distance and is no center
    vectors = {
        j: v.astype(np.float64)
        for j, v in reports.items()
        if v.shape == (sc.problem.dim,) and v.dtype.kind in "biuf"
    }
    honest = [v for j, v in vectors.items() if j not in byz]
    center = np.mean(honest, axis=0) if honest else None
    for row in rows:
        j = row["worker"]
        row["byzantine"] = j in byz
        row["batch"] = batch_of[j]
        v = vectors.get(j)
        if v is not None and center is not None and np.isfinite(v).all():
            row["dist_to_honest_mean"] = float(np.linalg.norm(v - center))
    return summary, rows


def batches(sc: Any, missing: list[int], seed: int | None) -> list[int | None]:
    """The batch (0 … k − 1) each worker's report fell in when the server aggregated a
    round, None where it fell in none.

    The server batches the rows it aggregates in worker order: all m (missing ones
    zeroed or repeated) or, with ``missing = "exclude"``, only the received ones; a rule
    with ``rebatch`` lays them out in the round's random order (``seed``: the round's
    ``server_seed``) first. Empty for a rule without batches, and with pre-aggregators,
    whose outputs, not the reports, are batched.
    """
    m = sc.cluster.workers
    rule = sc.server.aggregator
    if not aggregators.takes_batches(aggregators.get(rule.kind)) or sc.server.pre:
        return [None] * m
    rows = np.arange(m)
    if sc.server.missing == "exclude":
        rows = np.setdiff1d(rows, np.asarray(missing, dtype=np.int64))
    n = rows.size
    position = np.arange(n)
    if rule.params.get("rebatch"):
        if seed is None:
            return [None] * m
        position[batch_order(n, np.random.default_rng(seed))] = np.arange(n)
    starts = aggregators.batch_bounds(n, min(sc.server.batches, n)) if n else np.zeros(0)
    of = np.searchsorted(starts, position, side="right") - 1
    out: list[int | None] = [None] * m
    for j, b in zip(rows.tolist(), of.tolist(), strict=True):
        out[j] = b
    return out


def export_csv(path: str | Path, out: str | Path) -> int:
    """Write every event as a CSV row (common columns first, vectors as their norms).

    Returns the number of rows written.
    """
    first = ["seq", "event", "time", "round", "worker", "dir"]
    rows: list[dict[str, Any]] = []
    keys: dict[str, None] = dict.fromkeys(first)
    with Log(path) as log:
        for e in log.events():
            row = flatten(log, e)
            keys.update(dict.fromkeys(row))
            rows.append(row)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(keys))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
