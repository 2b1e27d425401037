"""Wire frames of the TCP runtime, and the per-worker keys that sign them.

A frame is ``len ‖ hlen ‖ header ‖ payload ‖ mac``:

* ``len``: 4 bytes, big-endian, the length of everything after it;
* ``hlen``: 2 bytes, big-endian, the header's length;
* ``header``: a small JSON object ``{"round", "worker", "kind", "dtype", "shape", ...}``;
* ``payload``: the raw array bytes (``dtype``, ``shape``), e.g. float64 little-endian;
* ``mac``: HMAC-SHA256 of ``len ‖ hlen ‖ header ‖ payload`` under the worker's key.

Worker j's key is ``HMAC-SHA256(run secret, "worker-j")``; the server signs the frames it
sends j with the same key. Anything that does not parse, exceeds the size limit or fails
its MAC raises :class:`FrameError`; the caller decides what it costs (the server drops the
connection and counts the worker as missing).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import orjson

__all__ = [
    "MAC_SIZE",
    "FrameError",
    "derive_key",
    "encode",
    "parse",
    "read_body",
    "read_key",
    "to_array",
    "write_keys",
]

MAC_SIZE = 32
MAX_HEADER = 4096
_LEN = struct.Struct(">I")
_HLEN = struct.Struct(">H")
_DTYPE_KINDS = "biufc"


class FrameError(ValueError):
    """A frame the receiver refuses (malformed, oversized, truncated, bad MAC)."""


def derive_key(secret: bytes, worker: int) -> bytes:
    """Worker ``worker``'s key: HMAC-SHA256(secret, "worker-<worker>")."""
    return hmac.new(secret, f"worker-{worker}".encode(), hashlib.sha256).digest()


def key_path(keys_dir: str | Path, worker: int) -> Path:
    """``<keys_dir>/worker-<j>.key``."""
    return Path(keys_dir) / f"worker-{worker}.key"


def write_keys(keys_dir: str | Path, m: int, secret: bytes | None = None) -> list[Path]:
    """Write ``worker-<j>.key`` (hex, one line) for j < m, derived from ``secret``
    (random if None); files are created readable by their owner only."""
    import os

    secret = os.urandom(32) if secret is None else secret
    folder = Path(keys_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for j in range(m):
        path = key_path(folder, j)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(derive_key(secret, j).hex() + "\n")
        paths.append(path)
    return paths


def read_key(path: str | Path) -> bytes:
    """A key file's bytes (hex text)."""
    text = Path(path).read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path}: not a hex key") from None
    if len(key) < 16:
        raise ValueError(f"{path}: key shorter than 16 bytes")
    return key


def encode(key: bytes, header: dict[str, Any], payload: bytes | np.ndarray = b"") -> bytes:
    """One signed frame."""
    data = payload.tobytes() if isinstance(payload, np.ndarray) else payload
    head = orjson.dumps(header)
    if len(head) > MAX_HEADER:
        raise ValueError("frame header too large")
    size = _HLEN.size + len(head) + len(data) + MAC_SIZE
    body = _LEN.pack(size) + _HLEN.pack(len(head)) + head + data
    return body + hmac.new(key, body, hashlib.sha256).digest()


async def read_body(
    reader: asyncio.StreamReader, max_size: int, body_timeout: float | None = None
) -> bytes:
    """Read one frame (its length prefix included) of at most ``max_size`` bytes; once
    its length has arrived, the rest must arrive within ``body_timeout`` seconds.

    Raises:
        FrameError: oversized, or truncated by the end of the stream.
        asyncio.IncompleteReadError: the stream ended cleanly between frames.
    """
    prefix = await reader.readexactly(_LEN.size)
    (size,) = _LEN.unpack(prefix)
    if size > max_size:
        raise FrameError(f"oversized frame ({size} bytes > {max_size})")
    if size < _HLEN.size + MAC_SIZE:
        raise FrameError(f"frame too short ({size} bytes)")
    try:
        return prefix + await asyncio.wait_for(reader.readexactly(size), body_timeout)
    except asyncio.TimeoutError:
        raise FrameError(f"truncated frame (not all {size} bytes in {body_timeout} s)") from None
    except asyncio.IncompleteReadError as exc:
        raise FrameError(f"truncated frame ({len(exc.partial)} of {size} bytes)") from None


def peek_header(frame: bytes) -> dict[str, Any]:
    """The header of a frame from :func:`read_body`, MAC not checked yet."""
    (hlen,) = _HLEN.unpack_from(frame, _LEN.size)
    start = _LEN.size + _HLEN.size
    if start + hlen + MAC_SIZE > len(frame):
        raise FrameError("header length past the frame's end")
    try:
        header = orjson.loads(frame[start : start + hlen])
    except orjson.JSONDecodeError:
        raise FrameError("header is not JSON") from None
    if not isinstance(header, dict):
        raise FrameError("header is not a JSON object")
    for key, kind in (("round", int), ("worker", int), ("kind", str)):
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise FrameError(f"header field {key!r} missing or not {kind.__name__}")
    return header


def parse(frame: bytes, key: bytes) -> tuple[dict[str, Any], bytes]:
    """Check ``frame``'s MAC under ``key``; return (header, payload bytes)."""
    header = peek_header(frame)
    body, mac = frame[:-MAC_SIZE], frame[-MAC_SIZE:]
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), mac):
        raise FrameError("bad MAC")
    (hlen,) = _HLEN.unpack_from(frame, _LEN.size)
    return header, body[_LEN.size + _HLEN.size + hlen :]


def to_array(header: dict[str, Any], payload: bytes) -> np.ndarray:
    """The array a frame carries (its ``dtype`` and ``shape`` must match the payload)."""
    try:
        dtype = np.dtype(str(header.get("dtype")))
    except TypeError:
        raise FrameError(f"unknown dtype {header.get('dtype')!r}") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.hasobject:
        raise FrameError(f"dtype {dtype.str} not allowed")
    shape = header.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise FrameError(f"bad shape {shape!r}")
    if math.prod(shape) * dtype.itemsize != len(payload):
        raise FrameError(f"payload of {len(payload)} bytes does not hold {dtype.str} {shape}")
    return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()
