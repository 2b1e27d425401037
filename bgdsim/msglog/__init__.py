"""Per-message records of log schema 2: one columnar Arrow record per span of the log.

The per-message events (``send``, ``deliver``, ``drop``, ``late``, ``rejected``, both
directions) are O(m) per round — the bulk of a log. Instead of one JSON line each, they
are buffered as columns and written at each seal (``round_end``, ``run_end``) as one
Arrow IPC stream into the payload sidecar — with zstd-compressed buffers, or, for a span
of fewer than 20,000 rows, compressed as a whole (``BGZ1``, the stream's length as a
little-endian uint64, one zstd frame: one call instead of one per buffer); the seal line
references it (``messages = {"offset", "bytes", "rows"}``) and the digest chain covers its
bytes like any payload.

Columns (one row per event): ``round`` (the round the message belongs to), ``worker``,
``dir`` (0 down, 1 up), ``event`` (codes in :data:`EVENT_CODES`), ``time`` (simulated
seconds), ``latency`` (the up-link latency of a ``send``; NaN otherwise), ``byzantine``
(of a ``send``), ``reason`` (of a ``drop`` or ``rejected``; dictionary-encoded),
``payload`` (sidecar byte offset of a sent report, -1 if none), ``spec`` (the payload's
dtype and shape when it is not a ``(d,)`` float64 vector; dictionary-encoded), and, in
live logs, ``wall`` (Unix seconds).

Rows are in canonical order: by round, direction and worker, and in the order they
happened within one (round, direction, worker). Two runtimes that made the same messages
happen therefore write the same bytes, whatever order they handled simultaneous events in.
"""

from __future__ import annotations

from bgdsim.msglog.buffer import MessageBuffer, canonical_order
from bgdsim.msglog.codes import (
    DIRECTION_NAMES,
    DIRECTIONS,
    EVENT_CODES,
    EVENT_NAMES,
    payload_reference,
    payload_spec,
)
from bgdsim.msglog.reading import decode, expand, to_frame

__all__ = [
    "DIRECTIONS",
    "DIRECTION_NAMES",
    "EVENT_CODES",
    "EVENT_NAMES",
    "MessageBuffer",
    "canonical_order",
    "decode",
    "expand",
    "payload_reference",
    "payload_spec",
    "to_frame",
]
