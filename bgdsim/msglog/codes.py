"""The codes and shared constants of the per-message records (see :mod:`bgdsim.msglog`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from bgdsim import events as ev

__all__ = [
    "DIRECTIONS",
    "DIRECTION_NAMES",
    "EVENT_CODES",
    "EVENT_NAMES",
    "MAX_DIMS",
    "SCHEMA",
    "WALL",
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

#: the columns of a span's record and their types, in the writer's order (a live
#: runtime's record adds :data:`WALL`)
SCHEMA = pa.schema(
    [
        ("round", pa.int32()),
        ("worker", pa.int32()),
        ("dir", pa.uint8()),
        ("event", pa.uint8()),
        ("time", pa.float64()),
        ("latency", pa.float64()),
        ("byzantine", pa.bool_()),
        ("reason", pa.dictionary(pa.int32(), pa.string())),
        ("payload", pa.int64()),
        ("spec", pa.dictionary(pa.int32(), pa.string())),
    ]
)
WALL = pa.field("wall", pa.float64())
#: the most dimensions a payload reference or a spec may name (numpy's own limit is 64)
MAX_DIMS = 32
# DTYPE:SHAPE as payload_spec writes it: a numpy type string (e.g. <f8, |b1, <M8[ns])
# and a JSON list of at most 32 non-negative integers without spaces (e.g. [4], [2,3], [])
_DTYPE = r"[<>|=]?[A-Za-z][0-9]{0,4}(?:\[[0-9]{0,3}[A-Za-z]{1,3}\])?"
_INT = r"(?:0|[1-9][0-9]{0,18})"
_SPEC = re.compile(rf"({_DTYPE}):\[({_INT}(?:,{_INT}){{0,{MAX_DIMS - 1}}})?\]", re.ASCII)


def payload_spec(ref: dict[str, Any], dim: int) -> str:
    """``""`` for a ``(dim,)`` float64 payload, else ``"<dtype>:<shape as JSON>"``."""
    dtype = ref.get("dtype", _F8)
    shape = ref["shape"]
    if dtype == _F8 and len(shape) == 1 and shape[0] == dim:
        return ""
    return f"{dtype}:{json.dumps(shape, separators=(',', ':'))}"


def payload_reference(offset: int, spec: str, dim: int) -> dict[str, Any]:
    """The payload reference a schema-1 line would carry.

    Raises:
        ValueError: ``spec`` is neither empty nor ``DTYPE:SHAPE`` as :func:`payload_spec`
            writes it (a numpy type string, then a list of at most 32 non-negative
            integers, e.g. ``<f4:[2,3]``).
    """
    if not spec:
        return {"offset": offset, "shape": [dim]}
    match = _SPEC.fullmatch(spec) if isinstance(spec, str) else None
    if match is None:
        shown = repr(spec) if len(repr(spec)) <= 80 else repr(spec)[:79] + "…"
        raise ValueError(
            f"payload spec {shown} is not DTYPE:SHAPE (e.g. <f4:[2,3]; at most "
            f"{MAX_DIMS} non-negative dimensions)"
        )
    dtype, shape = match.groups()
    ref: dict[str, Any] = {
        "offset": offset,
        "shape": [int(n) for n in shape.split(",")] if shape else [],
    }
    if dtype != _F8:
        ref["dtype"] = dtype
    return ref
