"""The format of ``results.csv``: its measured columns, and how a value is written in a
cell and read back (TOML-ish scalars, lists and tables as JSON).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

__all__ = ["COLUMNS"]

#: The measured columns of ``results.csv``, after ``cell``, the sweep keys and ``seed``.
COLUMNS = (
    "final_error",
    "min_error",
    "rounds_to_floor",
    "floor",
    "k",
    "rounds_done",
    "status",
    "test_loss",
    "test_accuracy",
    "up_sent",
    "up_delivered",
    "up_dropped",
    "up_late",
    "up_rejected",
    "down_dropped",
    "sim_time",
    "wall_seconds",
)
_COUNTS = ("up_sent", "up_delivered", "up_dropped", "up_late", "up_rejected", "down_dropped")


def _toml(value: Any) -> str:
    """A value as written in ``results.csv``: TOML-ish scalars, lists and tables as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def _parse(text: str) -> Any:
    """The inverse of :func:`_toml` (a string that looks like a number comes back a number)."""
    if text in ("inf", "-inf", "nan"):
        return float(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()
