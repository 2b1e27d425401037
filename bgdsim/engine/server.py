"""The parameter server's state machine (Algorithms 1 and 2, steps 2–5).

:class:`ServerCore` keeps θ and the rule's state, collects a round's reports in a
:class:`RoundInbox`, applies the missing-report policy, calls its
:class:`~bgdsim.engine.rule.ServerRule` and steps θ. :func:`build_server` makes both from
a scenario (every runtime and ``replay --verify`` build the server this way).

A rule with history (``centered_clipping_history``) returns a new state with its
aggregate; the core holds it aside and makes it the state only when the round is sealed
(:meth:`ServerCore.seal`), so the adversary's calls to the rule while it writes its
messages never change it, and a skipped round keeps the old state.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from bgdsim import aggregators, step_schedules
from bgdsim.aggregators.geometric_median import unconverged
from bgdsim.aggregators.pre import Chain, parse_chain
from bgdsim.engine.rule import ServerRule
from bgdsim.engine.validation import Outcome, validate_report

if TYPE_CHECKING:
    from bgdsim.config import Scenario

__all__ = ["RoundInbox", "RoundResult", "ServerCore", "ServerRule", "build_server"]

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
    stalls: tuple[int, ...] = ()  # iterations of each geometric median that did not converge
    state: np.ndarray | None = None  # a rule with history: its new state (None: unchanged)
    step_size: float = 0.0  # η_t of the round (the step taken, or not taken when skipped)


class ServerCore:
    """The parameter server's state machine (Algorithms 1 and 2, steps 2–5).

    Args:
        theta: θ₀.
        aggregator: ``fn(vectors, **params) -> (d,)``, or a :class:`ServerRule`.
        params: keyword parameters for the aggregator (``batches`` included if it takes k);
            ignored when ``aggregator`` is a :class:`ServerRule`.
        step_size: η, the base step.
        schedule: ``t -> η_t`` (None: η_t = η in every round).
        workers: m.
        missing: the missing-report policy, ``zero`` | ``exclude`` | ``stale``.
        max_norm: reject reports of larger norm (None: no limit).
        weights: per-worker aggregation weights (ignored for a :class:`ServerRule`).
    """

    def __init__(
        self,
        theta: np.ndarray,
        aggregator: Callable[..., np.ndarray] | ServerRule,
        params: dict[str, Any] | None = None,
        *,
        step_size: float,
        workers: int,
        missing: str = "zero",
        max_norm: float | None = None,
        weights: np.ndarray | None = None,
        schedule: Callable[[int], float] | None = None,
    ) -> None:
        if missing not in ("zero", "exclude", "stale"):
            raise ValueError(f"unknown missing-report policy '{missing}'")
        self.rule = (
            aggregator
            if isinstance(aggregator, ServerRule)
            else ServerRule(aggregator, dict(params or {}), weights)
        )
        self.theta = np.array(theta, dtype=np.float64)
        self.dim = self.theta.shape[0]
        self.m = workers
        self.step_size = step_size
        self.schedule = schedule
        self.missing = missing
        self.max_norm = max_norm
        self.round = 0
        self._last = np.zeros((workers, self.dim)) if missing == "stale" else None
        #: the rule's state after the last sealed round (rules with history; None before)
        self.state: np.ndarray | None = None
        self._next_state: np.ndarray | None = None  # this round's, until it is sealed

    def open_round(self, t: int) -> RoundInbox:
        """Start round ``t``: a fresh inbox for the reports on θ_{t-1} = ``self.theta``."""
        self.round = t
        self._next_state = None
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
        *,
        in_time: bool = True,
    ) -> tuple[Outcome, str | None]:
        """A report from ``worker`` for round ``msg_round`` arrived; validate and keep it.

        ``verdict``, if given, is the message's :func:`validate_report` result computed
        earlier (e.g. for a whole round with :func:`validate_block`); ``in_time``: the
        round's barrier admits it (:meth:`Barrier.admits`: a live clock can hand over a
        report after the barrier fired and before the round is closed). Returns the
        outcome and, for a rejection or a late report, the reason.
        """
        if msg_round < inbox.round or (msg_round == inbox.round and (inbox.closed or not in_time)):
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

    def close(self, inbox: RoundInbox, seed: int | None = None) -> RoundResult:
        """The barrier fired: apply the missing policy, aggregate, step θ.

        ``seed``: this round's random bits for a rule that draws (e.g. ``rebatch``).

        If the rule raises :class:`~bgdsim.aggregators.PreconditionError` (it cannot run on
        what the policy left, e.g. ``krum`` with n < 2f + 3), the round ends without a step
        and the result says why (``skipped``). Any other exception — a plain ``ValueError``
        included — propagates: it is a bug in the rule or its parameters, not a round to
        skip.
        """
        inbox.closed = True
        eta = self.step_at(inbox.round)
        got = inbox.received
        missing = np.flatnonzero(~got)
        rows = None
        if self.missing == "exclude":
            vectors = inbox.reports[got] if missing.size else inbox.reports
            rows = got
        else:
            vectors = inbox.reports  # missing rows are zero
            if self._last is not None:
                if missing.size:
                    vectors[missing] = self._last[missing]
                self._last[got] = vectors[got]
        # Overflow is possible under attack (the mean of huge reports); it is caught as a
        # non-finite θ below and reported as divergence, not as a warning.
        used = int(vectors.shape[0])
        with np.errstate(over="ignore", invalid="ignore"), unconverged() as stalls:
            if used:
                try:
                    aggregate, new_state = self.rule.apply(vectors, seed, rows, self.state)
                except aggregators.PreconditionError as exc:
                    # e.g. krum's n >= 2f + 3 after excluding missing reports: the rule
                    # cannot run this round, so the server does not step
                    zero = np.zeros(self.dim)
                    return RoundResult(inbox.round, missing, used, zero, self.theta, True,
                                       str(exc), step_size=eta)  # fmt: skip
            else:
                aggregate, new_state = np.zeros(self.dim), None
            theta = self.theta - eta * aggregate
        finite = bool(np.isfinite(theta).all())
        if finite:
            self.theta = theta
        self._next_state = new_state
        return RoundResult(
            inbox.round, missing, used, aggregate, theta, finite, stalls=tuple(stalls),
            state=new_state, step_size=eta,
        )  # fmt: skip

    def step_at(self, t: int) -> float:
        """η_t, the step size of round t (the base η without a schedule)."""
        return self.step_size if self.schedule is None else self.schedule(t)

    def seal(self) -> None:
        """The round is sealed: the rule's new state (if it made one) becomes the state."""
        if self._next_state is not None:
            self.state, self._next_state = self._next_state, None


def build_server(
    scenario: Scenario, theta: np.ndarray, step_size: float, sizes: np.ndarray | None
) -> ServerCore:
    """The server a scenario describes, at θ₀ = ``theta`` (every runtime and replay), with
    the base step ``step_size`` (η, "auto" resolved) and the scenario's step schedule.

        ``sizes``: the workers' data sizes n_j; rules that take weights get them when unequal.

        Raises:
            ValueError: an aggregator parameter is unknown or out of range.
    """
    srv = scenario.server
    fn = aggregators.get(srv.aggregator.kind)
    params = aggregators.server_params(fn, srv.aggregator.params, f=scenario.cluster.byzantine)
    weights = None
    unequal = sizes is not None and sizes.size > 0 and not (sizes == sizes[0]).all()
    if unequal and aggregators.takes(fn, "weights"):
        weights = np.asarray(sizes, dtype=np.float64)
    pre = Chain(parse_chain(srv.pre), f=scenario.cluster.byzantine) if srv.pre else None
    plan = srv.step_schedule
    schedule = (
        None
        if plan is None
        else step_schedules.bind(plan.kind, plan.params, eta=step_size, rounds=scenario.rounds)
    )
    return ServerCore(
        theta,
        ServerRule(fn, params, weights, pre),
        step_size=step_size,
        workers=scenario.cluster.workers,
        missing=srv.missing,
        max_norm=srv.max_norm,
        schedule=schedule,
    )
