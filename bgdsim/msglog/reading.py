"""Reading the per-message records back (see :mod:`bgdsim.msglog`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import ipc

from bgdsim import events as ev
from bgdsim.msglog.codes import (
    DIRECTION_NAMES,
    EVENT_NAMES,
    SCHEMA,
    WALL,
    WHOLE,
    ZSTD,
    payload_reference,
)

__all__ = ["check", "decode", "expand", "to_frame"]

_WITH_WALL = SCHEMA.append(WALL)
_NULLS_ALLOWED = ("latency", "reason", "spec")  # a null latency reads as NaN


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


def check(table: pa.Table, workers: int | None = None) -> pa.Table:
    """A decoded span record, checked and cast to :data:`~bgdsim.msglog.codes.SCHEMA`.

    Every column of the schema must be there (``wall`` may be), of a type that holds its
    values (integers, floats, a boolean, text plain or dictionary-encoded) and, but for
    ``latency``, ``reason`` and ``spec``, without nulls; ``dir`` and ``event`` must be
    known codes, ``worker`` in ``0 … workers − 1`` (``workers``: m, when known), and every
    ``spec`` empty or ``DTYPE:SHAPE`` (:func:`~bgdsim.msglog.codes.payload_reference`).
    Other columns are kept as they are.

    Raises:
        ValueError: what is wrong, naming the column (and the first row at fault).
    """
    names = table.column_names
    columns: dict[str, pa.ChunkedArray] = {}
    for field in _WITH_WALL if "wall" in names else SCHEMA:
        if field.name not in names:
            raise ValueError(f"no {field.name!r} column")
        if names.count(field.name) > 1:
            raise ValueError(f"two {field.name!r} columns")
        col = table.column(field.name)
        if not _holds(col.type, field.type):
            raise ValueError(f"the {field.name!r} column is {col.type}, not {field.type}")
        if col.null_count and field.name not in _NULLS_ALLOWED:
            raise ValueError(f"the {field.name!r} column has nulls (row {_first_null(col)})")
        columns[field.name] = col
    bad = _outside(columns["dir"], len(DIRECTION_NAMES))
    if bad is not None:
        raise ValueError(f"row {bad[0]}: unknown direction code {bad[1]} (0 down, 1 up)")
    bad = _outside(columns["event"], len(EVENT_NAMES))
    if bad is not None:
        known = ", ".join(f"{code} {name}" for code, name in sorted(EVENT_NAMES.items()))
        raise ValueError(f"row {bad[0]}: unknown event code {bad[1]} ({known})")
    bad = _outside(columns["worker"], workers)
    if bad is not None:
        of = "" if workers is None else f" (the run has workers 0 … {workers - 1})"
        raise ValueError(f"row {bad[0]}: no worker {bad[1]}{of}")
    for word in _words(columns["spec"]):
        try:
            payload_reference(0, word, 0)
        except ValueError as exc:
            raise ValueError(f"the 'spec' column: {exc}") from None
    return _conformed(table)


def _holds(have: pa.DataType, want: pa.DataType) -> bool:
    """A column of type ``have`` can be read as ``want`` (an exact cast, values checked)."""
    if pa.types.is_dictionary(want):
        if pa.types.is_dictionary(have):
            have = have.value_type
        return bool(
            pa.types.is_string(have) or pa.types.is_large_string(have) or pa.types.is_null(have)
        )
    if pa.types.is_integer(want):
        return bool(pa.types.is_integer(have))
    if pa.types.is_floating(want):
        return bool(pa.types.is_floating(have))
    return bool(have == want)


def _first_null(col: pa.ChunkedArray) -> int:
    return int(pc.index(pc.is_null(col), True).as_py())


def _outside(col: pa.ChunkedArray, bound: int | None) -> tuple[int, int] | None:
    """The first (row, value) of an integer column outside ``0 … bound − 1`` (``bound``
    None: a negative one), None if there is none."""
    if not len(col):
        return None
    lo_hi = pc.min_max(col)
    lo, hi = lo_hi["min"].as_py(), lo_hi["max"].as_py()
    if lo >= 0 and (bound is None or hi < bound):
        return None
    out = pc.less(col, 0)
    if bound is not None:
        out = pc.or_(out, pc.greater_equal(col, bound))
    row = int(pc.index(out, True).as_py())
    return row, int(col[row].as_py())


def _words(col: pa.ChunkedArray) -> list[str]:
    """The distinct non-null strings of a text column."""
    if pa.types.is_null(col.type):
        return []
    if pa.types.is_dictionary(col.type):
        words: set[str] = set()
        for chunk in col.chunks:
            words.update(w for w in chunk.dictionary.to_pylist() if w is not None)
        return sorted(words)
    return [w for w in pc.unique(col).to_pylist() if w is not None]


def _cast(col: pa.ChunkedArray, to: pa.DataType) -> pa.ChunkedArray:
    """A column as ``to`` (a safe cast: an integer out of its range raises)."""
    if col.type == to:
        return col
    if not pa.types.is_dictionary(to):
        return col.cast(to, safe=True)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return pc.dictionary_encode(col.cast(pa.string()))


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
    """Span tables (as :func:`check` returns them) as one pandas DataFrame with readable
    ``dir`` and ``event`` columns; its columns have their types even with no tables."""
    import pandas as pd

    if tables:
        table = pa.concat_tables(tables, promote_options="permissive")
    else:
        table = SCHEMA.empty_table()
    frame = table.to_pandas()
    frame["dir"] = pd.Categorical.from_codes(frame["dir"].to_numpy(), list(DIRECTION_NAMES))
    names = [EVENT_NAMES[c] for c in range(len(EVENT_NAMES))]
    frame["event"] = pd.Categorical.from_codes(frame["event"].to_numpy(), names)
    return frame


def _conformed(table: pa.Table) -> pa.Table:
    """The schema's columns cast to its types (a record as the writer wrote it is returned
    as it is); other columns kept.

    Raises:
        ValueError: a column's values do not fit its type (an integer out of range).
    """
    names = table.column_names
    schema = _WITH_WALL if "wall" in names else SCHEMA
    if table.schema.equals(schema):
        return table  # as the writer wrote it
    for field in schema:
        if field.name not in names:
            continue
        i = names.index(field.name)
        col = table.column(i)
        if col.type == field.type:
            continue
        try:
            table = table.set_column(i, field.name, _cast(col, field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(
                f"the {field.name!r} column does not fit {field.type}: {exc}"
            ) from None
    return table
