"""Read, verify, inspect and compare event logs.

* :func:`read_log` yields a log's events as dicts (payload vectors as numpy arrays on
  request).
* :func:`verify` checks a log two ways: *integrity* — the chained digests of every seal
  (``round_end``, ``run_end``) over the lines and sidecar bytes of its span — and
  *recomputation* — every complete round's validation verdicts, missing reports,
  aggregate and update recomputed from the recorded reports with the server's own code,
  compared bit for bit. A log cut short (a killed run) verifies up to its last complete
  round and says so.
* :func:`timeline` lays out one round worker by worker; :func:`export_csv` flattens a log;
  :func:`diff` finds the first divergence between two logs.
* :func:`rerun` (in :mod:`bgdsim.sim.recorded`) re-runs a log's faults against another
  defence.
"""

from __future__ import annotations

import csv
import math
import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from bgdsim import aggregators
from bgdsim.config import Scenario, ScenarioError, validate_scenario
from bgdsim.eventlog import PAYLOAD_DTYPE, chain_digest, sidecar_path, span_hasher
from bgdsim.problems import safe_norm
from bgdsim.protocol import Outcome, ServerCore, validate_block, validate_report

__all__ = [
    "SUPPORTED_SCHEMAS",
    "Log",
    "LogError",
    "Verification",
    "diff",
    "export_csv",
    "read_log",
    "replay",
    "timeline",
    "verify",
]

#: schema versions this reader understands (every older documented one stays here)
SUPPORTED_SCHEMAS = (1,)
_VECTOR_KEYS = ("payload", "theta", "theta_star", "latency")


_SCENARIOS: dict[bytes, Scenario] = {}
_F8 = np.dtype(PAYLOAD_DTYPE)


class LogError(ValueError):
    """Not a bgdsim log, an unknown schema, a missing sidecar: bad input (exit 2)."""


class Log:
    """An event log and its payload sidecar, opened for reading.

    Raises:
        LogError: the file is not a bgdsim log, its schema is unknown, or the sidecar is
            missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                first = f.readline()
        except FileNotFoundError:
            raise LogError(f"{self.path}: no such log file") from None
        except OSError as exc:
            raise LogError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        try:
            header = orjson.loads(first)
        except orjson.JSONDecodeError:
            raise LogError(
                f"{self.path}: not a bgdsim event log (the first line is not JSON)"
            ) from None
        if not isinstance(header, dict) or header.get("event") != "run_start":
            raise LogError(f"{self.path}: not a bgdsim event log (no run_start header)")
        schema = header.get("schema")
        if schema not in SUPPORTED_SCHEMAS:
            known = ", ".join(map(str, SUPPORTED_SCHEMAS))
            raise LogError(
                f"{self.path}: unknown log schema {schema!r} (this bgdsim reads {known})"
            )
        self.header: dict[str, Any] = header
        side = sidecar_path(self.path)
        if not side.exists():
            raise LogError(f"{self.path}: its payload sidecar {side.name} is missing")
        self._side_file: IO[bytes] = open(side, "rb")  # noqa: SIM115 - closed in close()
        size = side.stat().st_size
        self.sidecar_size = size
        self._map = (
            mmap.mmap(self._side_file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        )
        # one buffer export for the whole sidecar; payloads are slices of it
        self._bytes: np.ndarray | None = (
            np.frombuffer(self._map, dtype=np.uint8) if self._map is not None else None
        )

    def close(self) -> None:
        """Release the sidecar."""
        self._bytes = None
        if self._map is not None:
            self._map.close()
            self._map = None
        self._side_file.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scenario(self) -> Scenario:
        """The run's scenario, as recorded in the header (validated once per process)."""
        key = orjson.dumps(self.header.get("scenario"), option=orjson.OPT_SORT_KEYS)
        cached = _SCENARIOS.get(key)
        if cached is None:
            try:
                cached = validate_scenario(self.header["scenario"], f"{self.path} (header)")
            except ScenarioError as exc:
                raise LogError(str(exc)) from None
            _SCENARIOS[key] = cached
        return cached

    def lines(self) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Every complete line with its parsed event (a torn last line is skipped)."""
        with open(self.path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                if not raw.endswith(b"\n"):
                    return
                try:
                    yield raw, orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise LogError(f"{self.path} line {n}: not valid JSON") from None

    def sidecar_bytes(self, start: int, end: int) -> bytes:
        """Raw sidecar bytes ``[start, end)``."""
        return b"" if self._map is None else self._map[start:end]

    def payload(self, ref: dict[str, Any]) -> np.ndarray:
        """The vector a reference points to (a copy: the log may be closed after)."""
        return self._view(ref).copy()

    def _view(self, ref: dict[str, Any]) -> np.ndarray:
        """The vector without a copy: it must not outlive the ``Log``."""
        shape = ref["shape"]
        dtype = np.dtype(ref["dtype"]) if "dtype" in ref else _F8
        count = shape[0] if len(shape) == 1 else math.prod(shape)
        start = int(ref["offset"])
        end = start + count * dtype.itemsize
        if self._bytes is None or start < 0 or end > self.sidecar_size:
            raise LogError(f"{self.path}: payload at byte {start} is past the sidecar's end")
        view = self._bytes[start:end].view(dtype)
        return view if len(shape) == 1 else view.reshape(shape)


def read_log(path: str | Path, *, payloads: bool = False) -> Iterator[dict[str, Any]]:
    """Yield a log's events as dicts; with ``payloads``, vector references become arrays."""
    with Log(path) as log:
        for _, event in log.lines():
            if payloads:
                for key in _VECTOR_KEYS:
                    ref = event.get(key)
                    if isinstance(ref, dict) and "offset" in ref:
                        event[key] = np.array(log.payload(ref))
            yield event


# ----------------------------------------------------------------------------- verify


@dataclass
class Verification:
    """The outcome of :func:`verify`.

    Attributes:
        rounds: complete rounds that verified.
        complete: the log ends with ``run_end`` (not cut short).
        mismatch: ``None``, or ``(round, quantity, detail)`` of the first failure.
        notes: what else the reader noticed (e.g. where a cut-short log ends).
    """

    rounds: int = 0
    complete: bool = False
    mismatch: tuple[int, str, str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No mismatch."""
        return self.mismatch is None

    def message(self) -> str:
        """One line for the command line."""
        if self.mismatch is not None:
            t, what, detail = self.mismatch
            where = f"round {t}" if t > 0 else "the header"
            return f"mismatch in {where}: {what}: {detail}"
        tail = "" if self.complete else " (" + "; ".join(self.notes) + ")"
        return f"verified {self.rounds} rounds{tail}"


class _Replica:
    """The server's state machine rebuilt from a log's header."""

    def __init__(self, log: Log) -> None:
        sc = log.scenario()
        srv = sc.server
        fn = aggregators.get(srv.aggregator)
        from bgdsim._params import check_params

        params = check_params(fn, srv.params, where="server.params", supplied=aggregators.SUPPLIED)
        params = aggregators.server_params(fn, params, batches=srv.batches, f=sc.cluster.byzantine)
        sizes = np.asarray(log.header.get("sizes", []), dtype=np.float64)
        weighted = sizes.size and not (sizes == sizes[0]).all() and aggregators.takes(fn, "weights")
        self.random = aggregators.takes(fn, "rng")
        self.core = ServerCore(
            np.array(log.payload(log.header["theta"])),
            fn,
            params,
            step_size=float(log.header["step_size"]),
            workers=sc.cluster.workers,
            missing=srv.missing,
            max_norm=srv.max_norm,
            weights=sizes if weighted else None,
        )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


class _Mismatch(Exception):
    """The first recomputed quantity that differs from the log."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(what, detail)
        self.what, self.detail = what, detail


class _Verifier:
    """Walks a log line by line: the digest chain, then the server's recomputation."""

    def __init__(self, log: Log, result: Verification) -> None:
        self.log, self.result = log, result
        try:
            self.replica = _Replica(log)
        except (ValueError, KeyError) as exc:
            raise LogError(f"{log.path}: the header cannot be replayed: {exc}") from None
        self.core = self.replica.core
        self.digest, self.lines_h, self.payload_h = b"", span_hasher(), span_hasher()
        self.payload_start = 0
        self.sends: dict[tuple[int, int], dict[str, Any]] = {}
        self.inbox: Any = None
        self.t = 0
        self.pending: dict[str, Any] = {}
        self.found: _Mismatch | None = None
        self.arrivals: list[tuple[str, int, int, dict[str, Any], str | None]] = []

    def seal(self, e: dict[str, Any]) -> None:
        log = self.log
        end = int(e.get("payload_end", -1))
        if not self.payload_start <= end <= log.sidecar_size:
            raise _Mismatch("integrity", f"payload_end {end} is outside the sidecar")
        if end > self.payload_start:
            self.payload_h.update(log.sidecar_bytes(self.payload_start, end))
        want = chain_digest(self.digest, self.lines_h.digest(), self.payload_h.digest())
        if want.hex() != e["digest"]:
            raise _Mismatch("integrity", "digest differs: a line or payload byte of this round "
                            "was changed")  # fmt: skip
        self.digest, self.lines_h, self.payload_h = want, span_hasher(), span_hasher()
        self.payload_start = end

    def report(self, kind: str, e: dict[str, Any]) -> None:
        """Queue an arrival; the round's arrivals are validated together at its barrier."""
        key = (e["round"], e["worker"])
        ref = self.sends.pop(key, None)
        if ref is None:
            raise _Mismatch("reports", f"{kind} of worker {key[1]} with no recorded send")
        if self.inbox is None:  # between rounds (a live runtime): only a late report fits
            if kind != "late" or key[0] > self.t:
                raise _Mismatch("sequence", f"{kind} of round {key[0]} outside any round")
            return
        self.arrivals.append((kind, key[0], key[1], ref, e.get("reason")))

    def receive_arrivals(self) -> None:
        """Hand the round's arrivals to the server core in order, screened in one pass."""
        log, core, inbox = self.log, self.core, self.inbox
        vectors = [log._view(ref) for _, _, _, ref, _ in self.arrivals]
        dim = core.dim
        rows = [i for i, v in enumerate(vectors) if v.dtype == _F8 and v.shape == (dim,)]
        verdicts: list[str | None] = [None] * len(vectors)
        if rows:
            screened = validate_block(np.stack([vectors[i] for i in rows]), max_norm=core.max_norm)
            for i, verdict in zip(rows, screened, strict=True):
                verdicts[i] = verdict
        for i in set(range(len(vectors))) - set(rows):
            verdicts[i] = validate_report(vectors[i], dim=dim, max_norm=core.max_norm)
        want = {"deliver": Outcome.ACCEPTED, "rejected": Outcome.REJECTED, "late": Outcome.LATE}
        for (kind, r, j, _, recorded), vector, verdict in zip(
            self.arrivals, vectors, verdicts, strict=True
        ):
            outcome, reason = core.receive(inbox, j, r, vector, verdict)
            if outcome is not want[kind]:
                raise _Mismatch(f"validation of worker {j}",
                                f"recorded {kind}, recomputed {outcome.value}")  # fmt: skip
            if kind == "rejected" and reason != recorded:
                raise _Mismatch(f"validation of worker {j}",
                                f"recorded reason {recorded!r}, recomputed {reason!r}")  # fmt: skip
        self.arrivals = []

    def aggregate(self, kind: str, e: dict[str, Any]) -> None:
        if self.inbox is None or "barrier" not in self.pending:
            raise _Mismatch("sequence", f"{kind} without a barrier")
        seed = e.get("server_seed")
        rng = self.replica.random and seed is not None
        res = self.core.close(self.inbox, {"rng": np.random.default_rng(seed)} if rng else None)
        missing = self.pending["barrier"].get("missing")
        if res.missing.tolist() != missing:
            raise _Mismatch(
                "missing reports", f"recorded {missing}, recomputed {res.missing.tolist()}"
            )
        if kind == "aggregate_skipped":
            if res.skipped is None:
                raise _Mismatch("aggregate", "recorded a skipped step, recomputed an aggregate")
        elif res.skipped is not None:
            raise _Mismatch("aggregate", f"recorded an aggregate, recomputed: {res.skipped}")
        else:
            logged = self.log.payload(e["payload"])
            if not _same(res.aggregate, logged):
                delta = float(np.max(np.abs(res.aggregate - logged)))
                raise _Mismatch(
                    "aggregate", f"differs from the recomputed one (max |Δ| = {delta:.3g})"
                )
        self.pending["result"] = res

    def update(self, e: dict[str, Any]) -> None:
        res = self.pending.get("result")
        if res is None:
            raise _Mismatch("sequence", "update without an aggregate")
        logged = self.log.payload(e["theta"])
        if not _same(res.theta, logged):
            delta = float(np.max(np.abs(res.theta - logged)))
            raise _Mismatch(
                "theta", f"differs from θ_{self.t - 1} − η·aggregate (max |Δ| = {delta:.3g})"
            )
        star = self.log.payload(self.log.header["theta_star"])
        err = safe_norm(res.theta - star)
        if not math.isclose(err, float(e["error"]), rel_tol=1e-12, abs_tol=0.0):
            raise _Mismatch("error", f"recorded {e['error']}, recomputed {err}")

    def step(self, seq: int, raw: bytes, e: dict[str, Any]) -> None:
        kind = e.get("event")
        if e.get("seq") != seq:
            raise _Mismatch("sequence", f"seq {e.get('seq')} where {seq} was due "
                            "(a line was deleted, inserted or moved)")  # fmt: skip
        if "digest" in e:  # a seal closes the span of lines and payloads before it
            self.seal(e)
            if self.found is not None:  # the span is intact: the server itself differs
                raise self.found
        self.lines_h.update(raw)
        if self.found is not None:
            return  # a recomputation failed: only the integrity of its span is left to check
        try:
            self.recompute(kind, e)
        except _Mismatch as bad:
            self.found = bad  # reported at the seal, unless the span was tampered with

    def recompute(self, kind: Any, e: dict[str, Any]) -> None:
        if kind == "round_start":
            self.t = int(e["round"])
            self.inbox = self.core.open_round(self.t)
            self.pending = {}
        elif kind == "send" and e.get("dir") == "up":
            self.sends[(e["round"], e["worker"])] = e["payload"]
        elif kind in ("deliver", "rejected", "late") and e.get("dir") == "up":
            self.report(kind, e)
        elif kind == "barrier":
            self.receive_arrivals()
            self.pending["barrier"] = e
        elif kind in ("aggregate", "aggregate_skipped"):
            self.aggregate(kind, e)
        elif kind == "update":
            self.update(e)
        elif kind == "round_end":
            self.result.rounds = int(e["round"])
            self.inbox = None
        elif kind == "run_end":
            self.result.complete = True
            if int(e.get("rounds", -1)) != self.result.rounds:
                raise _Mismatch("run_end", f"says {e.get('rounds')} rounds, the log has "
                                f"{self.result.rounds}")  # fmt: skip


def verify(path: str | Path) -> Verification:
    """Verify a log's integrity and recompute every complete round (see the module doc).

    Raises:
        LogError: not a log, unknown schema, missing sidecar, a line that is not JSON.
    """
    result = Verification()
    with Log(path) as log:
        v = _Verifier(log, result)
        lines = log.lines()
        try:
            for seq, (raw, e) in enumerate(lines):
                try:
                    v.step(seq, raw, e)
                except LogError as exc:  # a payload past the sidecar's end
                    sealed = any(
                        later.get("event") == "round_end" and later.get("round") == v.t
                        for _, later in lines
                    )
                    if sealed or v.t <= result.rounds:  # the round completed: tampering
                        raise _Mismatch("integrity", str(exc)) from None
                    result.notes.append(f"the sidecar ends in round {v.t}")  # a killed run
                    break
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise _Mismatch(
                        "event", f"malformed {e.get('event')!r} line: {exc!r}"
                    ) from None
        except _Mismatch as bad:
            result.mismatch = (v.t, bad.what, bad.detail)
            return result
        if v.found is not None:  # a recomputation failed in the last, unsealed span
            result.mismatch = (v.t, v.found.what, v.found.detail)
            return result
        if not result.complete:
            result.notes.append(
                f"the log ends in round {v.t} before its round_end: verified up to round "
                f"{result.rounds}"
                if v.t > result.rounds
                else "the log ends before run_end"
            )
    return result


# ----------------------------------------------------------------------------- inspect


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
        for _, e in log.lines():
            if e.get("round") != t:
                continue
            seen = True
            kind = e["event"]
            j = e.get("worker")
            if kind == "round_start":
                summary["start"] = e["time"]
            elif kind == "byzantine_set":
                byz = set(e["workers"])
            elif kind == "broadcast":
                lat = log.payload(e["latency"])
                for w in range(m):
                    rows[w]["down_latency"] = float(lat[w])
            elif j is not None:
                d = e.get("dir", "")
                rows[j][f"{d}_{kind}"] = e["time"]
                if kind == "send" and d == "up":
                    rows[j]["up_latency"] = e["latency"]
                    reports[j] = np.array(log.payload(e["payload"]), dtype=np.float64)
                if "reason" in e:
                    rows[j][f"{d}_reason"] = e["reason"]
            elif kind == "barrier":
                summary.update(barrier=e["time"], reason=e["reason"], missing=e["missing"])
            elif kind == "aggregate":
                summary["aggregate_norm"] = float(np.linalg.norm(log.payload(e["payload"])))
            elif kind == "update":
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
        for _, e in log.lines():
            row: dict[str, Any] = {}
            for key, value in e.items():
                if key in _VECTOR_KEYS and isinstance(value, dict) and "offset" in value:
                    vec = np.asarray(log.payload(value), dtype=np.float64)
                    row[f"{key}_norm"] = float(np.linalg.norm(vec)) if vec.size else 0.0
                elif isinstance(value, dict | list):
                    row[key] = orjson.dumps(value).decode()
                else:
                    row[key] = value
            keys.update(dict.fromkeys(row))
            rows.append(row)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(keys))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


_VOLATILE = ("digest", "payload_end", "parent")


def diff(path_a: str | Path, path_b: str | Path) -> tuple[int | None, int, str, str] | None:
    """The first divergence between two logs, or None if they record the same run.

    Compares event by event (payload vectors by value, bit for bit; the integrity fields
    and the re-run's ``parent`` are ignored). Returns ``(round, seq, event, field)``.
    """
    with Log(path_a) as a, Log(path_b) as b:
        it_a, it_b = a.lines(), b.lines()
        while True:
            ea = next(it_a, (b"", None))[1]
            eb = next(it_b, (b"", None))[1]
            if ea is None and eb is None:
                return None
            if ea is None or eb is None:
                longer = eb if ea is None else ea
                assert longer is not None
                return (
                    longer.get("round"),
                    int(longer["seq"]),
                    str(longer["event"]),
                    "(end of log)",
                )
            for key in dict.fromkeys([*ea, *eb]):
                if key in _VOLATILE:
                    continue
                va, vb = ea.get(key), eb.get(key)
                if key in _VECTOR_KEYS and isinstance(va, dict) and isinstance(vb, dict):
                    if _same(np.asarray(a.payload(va)), np.asarray(b.payload(vb))):
                        continue
                elif va == vb:
                    continue
                return (ea.get("round"), int(ea["seq"]), str(ea["event"]), key)


_verify_log = verify  # ``replay``'s ``verify`` flag shadows the function's name


def replay(
    path: str | Path,
    *,
    verify: bool = True,
    round: int | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    log_path: str | Path | bool | None = True,
) -> Any:
    """One entry point for a log: ``bgdsim.replay(log)`` verifies it (a
    :class:`Verification`); ``round=T`` returns round T's timeline; ``overrides=...``
    re-runs its recorded world with the server changed (a ``RunResult``).
    """
    if overrides:
        from bgdsim.sim.recorded import rerun

        return rerun(path, overrides, log_path=log_path)
    if round is not None:
        return timeline(path, round)
    if not verify:
        raise ValueError("replay: nothing to do (verify=False, no round, no overrides)")
    return _verify_log(path)
