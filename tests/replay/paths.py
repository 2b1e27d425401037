"""Helpers for the verifier's two paths: forcing one, tracing both, re-sealing an edited log."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pyarrow as pa
from pyarrow import ipc

from bgdsim import msglog
from bgdsim.eventlog import chain_digest, span_hasher
from bgdsim.eventlog.digest import seal_tail
from bgdsim.replay import _batch, checker, verify

#: vectorised where it can be; sequential for every span; vectorised pairing only
MODES = ("vector", "sequential", "pairing-only")


@contextlib.contextmanager
def forced(mode: str) -> Iterator[dict[str, int]]:
    """Verify on one path; yields how many rounds the vectorised receive took."""
    counts = {"vector": 0}
    receive = _batch.receive

    def counted(*args: Any) -> bool:
        took = receive(*args)
        counts["vector"] += took
        return took

    with contextlib.ExitStack() as stack:
        if mode == "sequential":
            stack.enter_context(mock.patch.object(_batch, "pair", return_value=None))
        elif mode == "pairing-only":
            stack.enter_context(mock.patch.object(_batch, "receive", return_value=False))
        else:
            stack.enter_context(mock.patch.object(_batch, "receive", counted))
        yield counts


def trace(path: Path, mode: str) -> tuple[Any, list[tuple[Any, ...]], int]:
    """Verify ``path`` on one path: (what it says, each round's inbox and barrier, rounds
    the vectorised receive took)."""
    snaps: list[tuple[Any, ...]] = []
    original = checker._Verifier.receive_arrivals

    def receive_arrivals(self: Any) -> str | None:
        reason = original(self)
        box = self.inbox
        snaps.append((box.round, reason, box.heard.tobytes(), box.received.tobytes(),
                      box.reports.tobytes(), box.n_heard, box.n_received))  # fmt: skip
        return reason

    with (
        forced(mode) as counts,
        mock.patch.object(checker._Verifier, "receive_arrivals", receive_arrivals),
    ):
        v = verify(path)
    return (v.rounds, v.complete, v.mismatch, v.notes), snaps, counts["vector"]


def encode(table: pa.Table) -> bytes:
    """A span's records as the writer encodes them (an Arrow IPC stream)."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


Edit = Callable[[int, pa.Table], "pa.Table | None"]


def reseal(path: Path, edit: Edit) -> None:
    """Rewrite a log with its message records edited and every digest recomputed.

    ``edit(round, table)`` returns a span's new records (None: keep them; round 0 is the
    ``run_end`` span). Edited records are appended to the sidecar, inside the last
    span: the result is a consistent log whose records say something else.
    """
    lines = path.read_bytes().splitlines(keepends=True)
    events = [orjson.loads(raw) for raw in lines]
    side = path.with_suffix(".bin")
    data = bytearray(side.read_bytes())
    for e in events:
        ref = e.get("messages")
        if ref is None:
            continue
        table = msglog.decode(bytes(data[ref["offset"] : ref["offset"] + ref["bytes"]]))
        new = edit(int(e["round"]) if e["event"] == "round_end" else 0, table)
        if new is not None:
            blob = encode(new)
            e["messages"] = {"offset": len(data), "bytes": len(blob), "rows": new.num_rows}
            data += blob
    seals = [e for e in events if "digest" in e]
    seals[-1]["payload_end"] = len(data)
    path.write_bytes(rechain(lines, events, bytes(data)))
    side.write_bytes(bytes(data))


def rechain(lines: list[bytes], events: list[dict[str, Any]], side: bytes) -> bytes:
    """The lines of a log with every seal's digest recomputed from ``events`` (the seal
    lines re-rendered; a ``signature`` is kept as it was: only the key could renew it)."""
    digest, line_hash, start = b"", span_hasher(), 0
    out = []
    for raw, e in zip(lines, events, strict=True):
        if "digest" in e:
            signature = e.pop("signature", None)
            del e["digest"]
            body = orjson.dumps(e)[:-1]
            line_hash.update(body)
            payload_hash = span_hasher()
            payload_hash.update(side[start : e["payload_end"]])
            digest = chain_digest(digest, line_hash.digest(), payload_hash.digest())
            raw = body + seal_tail(digest.hex(), signature)  # noqa: PLW2901 - re-sealed
            line_hash, start = span_hasher(), e["payload_end"]
        line_hash.update(raw)
        out.append(raw)
    return b"".join(out)


def replaced(table: pa.Table, **columns: list[Any]) -> pa.Table:
    """``table`` with columns replaced, all of one new length (string columns
    dictionary-encoded again)."""
    cols = {**table.to_pydict(), **columns}
    arrays = []
    for field in table.schema:
        values = cols[field.name]
        if pa.types.is_dictionary(field.type):
            arrays.append(pa.array(values, pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, names=table.column_names)


def rows_where(table: pa.Table, **match: Any) -> list[int]:
    """Indices of the rows whose columns equal ``match`` (``event``/``dir`` by name)."""
    cols = table.to_pydict()
    want = dict(match)
    if "event" in want:
        want["event"] = msglog.EVENT_CODES[want["event"]]
    if "dir" in want:
        want["dir"] = msglog.DIRECTIONS[want["dir"]]
    return [i for i in range(table.num_rows) if all(cols[k][i] == v for k, v in want.items())]
