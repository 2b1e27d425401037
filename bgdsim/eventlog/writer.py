"""The writer of a run's event log: :class:`EventLog`.

Lines go through one structlog processor chain (:meth:`EventLog._stamp`, then orjson) into
a buffered ``.jsonl`` file; per-message events are buffered as columns and written, one
Arrow record per span, into the sidecar at each seal; vectors go to the sidecar as raw
bytes and the line carries a reference. Each seal chains the span's digest
(:mod:`bgdsim.eventlog.digest`), and with a signing key signs it
(:mod:`bgdsim.eventlog.signing`). The format as a whole is described in
:mod:`bgdsim.eventlog`.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import structlog

from bgdsim import logpaths
from bgdsim.eventlog.digest import chain_digest, seal_tail, span_hasher
from bgdsim.eventlog.layout import PAYLOAD_DTYPE
from bgdsim.eventlog.signing import check_key, header_field, sign
from bgdsim.events import RUN_START
from bgdsim.msglog import MessageBuffer

__all__ = ["EventLog"]

_FIRST = ("event", "seq", "time", "round", "worker")


def _serialize(obj: Any, **_: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


_BUFFER_BYTES = 1 << 20
#: sidecar writes of this many bytes or more (an (m, d) report block at large m) are
#: written and hashed on the log's own thread, while the round goes on: hashlib and file
#: writes release the GIL on large buffers. Below it the hand-off (the thread waiting
#: for the GIL, the seal waiting for the thread) costs more than it saves: measured
#: 0.97x at 546 kB, 1.11x at 781 kB (a vector round at d = 10, m = 7 000 and 10 000).
_BACKGROUND_BYTES = 640 << 10


class _Sink:
    """structlog's final "logger": hands each rendered line to the log."""

    def __init__(self, line: Any) -> None:
        self._line = line

    def msg(self, message: bytes) -> None:
        self._line(message)

    info = msg


class EventLog:
    """Writes one run's events.

    Lines and payloads go to buffered files as they happen; :meth:`flush` (once per round)
    pushes both to the OS, payloads first. Lines of the round in progress may reach the
    disk earlier than their payloads (when a buffer fills); readers trust a round only once
    its ``round_end`` line is there.

    Args:
        path: the ``.jsonl`` file (its sidecar goes beside it), or None to record nothing.
            Both are created exclusively and the log is locked while it is written
            (:func:`bgdsim.logpaths.open_log_files`): an existing log is refused.
        overwrite: replace an existing log (never a file that is not a bgdsim log).
        sign_key: a key (16 to 64 bytes) to sign every seal with
            (:mod:`bgdsim.eventlog.signing`); None for an unsigned log.
    """

    #: live runtimes keep each message's wall-clock time
    wall_column = False

    def __init__(
        self, path: str | Path | None, *, overwrite: bool = False, sign_key: bytes | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._key = None if sign_key is None else check_key(sign_key)
        self._sealing = False
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
        self._writer: ThreadPoolExecutor | None = None  # the sidecar's thread, once needed
        self._pending: list[Future[None]] = []  # its writes not yet known to be done
        write: Any = lambda _b: None  # noqa: E731 - a disabled log writes nowhere
        if self.path is not None:
            self._open_files(overwrite)
            write = self._write_line
        self._write = write
        self._log = structlog.wrap_logger(
            _Sink(self._line),
            processors=[self._stamp, structlog.processors.JSONRenderer(serializer=_serialize)],
            wrapper_class=structlog.BoundLogger,
        ).bind()

    def _open_files(self, overwrite: bool) -> None:
        """Open the log and its sidecar, exclusively (a subclass may defer this until its
        first write: the TCP server binds its socket first)."""
        assert self.path is not None
        self._lines, self._side = logpaths.open_log_files(
            self.path, overwrite=overwrite, buffering=_BUFFER_BYTES
        )

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
            if event == RUN_START and self._key is not None:
                fields["signed"] = header_field(self._key)
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
        (``messages``), and the line carries ``payload_end``, then the chained ``digest``
        of everything written since the previous seal and of this line up to it (see
        :mod:`bgdsim.eventlog.digest`), then, with a signing key, its ``signature``."""
        if not self.enabled:
            return
        if self._messages is not None and len(self._messages):
            blob, rows = self._messages.encode()
            offset = self._offset
            self._append(blob)
            self._sealed_messages(self._messages.last)
            fields["messages"] = {"offset": offset, "bytes": len(blob), "rows": rows}
        self._drain()  # the span's sidecar bytes are all hashed before its digest
        self._sealing = True
        try:
            self.emit(event, time, **fields, payload_end=self._offset)
        finally:
            self._sealing = False

    def _line(self, body: bytes) -> None:
        """One rendered line; a seal's gets its digest (and signature) appended."""
        if not self._sealing:
            self._write(body + b"\n")
            return
        self._sealing = False  # one line per seal
        body = body[:-1]  # the closing brace: the digest and signature go before it
        self._line_hash.update(body)
        digest = chain_digest(self._digest, self._line_hash.digest(), self._payload_hash.digest())
        self._digest = digest
        self._line_hash = span_hasher()
        self._payload_hash = span_hasher()
        signature = None if self._key is None else sign(self._key, digest)
        self._write(body + seal_tail(digest.hex(), signature))

    def _sealed_messages(self, records: Any) -> None:
        """A span's message records (a ``pyarrow.RecordBatch``) were written (a hook for
        subclasses)."""

    def _write_line(self, data: bytes) -> None:
        self._lines.write(data)  # type: ignore[union-attr]
        self._line_hash.update(data)

    def payload(self, vector: np.ndarray) -> dict[str, Any] | None:
        """Append a vector to the sidecar; return the reference a line carries.

        The vector may be written after this returns (by the next seal or flush at the
        latest: a large one, and every one after it in the same span, goes to the log's
        thread): it must not change until then."""
        if self._side is None:
            return None
        arr = np.asarray(vector, order="C")  # keeps a 0-d array 0-d (ascontiguousarray would not)
        ref: dict[str, Any] = {"offset": self._offset, "shape": list(arr.shape)}
        if arr.dtype.str != PAYLOAD_DTYPE:
            ref["dtype"] = arr.dtype.str
        self._append(arr.data)
        return ref

    def _append(self, data: Any) -> None:
        """Raw bytes to the sidecar, hashed into the current span: large ones (and any
        that follow them before the next seal, to keep their order) on the log's thread."""
        assert self._side is not None
        size = memoryview(data).nbytes
        if self._pending or size >= _BACKGROUND_BYTES:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="bgdsim-log")
            self._pending.append(self._writer.submit(self._write_side, data, self._payload_hash))
        else:
            self._write_side(data, self._payload_hash)
        self._offset += size

    def _write_side(self, data: Any, hasher: Any) -> None:
        assert self._side is not None
        self._side.write(data)
        hasher.update(data)

    def _drain(self) -> None:
        """Wait for the sidecar writes on the log's thread (raising the first error)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def flush(self) -> None:
        """Push buffered payloads, then buffered lines, to the OS."""
        if self._side is not None and self._lines is not None:
            self._drain()
            self._side.flush()
            self._lines.flush()

    def close(self) -> None:
        """Flush and close the files, and stop the log's thread."""
        try:
            self.flush()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None
            for f in (self._lines, self._side):
                if f is not None:
                    f.close()
            self._lines = self._side = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
