"""A log as tables: every per-message record as a DataFrame (:func:`read_messages`), and
an event as a flat row (:func:`flatten`, for the exports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from bgdsim import events as ev
from bgdsim import msglog
from bgdsim.msglog.codes import SCHEMA
from bgdsim.replay.reader import VECTOR_KEYS, Log

__all__ = ["flatten", "read_messages"]


def read_messages(path: str | Path) -> Any:
    """Every per-message record of a log as a pandas DataFrame.

    One row per event: ``round``, ``worker``, ``dir`` (down/up), ``event`` (send, deliver,
    drop, late, rejected), ``time``, ``latency`` and ``byzantine`` (of a send), ``reason``,
    ``payload`` (sidecar offset of a sent report, -1 if none), ``spec``, plus ``span``:
    the round whose seal wrote the record (0 for the ``run_end`` seal's span).
    """
    tables = []
    with Log(path) as log:
        for _, event in log.lines():
            table = log.messages(event) if "messages" in event else None
            if table is not None:
                span = int(event.get("round", 0)) if event["event"] == ev.ROUND_END else 0
                tables.append(
                    table.append_column("span", pa.array([span] * table.num_rows, pa.int32()))
                )
    if not tables:  # no record yet: no rows, but every column with its type
        tables.append(SCHEMA.empty_table().append_column("span", pa.array([], pa.int32())))
    return msglog.to_frame(tables)


def flatten(log: Log, event: dict[str, Any]) -> dict[str, Any]:
    """An event as a flat row: vectors as their norms (``<field>_norm``; None for one of
    no number type, e.g. a malformed report of strings), nested fields as JSON text
    (``export_csv`` and ``export_parquet``)."""
    row: dict[str, Any] = {}
    for key, value in event.items():
        if key in VECTOR_KEYS and isinstance(value, dict) and "offset" in value:
            row[f"{key}_norm"] = _norm(log.view(value))
        elif isinstance(value, dict | list):
            row[key] = orjson.dumps(value).decode()
        else:
            row[key] = value
    return row


def _norm(vec: np.ndarray) -> float | None:
    """The Euclidean norm of every entry (0 for none); None for an array of no number type."""
    kind = vec.dtype.kind
    if kind not in "biufc":
        return None
    return float(np.linalg.norm(vec.astype(np.complex128 if kind == "c" else np.float64).ravel()))
