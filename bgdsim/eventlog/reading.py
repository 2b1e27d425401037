"""Reading a log back without checks: :func:`read_events` and :func:`load_payload`.

:func:`read_events` yields the lines as dicts, each seal preceded by its span's
per-message records; :func:`load_payload` reads one vector a line refers to. Checked
reading (schema, sidecar, digests) is :mod:`bgdsim.replay`'s.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from bgdsim import events as ev
from bgdsim.eventlog.layout import PAYLOAD_DTYPE, sidecar_path
from bgdsim.msglog import decode, expand

__all__ = ["load_payload", "read_events"]


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the events of a log, in order, as dicts (a torn last line is skipped).

    Each seal's per-message records are yielded, as event dicts without ``seq``, just
    before the seal's line (their canonical order, see :mod:`bgdsim.msglog`). For checked
    reading (schema, sidecar, payloads) use :func:`bgdsim.read_log`.
    """
    dim = 0
    with open(path, "rb") as f, contextlib.ExitStack() as stack:
        side: IO[bytes] | None = None
        for line in f:
            if not line.endswith(b"\n"):
                return
            event = orjson.loads(line)
            if event.get("event") == ev.RUN_START:
                dim = int(event.get("scenario", {}).get("problem", {}).get("dim", 0))
            ref = event.get("messages")
            if isinstance(ref, dict):
                if side is None:
                    side = stack.enter_context(open(sidecar_path(path), "rb"))
                side.seek(int(ref["offset"]))
                yield from expand(decode(side.read(int(ref["bytes"]))), dim)
            yield event


def load_payload(path: str | Path, ref: dict[str, Any]) -> np.ndarray:
    """Read the vector a line's payload reference points to from the log's sidecar."""
    dtype = np.dtype(ref.get("dtype", PAYLOAD_DTYPE))
    count = int(np.prod(ref["shape"], dtype=np.int64))
    with open(sidecar_path(path), "rb") as f:
        f.seek(int(ref["offset"]), os.SEEK_SET)
        data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ValueError(f"{sidecar_path(path)}: payload at {ref['offset']} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(ref["shape"]).copy()
