"""Reading the per-message records back (see :mod:`bgdsim.msglog`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyarrow import ipc

from bgdsim import events as ev
from bgdsim.msglog.codes import DIRECTION_NAMES, EVENT_NAMES, WHOLE, ZSTD, payload_reference

__all__ = ["decode", "expand", "to_frame"]


def decode(blob: bytes | memoryview) -> pa.Table:
    """One span's records as a table: an Arrow IPC stream, or one compressed whole.

    Raises:
        pyarrow.ArrowInvalid: the bytes are not a record.
    """
    data = bytes(blob[:12]) if len(blob) >= 12 else b""
    if data[:4] == WHOLE:
        size = int.from_bytes(data[4:12], "little")
        blob = ZSTD.decompress(memoryview(blob)[12:], decompressed_size=size, asbytes=True)
    with ipc.open_stream(pa.py_buffer(blob)) as reader:
        return reader.read_all()


def expand(table: pa.Table, dim: int) -> Iterator[dict[str, Any]]:
    """The records as schema-1-style event dicts (``event``, ``time``, ``round``, ``worker``,
    ``dir``, then ``latency``/``byzantine``/``payload`` of a send, ``reason``, ``wall``)."""
    cols = table.to_pydict()
    wall = cols.get("wall")
    for i in range(table.num_rows):
        name = EVENT_NAMES[cols["event"][i]]
        e: dict[str, Any] = {
            "event": name,
            "time": cols["time"][i],
            "round": cols["round"][i],
            "worker": cols["worker"][i],
            "dir": DIRECTION_NAMES[cols["dir"][i]],
        }
        if name == ev.SEND:
            latency = cols["latency"][i]
            e["latency"] = None if latency is None or math.isnan(latency) else latency
            e["byzantine"] = cols["byzantine"][i]
            offset = cols["payload"][i]
            e["payload"] = (
                None if offset < 0 else payload_reference(offset, cols["spec"][i] or "", dim)
            )
        reason = cols["reason"][i]
        if reason is not None:
            e["reason"] = reason
        if wall is not None and not math.isnan(wall[i]):
            e["wall"] = wall[i]
        yield e


def to_frame(tables: list[pa.Table]) -> Any:
    """Span tables as one pandas DataFrame with readable ``dir`` and ``event`` columns."""
    import pandas as pd

    if not tables:
        return pd.DataFrame(
            columns=[
                "round",
                "worker",
                "dir",
                "event",
                "time",
                "latency",
                "byzantine",
                "reason",
                "payload",
                "spec",
            ]
        )
    table = pa.concat_tables(tables, promote_options="permissive")
    frame = table.to_pandas()
    frame["dir"] = pd.Categorical.from_codes(frame["dir"].to_numpy(), list(DIRECTION_NAMES))
    names = [EVENT_NAMES[c] for c in range(len(EVENT_NAMES))]
    frame["event"] = pd.Categorical.from_codes(frame["event"].to_numpy(), names)
    return frame
