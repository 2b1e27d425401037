"""The codes and shared constants of the per-message records (see :mod:`bgdsim.msglog`)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from bgdsim import events as ev

__all__ = [
    "DIRECTIONS",
    "DIRECTION_NAMES",
    "EVENT_CODES",
    "EVENT_NAMES",
    "WHOLE",
    "ZSTD",
    "payload_reference",
    "payload_spec",
]

EVENT_CODES = {ev.SEND: 0, ev.DELIVER: 1, ev.DROP: 2, ev.LATE: 3, ev.REJECTED: 4}
EVENT_NAMES = {code: name for name, code in EVENT_CODES.items()}
DIRECTIONS = {"down": 0, "up": 1}
DIRECTION_NAMES = ("down", "up")
_F8 = "<f8"
ZSTD = pa.Codec("zstd", compression_level=1)
# A small record is compressed as a whole: WHOLE, the stream's length (uint64,
# little-endian) and one zstd frame.
WHOLE = b"BGZ1"


def payload_spec(ref: dict[str, Any], dim: int) -> str:
    """``""`` for a ``(dim,)`` float64 payload, else ``"<dtype>:<shape as JSON>"``."""
    dtype = ref.get("dtype", _F8)
    shape = ref["shape"]
    if dtype == _F8 and len(shape) == 1 and shape[0] == dim:
        return ""
    return f"{dtype}:{json.dumps(shape, separators=(',', ':'))}"


def payload_reference(offset: int, spec: str, dim: int) -> dict[str, Any]:
    """The payload reference a schema-1 line would carry."""
    if not spec:
        return {"offset": offset, "shape": [dim]}
    dtype, shape = spec.split(":", 1)
    ref: dict[str, Any] = {"offset": offset, "shape": json.loads(shape)}
    if dtype != _F8:
        ref["dtype"] = dtype
    return ref
