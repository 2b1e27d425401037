"""Looking into logs: one round worker by worker, a flat CSV, the first divergence of two."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import aggregators
from bgdsim import events as ev
from bgdsim.replay.reader import VECTOR_KEYS, Log, LogError, flatten, same_vector

__all__ = ["diff", "export_csv", "timeline"]


def timeline(path: str | Path, t: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Round t worker by worker: per worker the send / deliver / drop / late / rejected
    times, Byzantine mark, batch, and the report's distance to the honest mean.

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
                    reports[j] = np.array(log.payload(e["payload"]), dtype=np.float64)
                if "reason" in e:
                    rows[j][f"{d}_reason"] = e["reason"]
            elif kind == ev.BARRIER:
                summary.update(barrier=e["time"], reason=e["reason"], missing=e["missing"])
            elif kind == ev.AGGREGATE:
                summary["aggregate_norm"] = float(np.linalg.norm(log.payload(e["payload"])))
            elif kind == ev.UPDATE:
                summary.update(error=e["error"], step_size=e["step_size"])
        if not seen:
            raise LogError(f"{log.path}: no round {t} in this log")
    k = min(sc.server.batches, m)
    starts = aggregators.batch_bounds(m, k)
    batch_of = np.searchsorted(starts, np.arange(m), side="right") - 1
    honest = [
        v for j, v in reports.items() if j not in byz and v.shape == reports[min(reports)].shape
    ]
    center = np.mean(honest, axis=0) if honest else None
    for row in rows:
        j = row["worker"]
        row["byzantine"] = j in byz
        row["batch"] = (
            int(batch_of[j])
            if aggregators.takes_batches(aggregators.get(sc.server.aggregator))
            else None
        )
        v = reports.get(j)
        if (
            v is not None
            and center is not None
            and v.shape == center.shape
            and np.isfinite(v).all()
        ):
            row["dist_to_honest_mean"] = float(np.linalg.norm(v - center))
    return summary, rows


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


_VOLATILE = ("digest", "signature", "signed", "payload_end", "parent", "messages")


def diff(path_a: str | Path, path_b: str | Path) -> tuple[int | None, int, str, str] | None:
    """The first divergence between two logs, or None if they record the same run.

    Compares event by event (payload vectors by value, bit for bit; the integrity fields
    and the re-run's ``parent`` are ignored). Returns ``(round, seq, event, field)``.
    """
    with Log(path_a) as a, Log(path_b) as b:
        it_a, it_b = enumerate(a.events()), enumerate(b.events())
        while True:
            na, ea = next(it_a, (-1, None))
            nb, eb = next(it_b, (-1, None))
            n = na if ea is not None else nb  # a message event's place (it has no seq)
            if ea is None and eb is None:
                return None
            if ea is None or eb is None:
                longer = eb if ea is None else ea
                assert longer is not None
                return (
                    longer.get("round"),
                    int(longer.get("seq", n)),
                    str(longer["event"]),
                    "(end of log)",
                )
            for key in dict.fromkeys([*ea, *eb]):
                if key in _VOLATILE:
                    continue
                va, vb = ea.get(key), eb.get(key)
                if key in VECTOR_KEYS and isinstance(va, dict) and isinstance(vb, dict):
                    if same_vector(np.asarray(a.payload(va)), np.asarray(b.payload(vb))):
                        continue
                elif va == vb:
                    continue
                return (ea.get("round"), int(ea.get("seq", n)), str(ea["event"]), key)
