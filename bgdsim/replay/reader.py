"""Reading an event log: the header, its lines, and the payload vectors in its sidecar.

:class:`Log` is the one reader of a log file that replay, plots, the CLI and
:func:`read_log` share; a log of an unknown schema, a file that is not a log and a missing
sidecar are refused with a :class:`LogError` (bad input, exit 2).
"""

from __future__ import annotations

import contextlib
import math
import mmap
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from bgdsim import events as ev
from bgdsim import msglog
from bgdsim.config import Scenario, ScenarioError, validate_scenario
from bgdsim.eventlog import PAYLOAD_DTYPE, sidecar_path
from bgdsim.eventlog.reading import parse_reference
from bgdsim.msglog.codes import WHOLE
from bgdsim.msglog.reading import check
from bgdsim.paths import not_a_file

__all__ = [
    "SUPPORTED_SCHEMAS",
    "VECTOR_KEYS",
    "BrokenLine",
    "DamagedHeader",
    "Log",
    "LogError",
    "read_log",
    "same_vector",
]

#: schema versions this reader understands (every older documented one stays here)
SUPPORTED_SCHEMAS = (2,)
#: the fields of an event that hold a payload reference
VECTOR_KEYS = ("payload", "theta", "theta_star", "latency", "state")


_SCENARIOS: dict[bytes, Scenario] = {}
_F8 = np.dtype(PAYLOAD_DTYPE)
_RATIO = 1 << 16  # more than zstd can compress by: a larger declared size is a lie
_RUN_START = b'{"event":"' + ev.RUN_START.encode() + b'"'  # how every header opens
_MAX_HEADER = 256 << 20  # the longest header line read (a scenario and m workers' sizes)


class LogError(ValueError):
    """Not a bgdsim log, an unknown schema, a missing sidecar: bad input (exit 2)."""


class DamagedHeader(LogError):
    """A log whose header line opens as a ``run_start`` but is not JSON: a damaged log
    (``replay --verify`` names the header), not some other file."""

    detail = "the header (run_start) line is not valid JSON"

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: {self.detail}")


class BrokenLine(LogError):
    """A line after the header that is not JSON (``line``: its number, from 1)."""

    def __init__(self, path: Path, line: int) -> None:
        super().__init__(f"{path} line {line}: not valid JSON")
        self.line = line


class Log:
    """An event log and its payload sidecar, opened for reading.

    Raises:
        LogError: the file is not a bgdsim log, its schema is unknown, or the sidecar is
            missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        kind = not_a_file(self.path)  # a FIFO would wait for a writer, /dev/zero never end
        if kind is not None:
            raise LogError(f"{self.path}: is {kind}, not a log file")
        try:
            with open(self.path, "rb") as f:
                first = f.readline(_MAX_HEADER)
            if len(first) == _MAX_HEADER and not first.endswith(b"\n"):
                raise LogError(f"{self.path}: not a bgdsim event log (a first line over "
                               f"{_MAX_HEADER >> 20} MiB)")  # fmt: skip
        except FileNotFoundError:
            raise LogError(f"{self.path}: no such log file") from None
        except OSError as exc:
            raise LogError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        try:
            header = orjson.loads(first)
        except orjson.JSONDecodeError:
            if first.startswith(_RUN_START):
                raise DamagedHeader(self.path) from None
            raise LogError(
                f"{self.path}: not a bgdsim event log (the first line is not JSON)"
            ) from None
        if not isinstance(header, dict) or header.get("event") != ev.RUN_START:
            raise LogError(f"{self.path}: not a bgdsim event log (no run_start header)")
        schema = header.get("schema")
        if schema == 1:
            raise LogError(
                f"{self.path}: log schema 1 (one JSON line per message, bgdsim 0.1) is not "
                "read by this bgdsim, which reads schema 2 (per-message records as Arrow "
                "columns); run the scenario again to get a schema-2 log"
            )
        if schema not in SUPPORTED_SCHEMAS:
            known = ", ".join(map(str, SUPPORTED_SCHEMAS))
            raise LogError(
                f"{self.path}: unknown log schema {schema!r} (this bgdsim reads {known})"
            )
        self.header: dict[str, Any] = header
        self._workers = _workers(header)  # the records' workers are checked against it
        side = sidecar_path(self.path)
        if not side.exists():
            raise LogError(f"{self.path}: its payload sidecar {side.name} is missing")
        self._side_file: IO[bytes] = open(side, "rb")  # noqa: SIM115 - closed in close()
        size = side.stat().st_size
        self.sidecar_size = size
        self._map = (
            mmap.mmap(self._side_file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        )
        # one buffer export for the whole sidecar; payloads are slices of it
        self._bytes: np.ndarray | None = (
            np.frombuffer(self._map, dtype=np.uint8) if self._map is not None else None
        )

    def close(self) -> None:
        """Release the sidecar.

        Never raises for a view of it still referenced (by a caller, or by the traceback
        of an exception on its way out through ``with``): the map is then left for garbage
        collection to release with the last view, and that exception goes on unmasked.
        """
        self._bytes = None
        mapped, self._map = self._map, None
        if mapped is not None:
            with contextlib.suppress(BufferError):  # views alive: unmapped with the last
                mapped.close()
        self._side_file.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scenario(self) -> Scenario:
        """The run's scenario, as recorded in the header (validated once per process)."""
        key = orjson.dumps(self.header.get("scenario"), option=orjson.OPT_SORT_KEYS)
        cached = _SCENARIOS.get(key)
        if cached is None:
            try:
                cached = validate_scenario(self.header["scenario"], f"{self.path} (header)")
            except ScenarioError as exc:
                raise LogError(str(exc)) from None
            _SCENARIOS[key] = cached
        return cached

    def lines(self) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Every complete line with its parsed event (a torn last line is skipped)."""
        with open(self.path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                if not raw.endswith(b"\n"):
                    return
                try:
                    yield raw, orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise BrokenLine(self.path, n) from None

    def messages(self, seal: dict[str, Any]) -> pa.Table | None:
        """A seal's per-message records (None if its span had none), checked and in the
        record's types (:func:`bgdsim.msglog.check`: every column there and of its type,
        known direction and event codes, workers of the run, well-formed ``spec``).

        Raises:
            LogError: the reference points outside the sidecar, or at bytes that are not
                an Arrow record or a record that fails the check (naming the seal's round
                and what is wrong).
        """
        ref = seal.get("messages")
        if ref is None:
            return None
        try:
            start, size = int(ref["offset"]), int(ref["bytes"])
        except (LookupError, TypeError, ValueError, ArithmeticError):
            raise LogError(f"{self.path}: malformed message reference {ref!r}") from None
        if start < 0 or size < 0 or start + size > self.sidecar_size:
            raise LogError(f"{self.path}: message records at byte {start} are past the sidecar")
        blob = self.sidecar_bytes(start, start + size)
        if blob[:4] == WHOLE and int.from_bytes(blob[4:12], "little") > _RATIO * size + 4096:
            raise LogError(f"{self.path}: message records at byte {start} claim an impossible size")
        try:
            table = msglog.decode(blob)
        except Exception as exc:
            raise LogError(
                f"{self.path}: unreadable message records at byte {start}: {exc}"
            ) from None
        try:
            return check(table, self._workers)
        except ValueError as exc:
            where = f"round {seal['round']}" if "round" in seal else f"the {seal.get('event')}"
            raise LogError(
                f"{self.path}: malformed message records of {where} (byte {start}): {exc}"
            ) from None

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event: the lines, each seal preceded by its span's per-message events."""
        dim = self.dim
        for _, event in self.lines():
            table = self.messages(event) if "messages" in event else None
            if table is not None:
                yield from msglog.expand(table, dim)
            yield event

    @property
    def dim(self) -> int:
        """d, from the header's scenario."""
        return int(self.header.get("scenario", {}).get("problem", {}).get("dim", 0))

    def sidecar_bytes(self, start: int, end: int) -> bytes:
        """Raw sidecar bytes ``[start, end)``."""
        return b"" if self._map is None else self._map[start:end]

    def sidecar_view(self, start: int, end: int) -> np.ndarray:
        """Sidecar bytes ``[start, end)`` without a copy (uint8): must not outlive the ``Log``."""
        return np.empty(0, np.uint8) if self._bytes is None else self._bytes[start:end]

    def rows(self, offsets: np.ndarray, dim: int, out: np.ndarray | None = None) -> np.ndarray:
        """The ``(dim,)`` float64 payloads at byte ``offsets``, copied into one ``(k, dim)``
        matrix (``out`` if given).

        Payloads stored as rows of one block (offsets ``base + i·8·dim``, as a round's
        reports are) are taken from one ``(n, dim)`` view of the sidecar; any others
        through a sliding window over it. Each row holds what :meth:`view` would give.

        Raises:
            LogError: a payload is past the sidecar's end.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        if out is None:
            out = np.empty((offsets.size, dim), dtype=_F8)
        if not offsets.size or not dim:
            return out
        row = _F8.itemsize * dim
        lo, hi = int(offsets.min()), int(offsets.max())
        if self._bytes is None or lo < 0 or hi + row > self.sidecar_size:
            bad = lo if lo < 0 else hi
            raise LogError(f"{self.path}: payload at byte {bad} is past the sidecar's end")
        rel = offsets - lo
        if not (rel % row).any():  # one block
            n = int(rel.max()) // row + 1
            block = self._bytes[lo : lo + n * row].view(_F8).reshape(n, dim)
            return np.take(block, rel // row, axis=0, out=out, mode="clip")  # all in range
        phase = offsets % _F8.itemsize
        for r in np.unique(phase).tolist():
            pick = phase == r
            end = r + (self.sidecar_size - r) // _F8.itemsize * _F8.itemsize
            window = sliding_window_view(self._bytes[r:end].view(_F8), dim)
            out[pick] = window[(offsets[pick] - r) // _F8.itemsize]
        return out

    def payload(self, ref: dict[str, Any]) -> np.ndarray:
        """The vector a reference points to (a copy: the log may be closed after)."""
        return self.view(ref).copy()

    def view(self, ref: dict[str, Any]) -> np.ndarray:
        """The vector without a copy: it must not outlive the ``Log``."""
        start, shape, dtype = self._checked(ref)
        count = math.prod(shape)
        end = start + count * dtype.itemsize
        if self._bytes is None or start < 0 or end > self.sidecar_size:
            raise LogError(f"{self.path}: payload at byte {start} is past the sidecar's end")
        view = self._bytes[start:end].view(dtype)
        return view if len(shape) == 1 else view.reshape(shape)

    def _checked(self, ref: Any) -> tuple[int, list[int], np.dtype[Any]]:
        """A payload reference's offset, shape and dtype, or a LogError naming it: the
        unchecked reader's own check (:func:`bgdsim.eventlog.reading.parse_reference`:
        non-negative integer offset and shape, at most 32 dimensions, a dtype numpy makes
        from bytes), and no sub-array dtype (which would change the shape)."""
        if not isinstance(ref, dict):
            raise TypeError(f"payload reference {ref!r} is not an object")
        try:
            start, shape, dtype = parse_reference(ref)
        except ValueError as exc:
            raise LogError(f"{self.path}: {exc}") from None
        if dtype.subdtype is not None:
            raise LogError(f"{self.path}: malformed payload reference {ref!r}")
        return start, shape, dtype


def read_log(path: str | Path, *, payloads: bool = False) -> Iterator[dict[str, Any]]:
    """Yield a log's events as dicts; with ``payloads``, vector references become arrays."""
    with Log(path) as log:
        for event in log.events():
            if payloads:
                for key in VECTOR_KEYS:
                    ref = event.get(key)
                    if isinstance(ref, dict) and "offset" in ref:
                        event[key] = np.array(log.payload(ref))
            yield event


def same_vector(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (shape and bytes)."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _workers(header: dict[str, Any]) -> int | None:
    """m, from a header's scenario (None if it does not say: not checked then)."""
    scenario = header.get("scenario")
    cluster = scenario.get("cluster") if isinstance(scenario, dict) else None
    m = cluster.get("workers") if isinstance(cluster, dict) else None
    return m if type(m) is int and m >= 0 else None
