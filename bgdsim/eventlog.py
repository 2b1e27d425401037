"""The event log: structlog → JSON lines, vectors in a lossless binary sidecar.

Events go through one structlog processor chain — :meth:`EventLog._stamp` (adds ``seq``
and orders the keys ``event, seq, time, round, worker, …``) then a JSON renderer on
orjson — into an in-memory buffer that is written out once per round
(:meth:`EventLog.flush`), so a run killed mid-way leaves every complete round on disk.
The per-message events (``send``, ``deliver``, ``drop``, ``late``, ``rejected``: the bulk
of a log, O(m) per round) are not lines: :meth:`EventLog.message` buffers them as columns,
and each seal writes the span's rows as one Arrow record into the sidecar
(:mod:`bgdsim.msglog`, log schema 2). Vectors (θ, reports, aggregates)
are never written as JSON floats: :meth:`EventLog.payload` appends their raw
little-endian float64 bytes to the sidecar ``<log stem>.bin`` and returns a reference
``{"offset": bytes, "shape": [...]}`` that the line carries. The sidecar is written
before the lines that reference it.

Integrity: every ``round_end`` (and the ``run_end``) is a *seal* carrying ``digest``, a
BLAKE2b hash chained over the previous digest, the bytes of every line since the last
seal and the sidecar bytes written since it (up to ``payload_end``). Editing a number in
a line, deleting or swapping lines, or flipping a payload byte breaks the chain at the
round where it happened (``bgdsim replay LOG --verify`` names it).

A simulated run records no wall-clock time, so the same scenario and seed give
byte-identical logs. The first line (``run_start``) is the header: schema version,
bgdsim and numpy versions, the resolved scenario, the seed, θ* and θ₀. The format is
documented in ``docs/log-format.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import structlog

from bgdsim.msglog import EVENT_CODES, MessageBuffer, decode, expand

__all__ = [
    "SCHEMA_VERSION",
    "EventLog",
    "MemorySink",
    "load_payload",
    "read_events",
    "sidecar_path",
]

SCHEMA_VERSION = 2
PAYLOAD_DTYPE = "<f8"
_FIRST = ("event", "seq", "time", "round", "worker")


def sidecar_path(log_path: str | Path) -> Path:
    """The payload sidecar beside a log: ``run.jsonl`` → ``run.bin``."""
    p = Path(log_path)
    return p.with_suffix(".bin") if p.suffix else p.with_name(p.name + ".bin")


def _serialize(obj: Any, **_: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


DIGEST_SIZE = 16


def chain_digest(previous: bytes, lines: bytes, payloads: bytes) -> bytes:
    """The seal's digest: H(previous digest ‖ H(lines of the span) ‖ H(payloads of the span)).

    ``lines`` and ``payloads`` are the two span hashes (``hashlib.blake2b(...).digest()``).
    """
    return hashlib.blake2b(previous + lines + payloads, digest_size=DIGEST_SIZE).digest()


def span_hasher() -> Any:
    """A fresh hasher for one span's lines or payload bytes."""
    return hashlib.blake2b(digest_size=DIGEST_SIZE)


_BUFFER_BYTES = 1 << 20


class _Sink:
    """structlog's final "logger": appends each rendered line to the buffered log file."""

    def __init__(self, write: Any) -> None:
        self._write = write

    def msg(self, message: bytes) -> None:
        self._write(message + b"\n")

    info = msg


class EventLog:
    """Writes one run's events.

    Lines and payloads go to buffered files as they happen; :meth:`flush` (once per round)
    pushes both to the OS, payloads first. Lines of the round in progress may reach the
    disk earlier than their payloads (when a buffer fills); readers trust a round only once
    its ``round_end`` line is there.

    Args:
        path: the ``.jsonl`` file (its sidecar goes beside it), or None to record nothing.
    """

    #: live runtimes keep each message's wall-clock time
    wall_column = False

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.enabled = self.path is not None
        self.seq = 0
        self.dim = 0  # d, set by the run's header: (d,) float64 payloads need no spec
        self._messages: MessageBuffer | None = None
        self._offset = 0
        self._lines: IO[bytes] | None = None
        self._side: IO[bytes] | None = None
        self._line_hash = span_hasher()
        self._payload_hash = span_hasher()
        self._digest = b""
        write: Any = lambda _b: None  # noqa: E731 - a disabled log writes nowhere
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lines = open(self.path, "wb", buffering=_BUFFER_BYTES)  # noqa: SIM115
            self._side = open(sidecar_path(self.path), "wb", buffering=_BUFFER_BYTES)  # noqa: SIM115
            write = self._write_line
        self._write = write
        self._log = structlog.wrap_logger(
            _Sink(write),
            processors=[self._stamp, structlog.processors.JSONRenderer(serializer=_serialize)],
            wrapper_class=structlog.BoundLogger,
        ).bind()

    def _stamp(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> dict[str, Any]:
        out = {"event": event_dict.pop("event"), "seq": self.seq}
        self.seq += 1
        for key in _FIRST[2:]:
            if key in event_dict:
                out[key] = event_dict.pop(key)
        out.update(event_dict)
        return out

    def emit(self, event: str, time: float, **fields: Any) -> None:
        """Record one event at simulated ``time``."""
        if self.enabled:
            self._log.info(event, time=time, **fields)

    def message(
        self,
        event: str,
        time: float,
        round: int,
        worker: int,
        direction: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record a per-message event: a row of the span's columnar record (see
        :mod:`bgdsim.msglog`), written at the next seal."""
        if self.enabled:
            self._buffer().add(event, time, round, worker, direction, extra)

    def messages(self, **columns: Any) -> None:
        """Record many per-message events at once, as arrays (the vector runtime)."""
        if self.enabled:
            self._buffer().add_columns(**columns)

    def _buffer(self) -> MessageBuffer:
        if self._messages is None:
            self._messages = MessageBuffer(self.dim, wall=self.wall_column)
        return self._messages

    def seal(self, event: str, time: float, **fields: Any) -> None:
        """Record ``event`` closing a span: the span's message records go to the sidecar
        (``messages``), and the line carries ``payload_end`` and the chained ``digest`` of
        everything written since the previous seal (see the module doc)."""
        if not self.enabled:
            return
        if self._messages is not None and len(self._messages):
            blob, rows = self._messages.encode()
            offset = self._offset
            self._append(blob)
            self._sealed_messages(blob)
            fields["messages"] = {"offset": offset, "bytes": len(blob), "rows": rows}
        digest = chain_digest(self._digest, self._line_hash.digest(), self._payload_hash.digest())
        self._digest = digest
        self._line_hash = span_hasher()
        self._payload_hash = span_hasher()
        self.emit(event, time, **fields, payload_end=self._offset, digest=digest.hex())

    def _sealed_messages(self, blob: bytes) -> None:
        """A span's message records were written (a hook for subclasses)."""

    def _write_line(self, data: bytes) -> None:
        self._lines.write(data)  # type: ignore[union-attr]
        self._line_hash.update(data)

    def payload(self, vector: np.ndarray) -> dict[str, Any] | None:
        """Append a vector to the sidecar; return the reference a line carries."""
        if self._side is None:
            return None
        arr = np.ascontiguousarray(vector)
        ref: dict[str, Any] = {"offset": self._offset, "shape": list(arr.shape)}
        if arr.dtype.str != PAYLOAD_DTYPE:
            ref["dtype"] = arr.dtype.str
        self._append(arr.data)
        return ref

    def _append(self, data: Any) -> None:
        """Raw bytes to the sidecar, hashed into the current span."""
        assert self._side is not None
        self._side.write(data)
        self._payload_hash.update(data)
        self._offset += memoryview(data).nbytes

    def flush(self) -> None:
        """Push buffered payloads, then buffered lines, to the OS."""
        if self._side is not None and self._lines is not None:
            self._side.flush()
            self._lines.flush()

    def close(self) -> None:
        """Flush and close the files."""
        self.flush()
        for f in (self._lines, self._side):
            if f is not None:
                f.close()
        self._lines = self._side = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemorySink:
    """An :class:`~bgdsim.events.EventSink` that keeps events as dicts, for tests.

    ``events`` holds every event in order (per-message ones with ``dir``), payloads are
    kept as arrays in ``payloads`` and referenced by index, seals carry no digest.
    """

    enabled = True

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.payloads: list[np.ndarray] = []
        self.dim = 0

    def emit(self, event: str, time: float, **fields: Any) -> None:
        self.events.append({"event": event, "time": time, **fields})

    def message(
        self,
        event: str,
        time: float,
        round: int,
        worker: int,
        direction: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        line = {"event": event, "time": time, "round": round, "worker": worker}
        line["dir"] = direction
        self.events.append({**line, **(extra or {})})

    def messages(self, **columns: Any) -> None:
        """Many per-message events at once (arrays, as :meth:`EventLog.messages`)."""
        names = {code: name for name, code in EVENT_CODES.items()}
        n = len(columns["round"])
        for i in range(n):
            extra: dict[str, Any] = {
                key: columns[key][i]
                for key in ("latency", "byzantine", "reason")
                if key in columns and columns[key][i] is not None
            }
            if "latency" in extra and np.isnan(extra["latency"]):
                del extra["latency"]
            self.message(
                names[int(columns["event"][i])],
                float(columns["time"][i]),
                int(columns["round"][i]),
                int(columns["worker"][i]),
                ("down", "up")[int(columns["dir"][i])],
                extra,
            )

    def payload(self, vector: np.ndarray) -> dict[str, Any]:
        self.payloads.append(np.array(vector))
        return {"index": len(self.payloads) - 1}

    def seal(self, event: str, time: float, **fields: Any) -> None:
        self.emit(event, time, **fields)

    def flush(self) -> None:
        return None

    def of(self, event: str) -> list[dict[str, Any]]:
        """The events named ``event``, in order."""
        return [e for e in self.events if e["event"] == event]


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the events of a log, in order, as dicts (a torn last line is skipped).

    Each seal's per-message records are yielded, as event dicts without ``seq``, just
    before the seal's line (their canonical order, see :mod:`bgdsim.msglog`). For checked
    reading (schema, sidecar, payloads) use :func:`bgdsim.read_log`.
    """
    dim = 0
    with open(path, "rb") as f, contextlib.ExitStack() as stack:
        side: IO[bytes] | None = None
        for line in f:
            if not line.endswith(b"\n"):
                return
            event = orjson.loads(line)
            if event.get("event") == "run_start":
                dim = int(event.get("scenario", {}).get("problem", {}).get("dim", 0))
            ref = event.get("messages")
            if isinstance(ref, dict):
                if side is None:
                    side = stack.enter_context(open(sidecar_path(path), "rb"))
                side.seek(int(ref["offset"]))
                yield from expand(decode(side.read(int(ref["bytes"]))), dim)
            yield event


def load_payload(path: str | Path, ref: dict[str, Any]) -> np.ndarray:
    """Read the vector a line's payload reference points to from the log's sidecar."""
    dtype = np.dtype(ref.get("dtype", PAYLOAD_DTYPE))
    count = int(np.prod(ref["shape"], dtype=np.int64))
    with open(sidecar_path(path), "rb") as f:
        f.seek(int(ref["offset"]), os.SEEK_SET)
        data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ValueError(f"{sidecar_path(path)}: payload at {ref['offset']} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(ref["shape"]).copy()
