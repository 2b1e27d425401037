"""The seals' digest chain: BLAKE2b over the previous digest and one span's hashes.

Every seal (``round_end``, ``run_end``) carries ``digest`` = :func:`chain_digest` of the
previous seal's digest, the hash of the span's lines and the hash of the span's sidecar
bytes, each span hash kept by a :func:`span_hasher`. The writer builds the chain, the
replay checker recomputes it.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["DIGEST_SIZE", "chain_digest", "span_hasher"]

DIGEST_SIZE = 16


def chain_digest(previous: bytes, lines: bytes, payloads: bytes) -> bytes:
    """The seal's digest: H(previous digest ‖ H(lines of the span) ‖ H(payloads of the span)).

    ``lines`` and ``payloads`` are the two span hashes (``hashlib.blake2b(...).digest()``).
    """
    return hashlib.blake2b(previous + lines + payloads, digest_size=DIGEST_SIZE).digest()


def span_hasher() -> Any:
    """A fresh hasher for one span's lines or payload bytes."""
    return hashlib.blake2b(digest_size=DIGEST_SIZE)
