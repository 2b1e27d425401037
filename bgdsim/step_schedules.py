"""Step-size schedules: η_t, the step the server takes in round t = 1, 2, …, T.

``[server] step_schedule`` is a component table like the aggregator's: a bare name or
``{ kind = "inverse_time", decay = 0.1 }``. Every schedule is a registered function
``schedule(t, *, eta, rounds, **params) -> η_t``; the server supplies ``eta`` (η, the
scenario's ``step_size`` with ``"auto"`` resolved) and ``rounds`` (T); the other
keyword-only parameters are the scenario's, validated like an aggregator's.

* ``constant`` — η_t = η (the paper's; also what an unset ``step_schedule`` means);
* ``inverse_time`` — η_t = η / (1 + decay·(t − 1))^power: η/t by default, the classic
  Robbins–Monro rate; ``power = 0.5`` gives η/√t;
* ``cosine`` — cosine annealing (Loshchilov, Hutter 2017, "SGDR"):
  η_t = η_min + (η − η_min)·(1 + cos(π·min(t − 1, P)/P))/2, η_min = min_factor·η, P =
  ``period`` (default T), so η_1 = η and η falls to η_min at t = P + 1 and stays there.

The η_t of every round is logged (``update.step_size``) and ``replay --verify`` recomputes
it.

>>> [round(get("inverse_time")(t, eta=1.0, rounds=4), 3) for t in (1, 2, 3, 4)]
[1.0, 0.5, 0.333, 0.25]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from bgdsim.registry import Registry

__all__ = ["SUPPLIED", "StepSchedule", "bind", "get", "names", "register", "registry"]

StepSchedule = Callable[..., float]

registry: Registry[StepSchedule] = Registry("step schedule")
register: Callable[[str], Callable[[StepSchedule], StepSchedule]] = registry.register

#: parameters the server supplies: the base step η and the number of rounds T
SUPPLIED = ("eta", "rounds")

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


def get(name: str) -> StepSchedule:
    """The schedule called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered step-size schedules."""
    return registry.names()


@register("constant")
def constant(t: int, *, eta: float, rounds: int) -> float:
    """A constant step η_t = η (the paper's Algorithms 1 and 2)."""
    return eta


@register("inverse_time")
def inverse_time(
    t: int, *, eta: float, rounds: int, decay: Positive = 1.0, power: Positive = 1.0
) -> float:
    """Inverse-time decay η_t = η / (1 + decay·(t − 1))^power (η/t by default)."""
    return eta / (1.0 + decay * (t - 1)) ** power


@register("cosine")
def cosine(
    t: int,
    *,
    eta: float,
    rounds: int,
    period: Annotated[int, Field(ge=1)] | None = None,
    min_factor: Annotated[float, Field(ge=0, le=1)] = 0.0,
) -> float:
    """Cosine annealing η_t = η_min + (η − η_min)(1 + cos(π·min(t − 1, P)/P))/2
    (Loshchilov, Hutter 2017), η_min = min_factor·η, P = ``period`` (default: T)."""
    p = rounds if period is None else period
    low = min_factor * eta
    return low + (eta - low) * (1.0 + math.cos(math.pi * min(t - 1, p) / p)) / 2.0


def bind(kind: str, params: dict[str, Any], *, eta: float, rounds: int) -> Callable[[int], float]:
    """``t -> η_t`` for the schedule ``kind`` with its (validated) ``params``."""
    fn = get(kind)
    return lambda t: float(fn(t, eta=eta, rounds=rounds, **params))
