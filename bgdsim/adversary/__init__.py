"""Who is Byzantine in round t, and what the Byzantine workers send.

The paper's adversary may corrupt a *different* set B_t of at most q machines every round
(Chen, Su, Xu 2017, §1.2), choosing it with complete knowledge: all data, every honest
message of the round, the server's program and its random bits. A :class:`Schedule` is
built once per run from (m, q, its random stream, the server's k, its parameters) and
picks B_t each round from the round's :class:`~bgdsim.attacks.AdversaryView`; the
:class:`Adversary` then asks the attack for B_t's messages and assembles what every worker
sends. |B_t| ≤ q is asserted every round; a schedule may use fewer.

==================  =====================================================================
schedule            B_t
==================  =====================================================================
static              one set for the whole run (``workers``, or q drawn once at random)
random              a new uniformly random q-set every round (a weak special case of the
                    paper's worst-case adversary)
round_robin         workers (t-1)q, …, tq-1 modulo m: every worker takes its turn
batch_spread        one worker in each of min(q, k) gmom batches, the rest spread again:
                    spoils as many batches as possible
batch_concentrate   whole batches, one after another: spoils as few batches as possible
adaptive            greedy: add the worker whose corruption moves the server's aggregate
                    farthest from the honest mean, q times (uses the attack itself)
scripted            explicit sets per round (``sets``), empty after the list ends
                    unless ``cycle``
==================  =====================================================================

The package re-exports its modules' public names:

* :mod:`bgdsim.adversary.scheduling` — :class:`Schedule`, the ``schedules`` registry and
  every schedule above;
* :mod:`bgdsim.adversary.plan` — :class:`RoundPlan` (and its :class:`Messages`): what
  every worker sends in one round;
* :mod:`bgdsim.adversary.crafting` — :class:`Adversary`: a schedule and an attack, from
  the round's view to its plan.
"""

from __future__ import annotations

from bgdsim.adversary.crafting import Adversary
from bgdsim.adversary.plan import Messages as Messages
from bgdsim.adversary.plan import RoundPlan
from bgdsim.adversary.scheduling import AdaptiveSchedule as AdaptiveSchedule
from bgdsim.adversary.scheduling import (
    BatchConcentrateSchedule,
    BatchSpreadSchedule,
    RandomSchedule,
    Schedule,
    StaticSchedule,
    schedules,
)
from bgdsim.adversary.scheduling import RoundRobinSchedule as RoundRobinSchedule
from bgdsim.adversary.scheduling import ScriptedSchedule as ScriptedSchedule

__all__ = [
    "Adversary",
    "BatchConcentrateSchedule",
    "BatchSpreadSchedule",
    "RandomSchedule",
    "RoundPlan",
    "Schedule",
    "StaticSchedule",
    "schedules",
]
