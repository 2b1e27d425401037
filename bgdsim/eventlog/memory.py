"""An in-memory event sink for tests: :class:`MemorySink`.

It takes the same calls as :class:`~bgdsim.eventlog.EventLog` and keeps every event as a
dict, in order, payloads as arrays: a test reads what the round engine recorded without a
file, a digest or a decoder.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgdsim.msglog import EVENT_CODES

__all__ = ["MemorySink"]


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
