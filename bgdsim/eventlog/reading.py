"""Reading a log back without checks: :func:`read_events` and :func:`load_payload`.

:func:`read_events` yields the lines as dicts, each seal preceded by its span's
per-message records; :func:`load_payload` reads one vector a line refers to. Checked
reading (schema, sidecar, digests) is :mod:`bgdsim.replay`'s.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from bgdsim import events as ev
from bgdsim.eventlog.layout import PAYLOAD_DTYPE, sidecar_path
from bgdsim.msglog import decode, expand
from bgdsim.msglog.codes import MAX_DIMS

__all__ = ["MAX_DIMS", "load_payload", "parse_reference", "read_events"]


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
    """Read the vector a line's payload reference points to from the log's sidecar.

    The reference is checked before anything is read or allocated: its ``offset`` and
    ``shape`` (at most :data:`MAX_DIMS` dimensions) non-negative integers, its ``dtype``
    (float64 if absent) one numpy can make from bytes, and the bytes it names inside the
    sidecar.

    Raises:
        ValueError: a malformed reference, or one past the sidecar's end (both named).
        OSError: the sidecar cannot be read.
    """
    offset, shape, dtype = parse_reference(ref)
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    side = sidecar_path(path)
    with open(side, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if offset + nbytes > size or any(n > size for n in shape):
            raise ValueError(
                f"{side}: payload reference {_shown(ref)} ({nbytes} bytes at byte {offset}) is "
                f"past the sidecar's end ({size} bytes)"
            )
        f.seek(offset, os.SEEK_SET)
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{side}: payload at {offset} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def parse_reference(ref: Any) -> tuple[int, list[int], np.dtype[Any]]:
    """A payload reference's offset, shape and dtype, or a ValueError naming it."""
    try:
        offset, shape = ref["offset"], ref["shape"]
        dtype = np.dtype(ref.get("dtype", PAYLOAD_DTYPE))
        ok = (
            type(offset) is int
            and offset >= 0
            and isinstance(shape, list)
            and len(shape) <= MAX_DIMS
            and all(type(n) is int and n >= 0 for n in shape)
            and not dtype.hasobject
            and dtype.itemsize > 0
        )
    except Exception:  # whatever the reference holds (a dtype numpy chokes on): malformed
        ok = False
    if not ok:
        raise ValueError(f"malformed payload reference {_shown(ref)}")
    return offset, shape, dtype


def _shown(ref: Any, most: int = 120) -> str:
    text = repr(ref)
    return text if len(text) <= most else text[: most - 1] + "…"
