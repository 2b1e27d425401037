"""An optional signing key over the digest chain: HMAC-SHA256 of every seal's digest.

The digest chain (:mod:`bgdsim.eventlog.digest`) has no key: it shows a log is the one
its writer wrote against accidental corruption and truncation, but anyone can rewrite a
round and compute the chain again. With a signing key the writer adds to every seal
(``round_end``, ``run_end``) a ``signature``, HMAC-SHA256 under the key of the seal's
digest, and to the header a ``signed`` object naming the algorithm and the key's id
(:func:`key_id`, which reveals nothing of the key). Since each digest chains everything
before it, a seal's signature vouches for the whole log up to and including that seal's
line; whoever rewrites a round without the key cannot sign the new digests.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from bgdsim.paths import KEY_BYTES, read_key

__all__ = [
    "ALGORITHM",
    "SignKeyError",
    "check_key",
    "header_field",
    "key_id",
    "read_sign_key",
    "resolve",
    "sign",
]

ALGORITHM = "hmac-sha256"
_KEY_ID = b"bgdsim-log-key-id"


class SignKeyError(ValueError):
    """A signing key refused: a missing, unreadable or malformed key file, a bad key."""


def check_key(key: object) -> bytes:
    """``key`` if it is a usable signing key (bytes, 16 to 64 of them).

    Raises:
        SignKeyError: not bytes, or of the wrong length.
    """
    if not isinstance(key, bytes | bytearray):
        raise SignKeyError(
            f"sign_key must be bytes (the key) or a key file's path, got {type(key).__name__}"
        )
    low, high = KEY_BYTES
    if not low <= len(key) <= high:
        raise SignKeyError(f"sign_key: a key must be {low} to {high} bytes, got {len(key)}")
    return bytes(key)


def read_sign_key(path: str | os.PathLike[str]) -> bytes:
    """A signing key from its file: hex text of 16 to 64 bytes (``openssl rand -hex 32``).

    Raises:
        SignKeyError: naming the path and what is wrong with it.
    """
    try:
        return read_key(path)
    except ValueError as exc:
        raise SignKeyError(str(exc)) from None


def resolve(sign_key: bytes | str | os.PathLike[str] | None) -> bytes | None:
    """``sign_key`` as a run or ``verify`` takes it: the key, a key file's path, or None."""
    if sign_key is None:
        return None
    if isinstance(sign_key, str | os.PathLike):
        return read_sign_key(sign_key)
    return check_key(sign_key)


def key_id(key: bytes) -> str:
    """A short public name of ``key`` (16 hex digits): tells keys apart, reveals nothing."""
    return hmac.new(key, _KEY_ID, hashlib.sha256).hexdigest()[:16]


def sign(key: bytes, digest: bytes) -> str:
    """A seal's ``signature``: HMAC-SHA256 of its digest under ``key``, as hex."""
    return hmac.new(key, digest, hashlib.sha256).hexdigest()


def header_field(key: bytes) -> dict[str, Any]:
    """The header's ``signed`` object: ``{"alg": "hmac-sha256", "key_id": ...}``."""
    return {"alg": ALGORITHM, "key_id": key_id(key)}
