"""What ``replay --verify`` concludes about a log: :class:`Verification`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Verification"]


@dataclass
class Verification:
    """The outcome of :func:`verify`.

    Attributes:
        rounds: complete rounds that verified.
        complete: the log ends with ``run_end`` (not cut short).
        mismatch: ``None``, or ``(round, quantity, detail)`` of the first failure.
        notes: what else the reader noticed (e.g. where a cut-short log ends).
        signed: the key id the header names if the log is signed (None: unsigned).
        signatures: the seals' signatures were checked against a key.
    """

    rounds: int = 0
    complete: bool = False
    mismatch: tuple[int, str, str] | None = None
    notes: list[str] = field(default_factory=list)
    signed: str | None = None
    signatures: bool = False

    @property
    def ok(self) -> bool:
        """No mismatch."""
        return self.mismatch is None

    def message(self) -> str:
        """One line for the command line."""
        if self.mismatch is not None:
            t, what, detail = self.mismatch
            where = f"round {t}" if t > 0 else "the header"
            return f"mismatch in {where}: {what}: {detail}"
        tail = "" if self.complete else " (" + "; ".join(self.notes) + ")"
        if self.signatures:
            tail += f"; signatures checked (key id {self.signed})"
        elif self.signed is not None:
            tail += f"; signed (key id {self.signed}), signatures not checked: no signing key given"
        return f"verified {self.rounds} rounds{tail}"
