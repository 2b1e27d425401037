"""The round engine: one sans-I/O implementation of a round that every runtime drives.

* :mod:`~bgdsim.engine.world` — :class:`World` plans a round (gradients, links, the
  adversary) as a :class:`~bgdsim.engine.planned.PlannedRound`, :class:`RecordedWorld`
  replays a logged one;
* :mod:`~bgdsim.engine.server` — :class:`ServerCore` (θ and a rule's state),
  :func:`build_server`; :mod:`~bgdsim.engine.rule` — :class:`ServerRule`, the rule the
  server and the adversary call; :mod:`~bgdsim.engine.validation` screens reports;
* :mod:`~bgdsim.engine.barrier` — all / quorum + grace / timeout, as decisions;
* :mod:`~bgdsim.engine.round` — :class:`RoundEngine`, the round's rules in order, with
  :mod:`~bgdsim.engine.messages` (the per-message rules) and :mod:`~bgdsim.engine.steps`
  (what it tells its driver) and :mod:`~bgdsim.engine.closing` (how a close is logged);
  :mod:`~bgdsim.engine.resolve` — the same round in closed form, for the vector runtime;
* :mod:`~bgdsim.engine.accounting` — per-worker message counts.

Nothing here sleeps, schedules or touches SimPy, asyncio or sockets: drivers
(:mod:`bgdsim.sim`, :mod:`bgdsim.live`, :mod:`bgdsim.replay`) pass the time in.
"""

from bgdsim.engine.accounting import Accounting
from bgdsim.engine.barrier import Arm, Barrier, Decision, Fire
from bgdsim.engine.round import SCHEMA_VERSION, RoundEngine
from bgdsim.engine.rule import ServerRule
from bgdsim.engine.server import RoundInbox, RoundResult, ServerCore, build_server
from bgdsim.engine.steps import Forward, Groups, Opened, Progress, Stop, TimedFault, Wait
from bgdsim.engine.validation import Outcome, validate_block, validate_report
from bgdsim.engine.world import (
    PlannedRound,
    RecordedWorld,
    World,
    build_barrier,
    build_problem,
    paper_floor,
)

__all__ = [
    "SCHEMA_VERSION",
    "Accounting",
    "Arm",
    "Barrier",
    "Decision",
    "Fire",
    "Forward",
    "Groups",
    "Opened",
    "Outcome",
    "PlannedRound",
    "Progress",
    "RecordedWorld",
    "RoundEngine",
    "RoundInbox",
    "RoundResult",
    "ServerCore",
    "ServerRule",
    "Stop",
    "TimedFault",
    "Wait",
    "World",
    "build_barrier",
    "build_problem",
    "build_server",
    "paper_floor",
    "validate_block",
    "validate_report",
]
