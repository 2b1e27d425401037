"""Event names: the one place they are spelled, and the sink the engine writes them to.

The round engine, every driver, the log reader, replay and plots refer to events by these
constants. :class:`EventSink` is what the engine writes to: the JSON-lines
:class:`~bgdsim.eventlog.EventLog`, or a :class:`~bgdsim.eventlog.MemorySink` in tests.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = [
    "AGGREGATE",
    "AGGREGATE_SKIPPED",
    "ARRIVALS",
    "BARRIER",
    "BATCHES_UNEVEN",
    "BROADCAST",
    "BYZANTINE_SET",
    "DELIVER",
    "DIVERGED",
    "DROP",
    "FAULT_END",
    "FAULT_START",
    "FRAME_FLOOD",
    "FRAME_REJECTED",
    "LATE",
    "MESSAGE_EVENTS",
    "PEER_CLOSED",
    "REJECTED",
    "ROUND_END",
    "ROUND_START",
    "RUN_END",
    "RUN_START",
    "SEND",
    "SERVER_PAUSED",
    "UPDATE",
    "EventSink",
]

RUN_START = "run_start"
ROUND_START = "round_start"
BYZANTINE_SET = "byzantine_set"
BROADCAST = "broadcast"
SEND = "send"
DELIVER = "deliver"
DROP = "drop"
LATE = "late"
REJECTED = "rejected"
BARRIER = "barrier"
AGGREGATE = "aggregate"
AGGREGATE_SKIPPED = "aggregate_skipped"
UPDATE = "update"
DIVERGED = "diverged"
ROUND_END = "round_end"
RUN_END = "run_end"
FAULT_START = "fault_start"
FAULT_END = "fault_end"
SERVER_PAUSED = "server_paused"
FRAME_REJECTED = "frame_rejected"
FRAME_FLOOD = "frame_flood"
PEER_CLOSED = "peer_closed"
#: the server's k does not divide m: its batches differ in size (the paper needs k | m)
BATCHES_UNEVEN = "batches_uneven"

#: per-message events (both directions): O(m) per round, the bulk of a log
MESSAGE_EVENTS = (SEND, DELIVER, DROP, LATE, REJECTED)
#: what may become of a report that reached the server
ARRIVALS = (DELIVER, REJECTED, LATE)


class EventSink(Protocol):
    """Where the round engine writes its events (see :class:`bgdsim.eventlog.EventLog`)."""

    enabled: bool
    dim: int  # d: the payload shape that needs no description

    def emit(self, event: str, time: float, **fields: Any) -> None:
        """One round-level event at simulated ``time``."""

    def message(
        self,
        event: str,
        time: float,
        round: int,
        worker: int,
        direction: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """One per-message event."""

    def messages(self, **columns: Any) -> None:
        """Many per-message events at once, as equal-length arrays."""

    def payload(self, vector: Any) -> dict[str, Any] | None:
        """Store a vector; return the reference a line carries (None: not stored)."""

    def seal(self, event: str, time: float, **fields: Any) -> None:
        """An event closing a span of the digest chain."""

    def flush(self) -> None:
        """Make everything so far durable (once per round)."""
