"""Wire frames of the TCP runtime, the per-worker keys, and the channel that signs them.

A connection opens with the server's *greeting*, ``"BGD4" ‖ run id ‖ server nonce`` (4 +
16 + 16 bytes), answered by the worker's, ``"BGW4" ‖ worker nonce`` (4 + 16 bytes): the
run id is random per run, each nonce random per connection, and the connection's *nonce*
is the two together (so neither end alone decides the keys of a connection: a recorded
conversation replayed to a reconnecting worker, or to the server, is keyed differently
and refused). Every message after that, either way, is a frame ``len ‖ hlen ‖ header ‖
payload ‖ tag``:

* ``len``: 4 bytes, big-endian, the length of everything after it;
* ``hlen``: 2 bytes, big-endian, the header's length;
* ``header``: a small JSON object ``{"round", "worker", "kind", "seq", ...}`` (``round``
  and ``worker`` 32-bit signed integers);
* ``payload``: raw array bytes (``dtype``, ``shape``), e.g. float64 little-endian, or JSON;
* ``tag``: 16 bytes, Poly1305 of ``len ‖ hlen ‖ header ‖ payload`` under this frame's
  one-time key, keyed BLAKE2b-256 under worker j's key of ``"bgdsim-frame-v4" ‖ run id ‖
  nonce ‖ direction ‖ seq``; direction is ``D`` (server → worker) or ``U``, seq (8 bytes,
  big-endian) counts that direction's frames on the connection from 0.

So a frame is good once, in one place: replayed on the same connection (a seq already
used), on another connection (another nonce) or run (another run id), for another worker
(another key) or with another round (the header is authenticated), it is refused. This is
the one-time-authenticator construction of NaCl's ``secretbox`` and of ChaCha20-Poly1305:
every (run, connection, direction, seq) gets its own Poly1305 key from a PRF, so no key
ever signs two messages. Poly1305 hashes an 80 kB payload ~5x faster than SHA-256 with
hardware support on the machines we measured (``benchmarks/bench_live.py``), and every
receiver checks every byte it is sent.

A :class:`Channel` keeps the counters of one connection. Worker j's key is keyed
BLAKE2b-256 of ``"worker-j"`` under the run secret; the server signs the frames it sends j
with the same key. Anything that does not parse, exceeds the size limit, comes out of
order or fails its tag raises :class:`FrameError`; the caller decides what it costs (the
server drops the connection and counts the worker as missing).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from cryptography.hazmat.primitives.poly1305 import Poly1305

from bgdsim.paths import read_key

__all__ = [
    "GREETING_SIZE",
    "ID_SIZE",
    "MAC_SIZE",
    "MAX_HEADER",
    "MAX_NDIM",
    "WORKER_GREETING_SIZE",
    "Channel",
    "FrameError",
    "derive_key",
    "greeting",
    "key_path",
    "peek_header",
    "read_body",
    "read_greeting",
    "read_key",
    "read_nonce",
    "to_array",
    "worker_greeting",
    "write_keys",
]

MAGIC = b"BGD4"
WORKER_MAGIC = b"BGW4"
ID_SIZE = 16
GREETING_SIZE = len(MAGIC) + 2 * ID_SIZE
WORKER_GREETING_SIZE = len(WORKER_MAGIC) + ID_SIZE
MAC_SIZE = 16
MAX_HEADER = 4096
#: the most dimensions a frame's array may have
MAX_NDIM = 8
_LABEL = b"bgdsim-frame-v4"
_LEN = struct.Struct(">I")
_HLEN = struct.Struct(">H")
_SEQ = struct.Struct(">Q")
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_DTYPE_KINDS = "biufc"
_timeout = getattr(asyncio, "timeout", None)  # Python 3.11+


class FrameError(ValueError):
    """A frame the receiver refuses (malformed, oversized, truncated, replayed, bad MAC)."""


# ---------------------------------------------------------------------------- keys
def derive_key(secret: bytes, worker: int) -> bytes:
    """Worker ``worker``'s key: BLAKE2b-256 of ``"worker-<worker>"`` keyed by ``secret``
    (a secret longer than 64 bytes is hashed first)."""
    if len(secret) > 64:
        secret = hashlib.blake2b(secret).digest()
    return hashlib.blake2b(f"worker-{worker}".encode(), key=secret, digest_size=32).digest()


def key_path(keys_dir: str | Path, worker: int) -> Path:
    """``<keys_dir>/worker-<j>.key``."""
    return Path(keys_dir) / f"worker-{worker}.key"


def write_keys(keys_dir: str | Path, m: int, secret: bytes | None = None) -> list[Path]:
    """Write ``worker-<j>.key`` (hex, one line) for j < m, derived from ``secret``
    (random if None); files are created readable by their owner only.

    Raises:
        ValueError: ``keys_dir`` exists and is not a folder.
    """
    secret = os.urandom(32) if secret is None else secret
    folder = Path(keys_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is not a folder (the workers' key files go in one)")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for j in range(m):
        path = key_path(folder, j)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(derive_key(secret, j).hex() + "\n")
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- greeting
def greeting(run_id: bytes, nonce: bytes) -> bytes:
    """The server's first bytes on a connection."""
    if len(run_id) != ID_SIZE or len(nonce) != ID_SIZE:
        raise ValueError(f"run id and nonce must be {ID_SIZE} bytes")
    return MAGIC + run_id + nonce


async def read_greeting(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(run id, server nonce) from the server's greeting."""
    data = await reader.readexactly(GREETING_SIZE)
    if not data.startswith(MAGIC):
        raise FrameError(f"not a bgdsim server speaking {MAGIC.decode()} (got {data[:4]!r})")
    return data[4 : 4 + ID_SIZE], data[4 + ID_SIZE :]


def worker_greeting(nonce: bytes) -> bytes:
    """A worker's first bytes on a connection, after the server's greeting."""
    if len(nonce) != ID_SIZE:
        raise ValueError(f"the nonce must be {ID_SIZE} bytes")
    return WORKER_MAGIC + nonce


async def read_nonce(reader: asyncio.StreamReader) -> bytes:
    """The worker's nonce, from its greeting (anything else is refused at its first four
    bytes, without waiting for more)."""
    magic = await reader.readexactly(len(WORKER_MAGIC))
    if magic != WORKER_MAGIC:
        raise FrameError(f"not a bgdsim worker speaking {WORKER_MAGIC.decode()} (got {magic!r})")
    return await reader.readexactly(ID_SIZE)


# ---------------------------------------------------------------------------- frames
def _view(array: np.ndarray) -> memoryview:
    """The bytes of ``array`` in C order, without a copy when it is contiguous."""
    return np.ascontiguousarray(array).data.cast("B")


class Channel:
    """The frames of one connection between the server and worker ``worker``.

    Args:
        key: worker j's key.
        worker: j.
        run_id: the run's id, from the greeting.
        nonce: the connection's nonce: the server's (from the greeting) ‖ the worker's.
        server: True on the server's end (it sends ``D`` frames and receives ``U``).
    """

    def __init__(
        self, key: bytes, worker: int, run_id: bytes, nonce: bytes, *, server: bool
    ) -> None:
        self.worker = worker
        self.run_id, self.nonce = run_id, nonce
        self._key = key
        self._bound = _LABEL + run_id + nonce
        self._out, self._in = (b"D", b"U") if server else (b"U", b"D")
        self.sent = 0  # seq of the next frame out
        self.received = 0  # seq the next frame in must carry

    def _poly(self, direction: bytes, seq: int) -> Poly1305:
        """The Poly1305 of frame ``seq`` in ``direction``, under its one-time key."""
        key = hashlib.blake2b(
            self._bound + direction + _SEQ.pack(seq), key=self._key, digest_size=32
        ).digest()
        return Poly1305(key)

    def seal(
        self, kind: str, round: int, payload: bytes | np.ndarray = b"", **fields: Any
    ) -> bytes:
        """The next frame out: ``fields`` join the header."""
        data = _view(payload) if isinstance(payload, np.ndarray) else payload
        header = {"round": round, "worker": self.worker, "kind": kind, "seq": self.sent, **fields}
        head = orjson.dumps(header)
        if len(head) > MAX_HEADER:
            raise ValueError("frame header too large")
        size = _HLEN.size + len(head) + len(data) + MAC_SIZE
        prefix = _LEN.pack(size) + _HLEN.pack(len(head)) + head
        poly = self._poly(self._out, self.sent)
        poly.update(prefix)
        poly.update(data)
        self.sent += 1
        return b"".join((prefix, data, poly.finalize()))

    def open(self, frame: bytes) -> tuple[dict[str, Any], memoryview]:
        """Check the next frame in (from :func:`read_body`); its (header, payload), the
        payload a view into ``frame``."""
        header = peek_header(frame)
        seq = header.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise FrameError("header field 'seq' missing or not int")
        if header["worker"] != self.worker:
            raise FrameError(f"a {header['kind']!r} frame claiming worker {header['worker']}")
        if seq != self.received:
            raise FrameError(
                f"replayed or out-of-order frame (seq {seq}, expected {self.received})"
            )
        (hlen,) = _HLEN.unpack_from(frame, _LEN.size)
        start = _LEN.size + _HLEN.size + hlen
        view = memoryview(frame)
        poly = self._poly(self._in, seq)
        poly.update(view[:-MAC_SIZE])
        if not hmac.compare_digest(poly.finalize(), view[-MAC_SIZE:]):
            raise FrameError("bad MAC")
        self.received += 1
        return header, view[start:-MAC_SIZE]


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
        if body_timeout is None:
            return prefix + await reader.readexactly(size)
        if _timeout is None:  # Python 3.10: wait_for wraps the read in a task
            return prefix + await asyncio.wait_for(reader.readexactly(size), body_timeout)
        async with _timeout(body_timeout):  # a timer on this task, no task per frame
            return prefix + await reader.readexactly(size)
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
    for key in ("round", "worker"):  # the log stores both as int32
        if not _INT32_MIN <= header[key] <= _INT32_MAX:
            raise FrameError(f"header field {key!r} out of the 32-bit range ({header[key]})")
    return header


def to_array(
    header: dict[str, Any], payload: bytes | memoryview, *, copy: bool = True
) -> np.ndarray:
    """The array a frame carries (its ``dtype`` and ``shape`` must match the payload);
    ``copy=False``: a read-only view of the payload."""
    try:
        dtype = np.dtype(str(header.get("dtype")))
    except Exception:  # numpy's parser raises TypeError, ValueError, SyntaxError, ...
        raise FrameError(f"unknown dtype {header.get('dtype')!r}") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.hasobject:
        raise FrameError(f"dtype {dtype.str} not allowed")
    shape = header.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_NDIM
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise FrameError(f"bad shape {shape!r}"[:200])
    if math.prod(shape) * dtype.itemsize != len(payload):
        raise FrameError(f"payload of {len(payload)} bytes does not hold {dtype.str} {shape}")
    try:
        array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    except ValueError as exc:  # e.g. [2**62, 0]: no bytes, but too big a shape for numpy
        raise FrameError(f"bad shape {shape!r}: {exc}") from None
    return array.copy() if copy else array
