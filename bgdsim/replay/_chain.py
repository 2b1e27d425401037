"""The digest chain and the signatures as ``replay --verify`` walks a log.

:class:`Chain` hashes every line of a span, and at each seal checks that the line ends
with its digest (and signature), recomputes the digest over the span's lines, the seal's
own line up to its digest and the span's sidecar bytes, and, given the signing key,
checks the seal's signature (:mod:`bgdsim.eventlog.signing`). A failure is a
:class:`~bgdsim.replay._arrivals.Mismatch` the verifier places in its round.
"""

from __future__ import annotations

import hmac
from typing import Any

from bgdsim.eventlog import chain_digest, span_hasher
from bgdsim.eventlog.digest import seal_body
from bgdsim.eventlog.signing import key_id, sign
from bgdsim.replay._ahead import Span
from bgdsim.replay._arrivals import Mismatch
from bgdsim.replay.reader import Log
from bgdsim.replay.verdict import Verification

__all__ = ["Chain"]


class Chain:
    """The chain so far: the last verified digest and the open span's hashes.

    Args:
        log: the log being verified.
        result: where what the header says of signing is recorded.
        key: the signing key, or None (signatures are then not checked).
    """

    def __init__(self, log: Log, result: Verification, key: bytes | None) -> None:
        self.log, self.result, self.key = log, result, key
        self.digest, self.lines_h, self.payload_h = b"", span_hasher(), span_hasher()
        self.payload_start = 0
        self.sealed = 0  # seals verified so far

    def line(self, raw: bytes) -> None:
        """A line of the open span (a seal's whole line opens the next span)."""
        self.lines_h.update(raw)

    def seal(self, raw: bytes, e: dict[str, Any], ahead: Span | None = None) -> None:
        """Check a seal: its line's ending, its digest, and its signature if a key is given.

        Raises:
            Mismatch: ``integrity`` (the digest) or ``signature``.
        """
        kind = e.get("event")
        body = seal_body(raw, e["digest"], e.get("signature"))
        if body is None:
            raise Mismatch("integrity", f"the {kind} line does not end with its digest")
        self.lines_h.update(body)
        log = self.log
        end = int(e.get("payload_end", -1))
        if not self.payload_start <= end <= log.sidecar_size:
            raise Mismatch("integrity", f"payload_end {end} is outside the sidecar")
        if (
            ahead is not None
            and ahead.digest
            and (ahead.start, ahead.end) == (self.payload_start, end)
        ):
            payload = ahead.digest  # hashed ahead, in the background
        else:
            if end > self.payload_start:
                self.payload_h.update(log.sidecar_view(self.payload_start, end))
            payload = self.payload_h.digest()
        want = chain_digest(self.digest, self.lines_h.digest(), payload)
        if want.hex() != e["digest"]:
            raise Mismatch("integrity", "digest differs: a line or payload byte of this round "
                           "was changed")  # fmt: skip
        if not self.sealed:
            self.header()  # vouched for by this first digest
        if self.key is not None:
            signature = e.get("signature")
            if signature is None:
                raise Mismatch("signature", f"this {kind} is not signed (its signature was "
                               "removed, or the log was never signed)")  # fmt: skip
            if not (
                isinstance(signature, str) and hmac.compare_digest(signature, sign(self.key, want))
            ):
                raise Mismatch("signature", "does not match the signing key: this round was "
                               "rewritten and re-chained after the run")  # fmt: skip
        self.digest, self.lines_h, self.payload_h = want, span_hasher(), span_hasher()
        self.payload_start = end
        self.sealed += 1

    def header(self) -> None:
        """What the header (vouched for by the first digest) says of signing, checked
        against the key if one is given.

        Raises:
            Mismatch: ``signature``: a key is given and the header names no key, or
                another one.
        """
        signed = self.log.header.get("signed")
        ident = signed.get("key_id") if isinstance(signed, dict) else None
        self.result.signed = ident if isinstance(ident, str) else None
        if self.key is None:
            return
        self.result.signatures = True
        if signed is None:
            raise Mismatch("signature", "the log is not signed (its header names no key)", 0)
        if ident != key_id(self.key):
            raise Mismatch("signature", f"the log was signed with key id {ident!r}, the "
                           f"signing key given is {key_id(self.key)!r}", 0)  # fmt: skip
