"""Reading a log ahead of ``replay --verify``, in a background thread.

What the verifier must redo is the server's work (screening, the barrier, aggregation).
The rest — parsing the lines, hashing each span's sidecar bytes (BLAKE2b, which releases
the GIL on large buffers) and decoding its message records (Arrow, likewise) — runs in
one thread a few spans ahead of it, on the other core. The thread only reads and
computes; every check is still the verifier's, in log order: it compares the digests,
refuses bad bounds, and meets a line that is not JSON or a record that cannot be
decoded exactly where it would have met it reading alone.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from bgdsim.eventlog import span_hasher
from bgdsim.replay.reader import Log

__all__ = ["ReadAhead", "Span"]

_END = object()
_BATCH = 256  # lines handed over at once at most (a span's, up to its seal)


@dataclass(frozen=True)
class Span:
    """What was read ahead for one seal.

    ``digest``: the span hash of the sidecar bytes ``[start, end)`` (None when the seal's
    ``payload_end`` is unusable: the verifier refuses it). ``table`` or ``error``: the
    seal's message records, or what :meth:`Log.messages` raised.
    """

    start: int
    end: int
    digest: bytes | None
    table: pa.Table | None
    error: BaseException | None


class ReadAhead:
    """The lines of a log, each with its :class:`Span` if it is a seal, read ahead.

    Iterate it as :meth:`Log.lines` (a ``LogError`` from the lines is raised at the line
    where it happened); :meth:`close` stops the thread (always call it, before the log
    is closed).

    Args:
        log: the open log.
        depth: spans read ahead at most (a span's lines are handed over at once).
    """

    def __init__(self, log: Log, depth: int = 8) -> None:
        self.log = log
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bgdsim-read-ahead", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[tuple[bytes, dict[str, Any], Span | None]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def close(self) -> None:
        """Stop reading ahead and wait for the thread."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        start = 0
        batch: list[tuple[bytes, dict[str, Any], Span | None]] = []
        try:
            lines = self.log.lines()
            with contextlib.closing(lines):  # type: ignore[type-var]  # a generator
                for raw, e in lines:
                    span = None
                    if "digest" in e:
                        span = self._span(e, start)
                        if span.digest is not None:
                            start = span.end
                    batch.append((raw, e, span))
                    if span is not None or len(batch) >= _BATCH:
                        if not self._put(batch):
                            return
                        batch = []
        except BaseException as exc:  # the verifier raises it where it happened
            if self._put(batch):
                self._put(exc)
            return
        if self._put(batch):
            self._put(_END)

    def _span(self, e: dict[str, Any], start: int) -> Span:
        log = self.log
        try:
            end = int(e.get("payload_end", -1))
        except Exception:  # the verifier meets it itself, in its place
            end = -1
        digest = None
        if start <= end <= log.sidecar_size:
            h = span_hasher()
            if end > start:
                h.update(log.sidecar_view(start, end))
            digest = h.digest()
        table, error = None, None
        try:
            table = log.messages(e)
        except Exception as exc:  # the verifier raises it in its place
            error = exc
        return Span(start, end, digest, table, error)
