"""Sans-I/O round logic shared by every runtime: validation, barrier, policies, update.

Nothing here knows about SimPy, asyncio or sockets. A runtime opens a round with
:meth:`ServerCore.open_round`, hands every arriving report to :meth:`ServerCore.receive`
(which validates it and says what became of it), asks :meth:`RoundInbox.complete` whether
the barrier may fire early, and finally calls :meth:`ServerCore.close` when the barrier
fires (all m workers heard from, or the round timeout), which applies the missing-report
policy, aggregates and takes the gradient step.

Missing-report policies (what the aggregator sees for a worker whose report did not
arrive or was rejected):

* ``zero`` — the zero vector: the paper's "set g to some arbitrary value" (Algorithm 1/2,
  step 3), with the arbitrary value fixed to 0;
* ``exclude`` — the worker is left out; the aggregator sees only the reports it got;
* ``stale`` — the worker's last accepted report from an earlier round (zero if none).

If the rule cannot run on what is left (e.g. ``krum`` needs n ≥ 2f + 3 and ``exclude``
left fewer reports), the round ends without a step and the result says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

__all__ = [
    "Outcome",
    "RoundInbox",
    "RoundResult",
    "ServerCore",
    "validate_block",
    "validate_report",
]


class Outcome(str, Enum):
    """What became of one report that reached the server."""

    ACCEPTED = "deliver"
    REJECTED = "rejected"
    LATE = "late"


def validate_report(vector: Any, *, dim: int, max_norm: float | None = None) -> str | None:
    """Check a report's payload; return ``None`` if usable, else the reason it is not.

    A report must be a real ``(dim,)`` array with finite entries, and (when ``max_norm``
    is set) of norm at most ``max_norm``.
    """
    if not isinstance(vector, np.ndarray):
        return f"not an array ({type(vector).__name__})"
    if vector.shape != (dim,):
        return f"wrong shape {vector.shape} (expected ({dim},))"
    if vector.dtype.kind not in "fiu":
        return f"wrong dtype {vector.dtype} (expected real numbers)"
    if not np.isfinite(vector).all():
        bad = int(np.flatnonzero(~np.isfinite(vector))[0])
        return f"non-finite entry {vector[bad]} at index {bad}"
    if max_norm is not None:
        scale = float(np.max(np.abs(vector))) if dim else 0.0
        norm = scale * float(np.linalg.norm(vector / scale)) if scale else 0.0
        if norm > max_norm:
            return f"norm {norm:.3g} exceeds server.max_norm {max_norm:.3g}"
    return None


def validate_block(block: np.ndarray, *, max_norm: float | None = None) -> list[str | None]:
    """:func:`validate_report` for every row of a float ``(m, d)`` matrix, in one pass."""
    ok = np.isfinite(block).all(axis=1)
    verdicts: list[str | None] = [None] * block.shape[0]
    check = range(block.shape[0]) if max_norm is not None else np.flatnonzero(~ok).tolist()
    for i in check:
        verdicts[i] = validate_report(block[i], dim=block.shape[1], max_norm=max_norm)
    return verdicts


_UNCHECKED: Any = object()


@dataclass
class RoundInbox:
    """The server's view of one round while its barrier is open."""

    round: int
    reports: np.ndarray  # (m, d); row j holds worker j's accepted report
    received: np.ndarray  # (m,) bool: an accepted report from j is in
    heard: np.ndarray  # (m,) bool: j's report arrived (accepted or rejected)
    n_heard: int = 0
    n_received: int = 0
    closed: bool = False

    def complete(self) -> bool:
        """Every worker has been heard from: the ``all`` barrier may fire now."""
        return self.n_heard == self.heard.shape[0]


@dataclass
class RoundResult:
    """What the server did when round ``round``'s barrier fired."""

    round: int
    missing: np.ndarray  # sorted worker ids whose report is missing
    used: int  # rows the aggregator saw
    aggregate: np.ndarray  # (d,)
    theta: np.ndarray  # θ_t
    finite: bool = True  # False when the aggregate or θ_t is not finite (divergence)
    skipped: str | None = None  # why the rule could not run on these reports (no step)


class ServerCore:
    """The parameter server's state machine (Algorithms 1 and 2, steps 2–5).

    Args:
        theta: θ₀.
        aggregator: ``fn(vectors, **params) -> (d,)``.
        params: keyword parameters for the aggregator (``batches`` included if it takes k).
        step_size: η.
        workers: m.
        missing: the missing-report policy, ``zero`` | ``exclude`` | ``stale``.
        max_norm: reject reports of larger norm (None: no limit).
    """

    def __init__(
        self,
        theta: np.ndarray,
        aggregator: Callable[..., np.ndarray],
        params: dict[str, Any],
        *,
        step_size: float,
        workers: int,
        missing: str = "zero",
        max_norm: float | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        if missing not in ("zero", "exclude", "stale"):
            raise ValueError(f"unknown missing-report policy '{missing}'")
        self.theta = np.array(theta, dtype=np.float64)
        self.dim = self.theta.shape[0]
        self.m = workers
        self.aggregator = aggregator
        self.params = params
        self.step_size = step_size
        self.missing = missing
        self.max_norm = max_norm
        self.weights = weights
        self.round = 0
        self._last = np.zeros((workers, self.dim)) if missing == "stale" else None

    def open_round(self, t: int) -> RoundInbox:
        """Start round ``t``: a fresh inbox for the reports on θ_{t-1} = ``self.theta``."""
        self.round = t
        m = self.m
        return RoundInbox(
            t, np.zeros((m, self.dim)), np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
        )

    def receive(
        self,
        inbox: RoundInbox,
        worker: int,
        msg_round: int,
        vector: Any,
        verdict: str | None = _UNCHECKED,
    ) -> tuple[Outcome, str | None]:
        """A report from ``worker`` for round ``msg_round`` arrived; validate and keep it.

        ``verdict``, if given, is the message's :func:`validate_report` result computed
        earlier (e.g. for a whole round with :func:`validate_block`). Returns the outcome
        and, for a rejection or a late report, the reason.
        """
        if msg_round < inbox.round or (inbox.closed and msg_round == inbox.round):
            return Outcome.LATE, f"report for round {msg_round} after its barrier"
        if not 0 <= worker < self.m:
            return Outcome.REJECTED, f"unknown worker {worker} (expected 0..{self.m - 1})"
        if msg_round != inbox.round:
            return Outcome.REJECTED, f"wrong round {msg_round} (current {inbox.round})"
        if inbox.heard[worker]:
            return Outcome.REJECTED, "duplicate report"
        inbox.heard[worker] = True
        inbox.n_heard += 1
        if verdict is _UNCHECKED:
            verdict = validate_report(vector, dim=self.dim, max_norm=self.max_norm)
        reason = verdict
        if reason is not None:
            return Outcome.REJECTED, reason
        inbox.reports[worker] = vector
        inbox.received[worker] = True
        inbox.n_received += 1
        return Outcome.ACCEPTED, None

    def close(self, inbox: RoundInbox, extra: dict[str, Any] | None = None) -> RoundResult:
        """The barrier fired: apply the missing policy, aggregate, step θ.

        ``extra``: this round's additional aggregator arguments (e.g. its ``rng``).
        """
        inbox.closed = True
        got = inbox.received
        missing = np.flatnonzero(~got)
        if self.missing == "exclude":
            vectors = inbox.reports[got] if missing.size else inbox.reports
        else:
            vectors = inbox.reports  # missing rows are zero
            if self._last is not None:
                if missing.size:
                    vectors[missing] = self._last[missing]
                self._last[got] = vectors[got]
        # Overflow is possible under attack (the mean of huge reports); it is caught as a
        # non-finite θ below and reported as divergence, not as a warning.
        used = int(vectors.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            if used:
                params = {**self.params, **extra} if extra else self.params
                if self.weights is not None:
                    w = self.weights[got] if self.missing == "exclude" else self.weights
                    params = {**params, "weights": w}
                try:
                    aggregate = np.asarray(self.aggregator(vectors, **params), dtype=np.float64)
                except ValueError as exc:
                    # e.g. krum's n >= 2f + 3 after excluding missing reports: the rule
                    # cannot run this round, so the server does not step
                    zero = np.zeros(self.dim)
                    return RoundResult(inbox.round, missing, used, zero, self.theta, True, str(exc))
            else:
                aggregate = np.zeros(self.dim)
            theta = self.theta - self.step_size * aggregate
        finite = bool(np.isfinite(theta).all())
        if finite:
            self.theta = theta
        return RoundResult(inbox.round, missing, used, aggregate, theta, finite)
