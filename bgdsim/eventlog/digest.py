"""The seals' digest chain: BLAKE2b over the previous digest and one span's hashes.

Every seal (``round_end``, ``run_end``) carries ``digest`` = :func:`chain_digest` of the
previous seal's digest, the hash of the span's lines and the hash of the span's sidecar
bytes, each span hash kept by a :func:`span_hasher`. A span's lines are every line since
the previous seal (that seal's line included) and the seal's own line up to its
``digest`` field (:func:`seal_body`), so the last line, ``run_end``, is covered too. A
seal line ends with ``digest`` and, in a signed log, ``signature`` (:func:`seal_tail`).
The writer builds the chain, the replay checker recomputes it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

__all__ = ["DIGEST_SIZE", "chain_digest", "seal_body", "seal_tail", "span_hasher"]

DIGEST_SIZE = 16
_DIGEST_KEY = b',"digest":'


def chain_digest(previous: bytes, lines: bytes, payloads: bytes) -> bytes:
    """The seal's digest: H(previous digest ‖ H(lines of the span) ‖ H(payloads of the span)).

    ``lines`` and ``payloads`` are the two span hashes (``hashlib.blake2b(...).digest()``).
    """
    return hashlib.blake2b(previous + lines + payloads, digest_size=DIGEST_SIZE).digest()


def span_hasher() -> Any:
    """A fresh hasher for one span's lines or payload bytes."""
    return hashlib.blake2b(digest_size=DIGEST_SIZE)


def seal_tail(digest: Any, signature: Any = None) -> bytes:
    """How a seal line ends: ``,"digest":"…"`` (``,"signature":"…"``) ``}`` and newline."""
    tail = _DIGEST_KEY + orjson.dumps(digest)
    if signature is not None:
        tail += b',"signature":' + orjson.dumps(signature)
    return tail + b"}\n"


def seal_body(line: bytes, digest: Any, signature: Any = None) -> bytes | None:
    """The part of a seal line its own digest covers (all before ``,"digest":``), or None
    if the line does not end exactly as :func:`seal_tail` says."""
    tail = seal_tail(digest, signature)
    return line[: -len(tail)] if line.endswith(tail) else None
