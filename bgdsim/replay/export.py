"""``bgdsim replay LOG --export parquet``: a log as two tables DuckDB and polars read.

* ``messages.parquet`` — every per-message record (:func:`read_messages`): one row per
  send, deliver, drop, late or rejected, both directions, in the record's types
  (:data:`MESSAGE_SCHEMA`: ``dir`` and ``event`` as their names, the text columns
  dictionary-encoded; typed even when no message was recorded yet);
* ``events.parquet`` — every round-level line: ``seq``, ``event``, ``time``, ``round``
  and the other fields as columns (vector references as their norms ``<field>_norm``,
  nested fields as JSON text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from bgdsim.msglog.codes import SCHEMA, WALL
from bgdsim.replay.reader import Log
from bgdsim.replay.tables import flatten, read_messages

__all__ = ["MESSAGE_SCHEMA", "export_parquet"]

_NAMES = pa.dictionary(pa.int8(), pa.string())
#: the columns of ``messages.parquet`` (a live run's log adds ``wall``, float64)
MESSAGE_SCHEMA = pa.schema(
    [
        *(pa.field(f.name, _NAMES) if f.name in ("dir", "event") else f for f in SCHEMA),
        pa.field("span", pa.int32()),
    ]
)


def export_parquet(path: str | Path, out_dir: str | Path) -> tuple[Path, Path, int, int]:
    """Write ``messages.parquet`` and ``events.parquet`` into ``out_dir``.

    Returns the two paths and their row counts.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    messages = read_messages(path)
    msg_path = out / "messages.parquet"
    schema = MESSAGE_SCHEMA.append(WALL) if "wall" in messages.columns else MESSAGE_SCHEMA
    table = pa.Table.from_pandas(messages[schema.names], schema=schema, preserve_index=False)
    pq.write_table(table, msg_path)
    rows: list[dict[str, Any]] = []
    keys: dict[str, None] = dict.fromkeys(["seq", "event", "time", "round"])
    with Log(path) as log:
        for _, event in log.lines():
            row = flatten(log, event)
            keys.update(dict.fromkeys(row))
            rows.append(row)
    columns = {key: [row.get(key) for row in rows] for key in keys}
    table = pa.table({key: _column(values) for key, values in columns.items()})
    ev_path = out / "events.parquet"
    pq.write_table(table, ev_path)
    return msg_path, ev_path, len(messages), len(rows)


def _column(values: list[Any]) -> pa.Array:
    """A column of mixed JSON values: its natural type, or JSON text when types mix."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])
