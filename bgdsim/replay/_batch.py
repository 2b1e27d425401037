"""The vectorised path of ``replay --verify``: a span's reports as columns, not dicts.

:func:`pair` is the verifier's ``messages`` step on the record's columns: it pairs each
up-link arrival with its recorded send (FIFO per round and worker, as the sequential
path does) and keeps the still unpaired sends in :class:`Sends`. :func:`receive` is
``receive_arrivals`` for a round whose arrivals are all late or from distinct known
workers of the round: it gathers the reports as one matrix, screens them, fills the
:class:`~bgdsim.engine.RoundInbox` as one :meth:`~bgdsim.engine.ServerCore.receive` per
report would, recomputes the barrier in closed form (:meth:`~bgdsim.engine.Barrier.resolve`)
and compares every recorded outcome and rejection reason. Both return a "not handled"
answer (None, False) before changing anything when a span is unusual (duplicates, unknown
workers, wrong rounds, missing sends, payloads that cannot be read): the verifier then
takes the sequential path, whose results and messages are the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from bgdsim import events as ev
from bgdsim.engine import Barrier, RoundInbox, ServerCore
from bgdsim.engine.validation import validate_report
from bgdsim.msglog import EVENT_CODES, EVENT_NAMES, payload_reference
from bgdsim.replay._arrivals import Arrivals, Mismatch, Sends
from bgdsim.replay.reader import Log

__all__ = ["pair", "receive", "screen"]

_SEND, _DELIVER, _LATE, _REJECTED = (
    EVENT_CODES[k] for k in (ev.SEND, ev.DELIVER, ev.LATE, ev.REJECTED)
)
_INTS = ("round", "worker", "dir", "event", "payload")
_FLOATS = ("time", "latency")
_ALL = (*_INTS, *_FLOATS, "byzantine", "reason", "spec")  # what expand() reads
_SLACK = 1e-6  # relative: a vectorised norm this far under max_norm is surely under it


def _strings(table: pa.Table, name: str) -> tuple[np.ndarray, list[str | None]] | None:
    """A dictionary column as codes into its words (the last word None: a null)."""
    col = table.column(name)
    if not pa.types.is_dictionary(col.type):
        return None
    if col.null_count == len(col):
        return np.zeros(len(col), dtype=np.int64), [None]
    col = col.combine_chunks()
    words: list[str | None] = [*col.dictionary.to_pylist(), None]
    codes = col.indices.to_numpy(zero_copy_only=False)  # float, NaN for a null, if any
    if col.null_count:
        codes = np.where(np.isnan(codes), len(words) - 1, codes)
    return codes.astype(np.int64), words


def _columns(table: pa.Table) -> dict[str, np.ndarray] | None:
    """The record's numeric columns as arrays, or None if :func:`~bgdsim.msglog.expand`
    could fail on them: a column missing, mistyped or null, an unknown code."""
    names = table.column_names
    if not set(names).issuperset(_ALL):
        return None
    cols = {k: table.column(k).to_numpy() for k in (*_INTS, *_FLOATS)}
    if any(cols[k].dtype.kind not in "iu" for k in _INTS):  # a null makes it float
        return None
    if any(cols[k].dtype.kind != "f" for k in _FLOATS):
        return None
    wall = table.column("wall") if "wall" in names else None
    if wall is not None and (wall.null_count or not pa.types.is_floating(wall.type)):
        return None  # expand() takes isnan() of every wall time
    direction, event = cols["dir"], cols["event"]
    if direction.size and (
        min(direction.min(), event.min()) < 0
        or direction.max() > 1
        or event.max() > max(EVENT_NAMES)
    ):
        return None
    return cols


def pair(table: pa.Table, sends: Sends, dim: int) -> Arrivals | None:
    """The span's arrivals paired with their sends, the other sends kept in ``sends``.

    None (and ``sends`` untouched) when the sequential path must judge the span: a
    column it cannot read, a code it does not know, a time that is not finite, two sends
    or two arrivals of one (round, worker), a send of one whose earlier send still waits,
    or an arrival with no recorded send.
    """
    cols = _columns(table)
    spec_column, reason_column = _strings(table, "spec"), _strings(table, "reason")
    if cols is None or spec_column is None or reason_column is None:
        return None
    event, payload = cols["event"], cols["payload"].astype(np.int64)
    rounds, workers = cols["round"].astype(np.int64), cols["worker"].astype(np.int64)
    up = cols["dir"] == 1
    sent = np.flatnonzero(up & (event == _SEND))
    came = np.flatnonzero(up & ((event == _DELIVER) | (event == _LATE) | (event == _REJECTED)))
    if not np.isfinite(cols["time"][came]).all():
        return None
    came = came[np.argsort(cols["time"][came], kind="stable")]
    # each arrival's send in this span: a join on (round, worker)
    skey = (rounds[sent] << 32) | (workers[sent] & 0xFFFFFFFF)
    akey = (rounds[came] << 32) | (workers[came] & 0xFFFFFFFF)
    order = np.argsort(skey)
    skey = skey[order]
    if (skey[1:] == skey[:-1]).any() or sends.overlap(rounds[sent], workers[sent]):
        return None
    at = np.minimum(np.searchsorted(skey, akey), max(skey.size - 1, 0))
    found = skey[at] == akey if skey.size else np.zeros(came.size, dtype=bool)
    src = np.where(found, sent[order][at] if skey.size else 0, -1)  # its row, or -1
    hit = np.zeros(event.size, dtype=bool)
    hit[src[found]] = True
    early = [
        (i, int(rounds[came[i]]), int(workers[came[i]])) for i in np.flatnonzero(~found).tolist()
    ]
    if int(hit.sum()) != int(found.sum()) or len({(r, j) for _, r, j in early}) != len(early):
        return None  # two arrivals of one (round, worker)
    if not all(sends.waiting(r, j) for _, r, j in early):
        return None  # an arrival with no recorded send
    spec, words = spec_column
    special = np.array([bool(w) for w in words])[spec]  # not a (d,) float64 payload
    for c in set(spec[(event == _SEND) & (payload >= 0) & special].tolist()):
        try:  # every send's reference, either direction, as expand() makes it
            payload_reference(0, str(words[c]), dim)
        except Exception:
            return None
    # nothing can fail now: take the paired sends, keep the others waiting
    refs: dict[int, dict[str, Any] | None] = {i: sends.take(r, j) for i, r, j in early}
    offset = np.where(found, payload[np.maximum(src, 0)], -1)
    for i in np.flatnonzero(found & ((offset < 0) | special[np.maximum(src, 0)])).tolist():
        row = int(src[i])
        refs[i] = (
            None
            if offset[i] < 0
            else payload_reference(int(offset[i]), words[spec[row]] or "", dim)
        )
        offset[i] = -1
    for row in sent[~hit[sent]].tolist():
        off = int(payload[row])
        sends.add(
            int(rounds[row]), int(workers[row]), (off, words[spec[row]] or "") if off >= 0 else None
        )
    reason, reason_words = reason_column
    kinds, times = event[came].astype(np.int64), cols["time"][came].astype(np.float64)
    return Arrivals(
        kinds, rounds[came], workers[came], times, offset, refs, reason[came], reason_words
    )


def screen(block: np.ndarray, max_norm: float | None) -> tuple[np.ndarray, dict[int, str]]:
    """:func:`~bgdsim.engine.validation.validate_block` as (accepted mask, reasons).

    Rows that are surely fine — a finite sum, and a norm clearly under ``max_norm`` — are
    accepted without a call; every other row gets :func:`validate_report`'s exact verdict.
    """
    k, d = block.shape
    with np.errstate(all="ignore"):
        check = ~np.isfinite(block.sum(axis=1))  # NaN and ±inf rows, and overflowing sums
        if max_norm is not None and k:
            scale = np.abs(block).max(axis=1) if d else np.zeros(k)
            unit = block / np.where(scale > 0, scale, 1.0)[:, None]
            norm = scale * np.sqrt(np.einsum("ij,ij->i", unit, unit))
            check |= ~(norm <= max_norm * (1 - _SLACK))
    ok = np.ones(k, dtype=bool)
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(check).tolist():
        verdict = validate_report(block[i], dim=d, max_norm=max_norm)
        if verdict is not None:
            ok[i] = False
            reasons[i] = verdict
    return ok, reasons


def receive(log: Log, core: ServerCore, inbox: RoundInbox, barrier: Barrier, arr: Arrivals) -> bool:
    """The round's arrivals, screened and counted in bulk; the barrier in closed form.

    Returns False, having changed nothing, unless every arrival is late or a report of
    this round from a distinct known worker, and every payload can be read; raises
    :class:`Mismatch` (as the sequential path would, the first in time order) when a
    recorded outcome or rejection reason differs from the recomputed one.
    """
    t, m, dim = inbox.round, core.m, core.dim
    late, now = arr.round < t, arr.round == t
    if not (late | now).all() or inbox.n_heard or inbox.closed or not dim:
        return False
    who = arr.worker[now]
    if who.size and (who.min() < 0 or who.max() >= m):
        return False
    heard = np.zeros(m, dtype=bool)
    heard[who] = True
    if int(heard.sum()) != who.size:  # a worker heard from twice
        return False
    plain = arr.offset >= 0
    offsets = arr.offset[plain]
    if offsets.size and offsets.max() + 8 * dim > log.sidecar_size:
        return False
    views: dict[int, Any] = {}
    for i, ref in sorted(arr.refs.items()):  # what the sequential path reads, in its order
        try:
            views[i] = log.view(ref)  # type: ignore[arg-type]
        except Exception:  # it reports it
            return False
    rows = np.flatnonzero(now & plain)
    rows = rows[np.argsort(arr.worker[rows], kind="stable")]  # in worker order
    full = rows.size == m  # every worker's row, in order: straight into the inbox
    block = log.rows(arr.offset[rows], dim, out=inbox.reports if full else None)
    ok, reasons = screen(block, core.max_norm)
    accepted = np.zeros(len(arr), dtype=bool)
    accepted[rows] = ok
    verdicts = {int(rows[i]): reason for i, reason in reasons.items()}
    for i in np.flatnonzero(now & ~plain).tolist():
        verdict = validate_report(views[i], dim=dim, max_norm=core.max_norm)
        accepted[i] = verdict is None
        if verdict is not None:
            verdicts[i] = verdict
    # when the barrier fires: a report of the round after it (a live clock's straggler,
    # or an edited time) is late, which one message at a time sorts out
    when = np.full(m, np.inf)
    when[who] = arr.time[now]
    kept = np.zeros(m, dtype=bool)
    kept[arr.worker[accepted]] = True
    fire, _ = barrier.firing(when, kept)
    if (arr.time[now] > fire).any():
        return False
    # the inbox, as one receive() per report would leave it
    inbox.heard[who] = True
    inbox.n_heard += int(who.size)
    if full:  # already in: a rejected report is not kept
        if not ok.all():
            block[~ok] = 0.0
    else:
        inbox.reports[arr.worker[rows[ok]]] = block[ok]
    for i in np.flatnonzero(now & ~plain & accepted).tolist():
        inbox.reports[arr.worker[i]] = views[i]
    got = arr.worker[accepted]
    inbox.received[got] = True
    inbox.n_received += int(got.size)
    barrier.resolve(when, kept)
    # every outcome and reason, the first mismatch in time order
    outcome = np.where(late, _LATE, np.where(accepted, _DELIVER, _REJECTED))
    bad = arr.kind != outcome
    for i in np.flatnonzero((arr.kind == _REJECTED) & ~bad).tolist():
        if arr.words[arr.reason[i]] != verdicts[i]:
            bad[i] = True
    if bad.any():
        i = int(np.argmax(bad))
        what, kind = f"validation of worker {int(arr.worker[i])}", EVENT_NAMES[int(arr.kind[i])]
        if outcome[i] != arr.kind[i]:
            raise Mismatch(what, f"recorded {kind}, recomputed {EVENT_NAMES[int(outcome[i])]}")
        recorded, reason = arr.words[arr.reason[i]], verdicts[i]
        raise Mismatch(what, f"recorded reason {recorded!r}, recomputed {reason!r}")
    return True
