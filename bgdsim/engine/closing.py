"""The events that say how a round closed: its barrier, then its aggregate or its skip.

One function, :func:`log_close`, for the round engine: the ``barrier`` line, then
``aggregate`` (with ``state``, the payload of the rule's new state, only for a rule with
history, so every other log is unchanged byte for byte) or ``aggregate_skipped``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgdsim import events as ev
from bgdsim.events import EventSink

if TYPE_CHECKING:
    from bgdsim.config import Scenario
    from bgdsim.engine.server import RoundInbox, RoundResult

__all__ = ["log_close"]


def log_close(
    log: EventSink,
    scenario: Scenario,
    inbox: RoundInbox,
    result: RoundResult,
    *,
    reason: str,
    seed: int,
    pre: bool,
    now: float,
) -> None:
    """Log round ``inbox.round``'s barrier (fired for ``reason``) and its outcome.

    ``seed``: the round's server seed; ``pre``: the rule has pre-aggregators (a skip then
    records the seed: it may depend on the round's bits, as bucketing's does).
    """
    t = inbox.round
    log.emit(
        ev.BARRIER,
        now,
        round=t,
        reason=reason,
        heard=int(inbox.n_heard),
        received=int(inbox.n_received),
        missing=result.missing.tolist(),
    )
    if result.skipped is not None:
        extra = {"server_seed": seed} if pre else {}
        log.emit(
            ev.AGGREGATE_SKIPPED, now, round=t, rows=result.used, reason=result.skipped, **extra
        )
        return
    log.emit(
        ev.AGGREGATE,
        now,
        round=t,
        aggregator=scenario.server.aggregator.kind,
        missing_policy=scenario.server.missing,
        rows=result.used,
        server_seed=seed,
        payload=log.payload(result.aggregate),
        **({"unconverged": list(result.stalls)} if result.stalls else {}),
        **({} if result.state is None else {"state": log.payload(result.state)}),
    )
