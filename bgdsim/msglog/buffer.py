"""Writing the per-message records: a span's events as columns, encoded at its seal
(see :mod:`bgdsim.msglog`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
from pyarrow import ipc

from bgdsim.msglog.codes import DIRECTIONS, EVENT_CODES, WHOLE, ZSTD, payload_spec

__all__ = ["MessageBuffer", "canonical_order"]

# A large record's buffers are zstd-compressed (level 1). LZ4 was measured too: ~0.4 ms
# less a 45,000-row record, but 15-18 against 11 bytes a row on lognormal times and
# latencies, i.e. 23-27 bytes a message against the 24 allowed (zstd: 17).
_BUFFERS = ipc.IpcWriteOptions(compression=ZSTD)  # each column compressed in the stream
_PLAIN = ipc.IpcWriteOptions()
# A small record is compressed as a whole (one zstd call instead of one per buffer:
# 0.21 against 0.52 ms for a 600-row span), stored as WHOLE + length + one zstd frame.
_SMALL = 20_000  # rows
_NAN = math.nan


class MessageBuffer:
    """A span's message events, as columns, until the next seal.

    Args:
        dim: d (payloads of shape ``(d,)`` and dtype float64 need no ``spec``).
        wall: keep a ``wall`` column (live runtimes).
    """

    def __init__(self, dim: int, *, wall: bool = False) -> None:
        self.dim = dim
        self.wall = wall
        self.last: pa.RecordBatch | None = None
        self._columns: list[dict[str, Any]] = []  # batches of whole columns (vector runtime)
        self._reset()

    def _reset(self) -> None:
        # one tuple per event from add(): (round, worker, dir, event, time, latency,
        # byzantine, reason, payload, spec, wall)
        self.rows: list[tuple[Any, ...]] = []
        self._columns = []

    def __len__(self) -> int:
        return len(self.rows) + sum(len(c["round"]) for c in self._columns)

    def add(
        self,
        event: str,
        time: float,
        round: int,
        worker: int,
        direction: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """One event (``extra``: ``latency``, ``byzantine``, ``payload``, ``reason``, ``wall``)."""
        if not extra:
            self.rows.append(
                (round, worker, DIRECTIONS[direction], EVENT_CODES[event], time, _NAN, False,
                 None, -1, None, _NAN)
            )  # fmt: skip
            return
        latency = extra.get("latency")
        ref = extra.get("payload")
        if ref is None:
            offset, spec = -1, None
        else:
            offset = int(ref["offset"])
            standard = "dtype" not in ref and ref["shape"] == [self.dim]
            spec = None if standard else payload_spec(ref, self.dim) or None
        self.rows.append(
            (round, worker, DIRECTIONS[direction], EVENT_CODES[event], time,
             _NAN if latency is None else latency, bool(extra.get("byzantine", False)),
             extra.get("reason"), offset, spec, extra.get("wall", _NAN))
        )  # fmt: skip

    def add_columns(self, **columns: Any) -> None:
        """Many events at once, as equal-length arrays (missing columns take defaults)."""
        n = len(columns["round"])
        out = {
            "round": np.asarray(columns["round"], dtype=np.int32),
            "worker": np.asarray(columns["worker"], dtype=np.int32),
            "dir": np.asarray(columns["dir"], dtype=np.uint8),
            "event": np.asarray(columns["event"], dtype=np.uint8),
            "time": np.asarray(columns["time"], dtype=np.float64),
            "latency": _column(columns.get("latency"), n, np.float64, _NAN),
            "byzantine": _column(columns.get("byzantine"), n, bool, False),
            "reason": _objects(columns.get("reason"), n),
            "payload": _column(columns.get("payload"), n, np.int64, -1),
            "spec": _objects(columns.get("spec"), n),
        }
        if self.wall:
            out["wall"] = _column(columns.get("wall"), n, np.float64, _NAN)
        self._columns.append(out)

    def _rows_as_columns(self) -> dict[str, Any]:
        """The events added one by one, as a part of columns (numpy converts the tuples)."""
        table = np.array(self.rows, dtype=_ROW)
        names = ("round", "worker", "dir", "event", "time", "latency", "byzantine")
        out: dict[str, Any] = {name: table[name] for name in names}
        reason, spec = table["reason"], table["spec"]
        out["reason"] = None if _all_none(reason) else reason  # empty: None too
        out["payload"] = table["payload"]
        out["spec"] = None if _all_none(spec) else spec
        if self.wall:
            out["wall"] = table["wall"]
        return out

    def encode(self) -> tuple[bytes, int]:
        """The span's records in canonical order as an Arrow IPC stream; clears the buffer."""
        parts = [self._rows_as_columns(), *self._columns]

        if not len(parts[0]["round"]):
            parts = parts[1:] or parts
        strings = ("reason", "spec")
        cols = {
            key: np.concatenate([p[key] for p in parts]) for key in parts[0] if key not in strings
        }
        order = canonical_order(cols["round"], cols["dir"], cols["worker"])
        n = int(order.size)
        arrays: dict[str, pa.Array] = {}
        for key, values in cols.items():
            arrays[key] = pa.array(values[order])
        for key in strings:
            arrays[key] = _dictionary([(p[key], len(p["round"])) for p in parts], order)
        arrays = {key: arrays[key] for key in parts[0]}  # the schema's column order
        batch = pa.RecordBatch.from_pydict(arrays)
        self.last = batch  # what was just encoded, for a reader that needs it now
        sink = pa.BufferOutputStream()
        small = n < _SMALL
        with ipc.new_stream(sink, batch.schema, options=_PLAIN if small else _BUFFERS) as out:
            out.write_batch(batch)
        self._reset()
        stream = sink.getvalue()
        if not small:
            return stream.to_pybytes(), n
        size = len(stream).to_bytes(8, "little")
        return WHOLE + size + ZSTD.compress(stream, asbytes=True), n


_ROW = np.dtype(
    [("round", "i4"), ("worker", "i4"), ("dir", "u1"), ("event", "u1"), ("time", "f8"),
     ("latency", "f8"), ("byzantine", "?"), ("reason", "O"), ("payload", "i8"), ("spec", "O"),
     ("wall", "f8")]
)  # fmt: skip


def canonical_order(rounds: np.ndarray, dirs: np.ndarray, workers: np.ndarray) -> np.ndarray:
    """The permutation that sorts rows by (round, dir, worker), stable within each: one
    stable sort of the packed int64 key round << 33 | dir << 32 | worker (a merge of the
    few sorted runs the rows come in) when it fits: workers >= 0, 0 <= rounds < 2**30,
    directions 0 or 1."""
    if (
        not rounds.size
        or not 0 <= rounds.min() <= rounds.max() < 1 << 30
        or workers.min() < 0
        or dirs.max() > 1
    ):
        return np.lexsort((workers, dirs, rounds))
    key = rounds.astype(np.int64)
    key <<= 1
    key |= dirs
    key <<= 32
    key |= workers
    return np.argsort(key, kind="stable")


def _all_none(values: np.ndarray) -> bool:
    """Every entry of an object column is None."""
    return bool((values == None).all())  # noqa: E711 - elementwise, on objects


def _column(values: Any, n: int, dtype: Any, default: Any) -> np.ndarray:
    """A column as an array of ``dtype``, or ``default`` repeated when it is not given."""
    if values is None:
        return np.full(n, default, dtype=dtype)
    return np.asarray(values, dtype=dtype)


def _objects(values: Any, n: int) -> np.ndarray | None:
    """A column of optional strings as an object array; None when every entry is None."""
    if values is None:
        return None
    if isinstance(values, list) and values.count(None) == n:
        return None
    out = np.empty(n, dtype=object)
    out[:] = values
    return out


def _dictionary(parts: list[tuple[np.ndarray | None, int]], order: np.ndarray) -> pa.Array:
    """Optional strings as a dictionary column with a sorted dictionary (so the bytes
    depend only on the values, not on the order they were added in)."""
    n = int(order.size)
    if all(values is None for values, _ in parts):
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), pa.array([], pa.string()))
    full = np.concatenate(
        [np.full(size, None, dtype=object) if v is None else v for v, size in parts]
    )[order]
    where = np.flatnonzero(full != None)  # noqa: E711 - elementwise, on objects
    words, codes = np.unique(full[where].astype(str), return_inverse=True)
    indices = np.zeros(n, dtype=np.int32)
    indices[where] = codes
    mask = np.ones(n, dtype=bool)
    mask[where] = False
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, mask=mask), pa.array(words.tolist(), pa.string())
    )
