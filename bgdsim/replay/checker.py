"""``bgdsim replay LOG --verify``: check a log's integrity and recompute every round.

A log is checked two ways: *integrity* — the chained digests of every seal
(``round_end``, ``run_end``) over the lines and sidecar bytes of its span and the seal's
own line, and, given the signing key, every seal's signature (:mod:`bgdsim.replay._chain`)
— and
*recomputation* — every complete round's broadcast θ, validation verdicts (a report after
the barrier fired is late), barrier (when it fired, why, how many were heard and kept),
missing reports, aggregate and update recomputed from the recorded reports with the
round engine's own :class:`~bgdsim.engine.ServerCore` and
:class:`~bgdsim.engine.Barrier`, compared bit for bit. A log cut short (a killed run)
verifies up to its last complete round and says so.

A round's reports are checked on their record's columns (:mod:`bgdsim.replay._batch`)
whenever the round is ordinary — every arrival late or from a distinct known worker of
the round, with a recorded send and a readable payload — and one message at a time
through :meth:`~bgdsim.engine.ServerCore.receive` otherwise; both reach the same
verdicts and report the same first mismatch. The lines, the span hashes and the records
are read ahead in a background thread (:mod:`bgdsim.replay._ahead`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bgdsim import events as ev
from bgdsim.engine import Barrier, Outcome
from bgdsim.engine.barrier import QUORUM, TIMEOUT
from bgdsim.engine.steps import Progress
from bgdsim.engine.validation import validate_block, validate_report
from bgdsim.eventlog import PAYLOAD_DTYPE
from bgdsim.eventlog.signing import resolve
from bgdsim.replay import _batch, _header
from bgdsim.replay._ahead import ReadAhead, Span
from bgdsim.replay._arrivals import Arrival, Arrivals, Sends, pair
from bgdsim.replay._arrivals import Mismatch as _Mismatch
from bgdsim.replay._chain import Chain
from bgdsim.replay._metrics import HeldOut
from bgdsim.replay._outcome import check_aggregate, check_update
from bgdsim.replay.reader import BrokenLine, DamagedHeader, Log, LogError
from bgdsim.replay.verdict import Verification

__all__ = ["Verification", "verify"]

_F8 = np.dtype(PAYLOAD_DTYPE)


class _Verifier:
    """Walks a log line by line: the digest chain, then the server's recomputation."""

    def __init__(self, log: Log, result: Verification, key: bytes | None = None) -> None:
        self.log, self.result = log, result
        self.core: Any = None  # built at the first seal, once its digest vouched for the header
        self.held_out: HeldOut | None = None  # the test metrics' problem, built with the core
        self.barrier: Barrier = None  # type: ignore[assignment]
        self.chain = Chain(log, result, key)
        self.sends = Sends(0)
        self.inbox: Any = None
        self.t = 0
        self.pending: dict[str, Any] = {}
        self.span: list[dict[str, Any]] = []  # the round-level events since the last seal
        self.arrivals: list[Arrival] | Arrivals = []
        self.consumed = 0  # bytes of the .jsonl read, up to run_end's newline
        self.live = False

    def messages(self, seal: dict[str, Any], ahead: Span | None = None) -> None:
        """The span's message records: register its sends, queue its report arrivals."""
        try:
            if ahead is None:
                table = self.log.messages(seal)
            elif ahead.error is not None:
                raise ahead.error
            else:
                table = ahead.table
        except LogError as exc:  # the span verified: its record was written broken
            raise _Mismatch("integrity", str(exc)) from None
        batch = None if table is None else _batch.pair(table, self.sends, self.core.dim)
        self.arrivals = batch if batch is not None else pair(table, self.sends, self.core.dim)

    def leftover_arrivals(self) -> None:
        """Arrivals in a span with no barrier (after the last round): only late ones fit."""
        if isinstance(self.arrivals, Arrivals):
            self.arrivals = self.arrivals.tuples(self.core.dim)
        for kind, r, j, _, _, _ in self.arrivals:
            if kind != ev.LATE or r > self.t:
                raise _Mismatch("sequence", f"{kind} of round {r} (worker {j}) outside any round")
        self.arrivals = []

    def receive_arrivals(self) -> str | None:
        """Hand the round's arrivals to the server core in order, screened in one pass.

        Returns the barrier's reason recomputed from the arrivals and the round's timers.
        """
        log, core, inbox, barrier = self.log, self.core, self.inbox, self.barrier
        if inbox is None:
            raise _Mismatch("sequence", "a barrier outside any round")
        if isinstance(self.arrivals, Arrivals):
            if _batch.receive(log, core, inbox, barrier, self.arrivals):
                self.arrivals = []
                return barrier.reason
            self.arrivals = self.arrivals.tuples(core.dim)  # an unusual round: one by one
        vectors = [log.view(a[3]) for a in self.arrivals]
        dim = core.dim
        rows = [i for i, v in enumerate(vectors) if v.dtype == _F8 and v.shape == (dim,)]
        verdicts: list[str | None] = [None] * len(vectors)
        if rows:
            screened = validate_block(np.stack([vectors[i] for i in rows]), max_norm=core.max_norm)
            for i, verdict in zip(rows, screened, strict=True):
                verdicts[i] = verdict
        for i in set(range(len(vectors))) - set(rows):
            verdicts[i] = validate_report(vectors[i], dim=dim, max_norm=core.max_norm)
        want = {ev.DELIVER: Outcome.ACCEPTED, ev.REJECTED: Outcome.REJECTED, ev.LATE: Outcome.LATE}
        for (kind, r, j, _, recorded, time), vector, verdict in zip(
            self.arrivals, vectors, verdicts, strict=True
        ):
            barrier.due(time)
            outcome, reason = core.receive(
                inbox, j, r, vector, verdict, in_time=barrier.admits(time)
            )
            if outcome is not Outcome.LATE:
                barrier.heard(inbox.n_heard, inbox.n_received, time)
            if outcome is not want[kind]:
                raise _Mismatch(f"validation of worker {j}",
                                f"recorded {kind}, recomputed {outcome.value}")  # fmt: skip
            if kind == ev.REJECTED and reason != recorded:
                raise _Mismatch(f"validation of worker {j}",
                                f"recorded reason {recorded!r}, recomputed {reason!r}")  # fmt: skip
        self.arrivals = []
        if barrier.reason is None:  # no report fired it: the earlier timer (timeout on a tie)
            barrier.timer(TIMEOUT if barrier.deadline <= barrier.grace_at else QUORUM)
        return barrier.reason

    def barrier_fields(self, e: dict[str, Any]) -> None:
        """When the barrier fired (on a simulated clock exactly then; a live clock logs it
        when its loop got to it, not earlier), and the reports heard and kept by then."""
        fired, logged = self.barrier.fired_at, float(e["time"])
        if logged != fired and (not self.live or not logged >= fired):
            raise _Mismatch("barrier", f"recorded at {logged!r}, recomputed {fired!r}")
        for field, count in (("heard", self.inbox.n_heard), ("received", self.inbox.n_received)):
            if e.get(field) != count:
                raise _Mismatch("barrier", f"recorded {field} {e.get(field)!r}, recomputed {count}")

    def aggregate(self, kind: str, e: dict[str, Any]) -> None:
        if self.inbox is None or "barrier" not in self.pending:
            raise _Mismatch("sequence", f"{kind} without a barrier")
        res = self.core.close(self.inbox, e.get("server_seed"))
        missing = self.pending["barrier"].get("missing")
        if res.missing.tolist() != missing:
            raise _Mismatch(
                "missing reports", f"recorded {missing}, recomputed {res.missing.tolist()}"
            )
        check_aggregate(self.log, kind, e, res)
        self.pending["result"] = res

    def update(self, e: dict[str, Any]) -> None:
        res = self.pending.get("result")
        if res is None:
            raise _Mismatch("sequence", "update without an aggregate")
        check_update(self.log, e, res, self.t)
        if self.held_out is not None:
            self.held_out.check(res.theta, e, "update")

    def step(self, seq: int, raw: bytes, e: dict[str, Any], ahead: Span | None = None) -> None:
        """One line: buffered until its span's seal, which checks the span's integrity,
        then recomputes its rounds from its lines and message records."""
        kind = e.get("event")
        if self.result.complete:
            raise _Mismatch("integrity", f"a {kind!r} line after run_end (nothing may follow it)")
        if e.get("seq") != seq:
            raise _Mismatch("sequence", f"seq {e.get('seq')} where {seq} was due "
                            "(a line was deleted, inserted or moved)")  # fmt: skip
        if kind == ev.ROUND_START and isinstance(e.get("round"), int):
            self.t = e["round"]  # where a mismatch or the end of a cut log is reported
        if "digest" not in e:
            if kind == ev.RUN_END:
                raise _Mismatch("integrity", "run_end without its digest")
            self.chain.line(raw)
            self.span.append(e)
            return
        self.chain.seal(raw, e, ahead)  # the span is intact: what follows checks the server
        if self.core is None:
            self.build()
        self.chain.line(raw)
        self.messages(e, ahead)
        span, self.span = self.span, []
        for line in span:
            self.recompute(line.get("event"), line)
        if self.arrivals:
            self.leftover_arrivals()
        self.recompute(kind, e)

    def build(self) -> None:
        """The server and barrier of the header (vouched for by the first seal)."""
        try:
            self.core, self.barrier = _header.build(self.log)
            self.held_out = HeldOut(self.log)
        except _Mismatch:
            self.t = 0  # the header's
            raise
        self.sends = Sends(self.core.dim)
        # a live runtime's clock is the wall's: it logs a timer when its loop runs it
        self.live = self.log.header.get("runtime") in ("asyncio", "tcp")

    def trailing(self, size: int) -> None:
        """After run_end nothing may follow, in either file; before it, an unsealed tail
        is a run still being written (or cut short)."""
        side = self.log.sidecar_size - self.chain.payload_start
        if self.result.complete:
            if size > self.consumed:
                raise _Mismatch("integrity", f"{size - self.consumed} bytes after run_end")
            if side:
                raise _Mismatch("integrity", f"{side} sidecar bytes after run_end's payload_end")
        elif side > 0:
            self.result.notes.append(f"{side} sidecar bytes after the last seal, not yet sealed")

    def recompute(self, kind: Any, e: dict[str, Any]) -> None:
        if kind == ev.ROUND_START:
            self.t = int(e["round"])
            self.inbox = self.core.open_round(self.t)
            self.barrier.open(float(e["time"]))
            self.pending = {}
        elif kind == ev.BROADCAST:
            theta = self.log.payload(e["theta"])
            if not np.array_equal(theta, self.core.theta) or theta.dtype != self.core.theta.dtype:
                raise _Mismatch("broadcast", f"θ sent in round {self.t} is not θ_{self.t - 1}")
        elif kind == ev.BARRIER:
            reason = self.receive_arrivals()
            if e.get("reason") != reason:
                raise _Mismatch(
                    "barrier", f"recorded reason {e.get('reason')!r}, recomputed {reason!r}"
                )
            self.barrier_fields(e)
            self.pending["barrier"] = e
        elif kind in (ev.AGGREGATE, ev.AGGREGATE_SKIPPED):
            self.aggregate(kind, e)
        elif kind == ev.UPDATE:
            self.update(e)
        elif kind == ev.ROUND_END:
            self.result.rounds = int(e["round"])
            self.core.seal()
            self.inbox = None
        elif kind == ev.RUN_END:
            self.result.complete = True
            if self.held_out is not None:
                self.held_out.final(e)
            if int(e.get("rounds", -1)) != self.result.rounds:
                raise _Mismatch("run_end", f"says {e.get('rounds')} rounds, the log has "
                                f"{self.result.rounds}")  # fmt: skip


_MALFORMED = (
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    pa.ArrowException,
)


def _step(v: _Verifier, seq: int, raw: bytes, e: dict[str, Any], span: Span | None) -> None:
    """One line through the verifier: a failure is a mismatch in the current round."""
    try:
        v.step(seq, raw, e, span)
    except LogError as exc:
        if v.core is None:  # the header, vouched for by its digest, cannot be replayed
            raise
        raise _Mismatch("integrity", str(exc)) from None  # a payload past the sidecar's end
    except _MALFORMED as exc:
        raise _Mismatch("event", f"malformed {e.get('event')!r} line: {exc!r}") from None
    v.consumed += len(raw)


def verify(
    path: str | Path,
    progress: Progress | None = None,
    *,
    sign_key: bytes | str | os.PathLike[str] | None = None,
) -> Verification:
    """Verify a log's integrity and recompute every complete round (see the module doc).

    Args:
        path: the log.
        progress: called as ``progress(rounds verified, rounds the header announces)``
            at every seal.
        sign_key: the key the log was signed with (bytes, or a key file's path): every
            seal's signature is checked. Without it a signed log's signatures are not
            checked, and the result says so.

    Raises:
        LogError: not a log (the first line neither JSON nor opening as a ``run_start``),
            unknown schema, missing sidecar, a header that cannot be replayed.
        SignKeyError: ``sign_key`` is not a usable key (or its file cannot be read).
    """
    key = resolve(sign_key)
    result = Verification()
    try:
        opened = Log(path)
    except DamagedHeader as exc:
        result.mismatch = (0, "integrity", exc.detail)
        return result
    with opened as log:
        v = _Verifier(log, result, key)
        ahead = ReadAhead(log)
        try:
            try:
                total = _header.announced_rounds(log.header)
                for seq, (raw, e, span) in enumerate(ahead):
                    _step(v, seq, raw, e, span)
                    if progress is not None and e.get("event") == ev.ROUND_END:
                        progress(result.rounds, total)
            except BrokenLine as exc:
                after = "after run_end " if result.complete else ""
                raise _Mismatch("integrity", f"line {exc.line} {after}is not valid JSON") from None
            finally:
                ahead.close()
            v.trailing(log.path.stat().st_size)
        except _Mismatch as bad:
            result.mismatch = (v.t if bad.round is None else bad.round, bad.what, bad.detail)
            return result
        if not result.complete:
            result.notes.insert(
                0,
                f"the log ends in round {v.t} before its round_end: verified up to round "
                f"{result.rounds}"
                if v.t > result.rounds
                else "the log ends before run_end",
            )
    return result
