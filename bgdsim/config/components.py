"""Pluggable components as tables: ``{ kind = "sign_flip", scale = 10 }``, or a bare name.

Every pluggable part of a scenario — the aggregator, the step-size schedule, the attack,
the Byzantine-set schedule — is written the way ``network.latency`` is: a table whose
``kind`` names the component and whose other keys are its parameters. A bare name is
that component with its defaults, so ``--set adversary.attack=alie`` replaces the whole
attack, parameters included. Parameters are checked against the component's signature
(unknown names with "did you mean", bad values naming the parameter) and stored with
their defaults filled in, so a resolved scenario says everything the run used.

>>> from bgdsim.config.components import AGGREGATOR
>>> AGGREGATOR.parse({"kind": "gmom", "batches": 10}).params["batches"]
10
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from bgdsim import adversary, aggregators, attacks, step_schedules
from bgdsim._params import check_params
from bgdsim.components import Component
from bgdsim.config.limits import check_iterations

__all__ = [
    "AGGREGATOR",
    "ATTACK",
    "COMPONENT_KEYS",
    "SCHEDULE",
    "STEP_SCHEDULE",
    "AggregatorField",
    "AttackField",
    "Component",
    "Family",
    "ScheduleField",
    "label",
]


def label(kind: str, params: Mapping[str, Any]) -> str:
    """``krum`` or ``gmom(batches=20, tol=1e-10)``: a component in one short string."""
    return Component(kind, dict(params)).describe()


@dataclass(frozen=True)
class Family:
    """One kind of component: its registry lookup and what the caller supplies itself."""

    #: the family's name in messages ("aggregator", "attack", "schedule")
    name: str
    #: registry lookup (raises ``UnknownNameError`` with "did you mean")
    lookup: Callable[[str], Callable[..., Any]]
    #: registered names, for hints
    names: Callable[[], list[str]]
    #: parameters the simulator supplies (not the scenario's to set)
    supplied: tuple[str, ...] = ()

    def parse(self, value: Any) -> Component:
        """A bare name or a ``{kind, **params}`` table → a checked :class:`Component`.

        Raises ``ValueError`` whose message starts with the offending key (``kind`` or a
        parameter name), so the scenario's error names ``section.field.key``.
        """
        if isinstance(value, Component):
            return value
        if isinstance(value, str):
            kind, raw = value, {}
        elif isinstance(value, Mapping):
            raw = dict(value)
            if "kind" not in raw:
                raise ValueError(
                    f'kind: missing; write {self.name} = {{ kind = "NAME", ... }} or a bare '
                    f"name (`bgdsim list {self.name}s`)"
                )
            kind = raw.pop("kind")
        else:
            raise ValueError(
                f'must be a {self.name} name or a table {{ kind = "NAME", ... }}, '
                f"got {type(value).__name__} {value!r}"
            )
        if not isinstance(kind, str):
            raise ValueError(f"kind: must be a {self.name} name, got {kind!r}")
        fn = self.lookup(kind)  # UnknownNameError is a ValueError with the hint
        return Component(kind, self.check(fn, kind, raw))

    def check(self, fn: Callable[..., Any], kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """Validate ``params`` for the component ``kind``; return them with defaults."""
        for key in params:
            if key in self.supplied:
                raise ValueError(
                    f"{key}: supplied by the simulator to the {self.name} '{kind}'; "
                    "it is not a scenario parameter"
                )
        owner = f"{self.name} '{kind}'"
        out = check_params(fn, params, where="", supplied=self.supplied, owner=owner)
        check_iterations(out, "")
        return out


AGGREGATOR = Family("aggregator", aggregators.get, aggregators.names, supplied=aggregators.SUPPLIED)
ATTACK = Family("attack", attacks.get, attacks.names)
SCHEDULE = Family(
    "schedule", adversary.schedules.get, adversary.schedules.names, supplied=("q", "m")
)
STEP_SCHEDULE = Family(
    "step_schedule", step_schedules.get, step_schedules.names, supplied=step_schedules.SUPPLIED
)

#: a scenario field holding one component: parsed from a name or table, written flat
AggregatorField = Annotated[
    Component, BeforeValidator(AGGREGATOR.parse), PlainSerializer(Component.to_table)
]
AttackField = Annotated[
    Component, BeforeValidator(ATTACK.parse), PlainSerializer(Component.to_table)
]
ScheduleField = Annotated[
    Component, BeforeValidator(SCHEDULE.parse), PlainSerializer(Component.to_table)
]

#: the scenario's keys that hold a component, and the kind each has when unset: a bare
#: name there is ``{ kind = name }``, and ``--set server.aggregator.batches=10`` on a
#: scenario that names no aggregator sets it on the default one
COMPONENT_KEYS: dict[str, str | None] = {
    "server.aggregator": "gmom",
    "server.step_schedule": "constant",
    "adversary.attack": "sign_flip",
    "adversary.schedule": "random",
    "network.latency": "constant",
    "network.loss": None,
    "network.topology": "star",
}

#: old keys of the flat form, and where their values went (for the migration message)
MOVED = {
    "batches": "the aggregator's table",
    "params": "the component's table",
    "schedule_params": "the schedule's table",
}


def moved_hint(section: str, data: Mapping[str, Any]) -> str | None:
    """The one-line rewrite of a pre-table ``[server]`` / ``[adversary]``, or None."""
    old = [k for k in MOVED if k in data]
    if not old:
        return None
    if section == "server":
        parts = {"kind": data.get("aggregator", "gmom")}
        if "batches" in data and _takes_batches(parts["kind"]):
            parts["batches"] = data["batches"]
        parts.update(data.get("params") or {})
        field = "aggregator"
    elif "schedule_params" in data:
        parts = {"kind": data.get("schedule", "random"), **(data.get("schedule_params") or {})}
        field = "schedule"
    else:
        parts = {"kind": data.get("attack", "sign_flip"), **(data.get("params") or {})}
        field = "attack"
    if isinstance(parts["kind"], Mapping):  # already a table: nothing simple to suggest
        return f"{old[0]}: components are tables now; move it into {section}.{field}"
    body = ", ".join(f"{k} = {_toml(v)}" for k, v in parts.items())
    return f"{old[0]}: [{section}] names its {field} as one table now; write {field} = {{ {body} }}"


def _takes_batches(kind: Any) -> bool:
    return (
        isinstance(kind, str)
        and kind in aggregators.registry
        and aggregators.takes_batches(aggregators.get(kind))
    )


def _toml(v: Any) -> str:
    """A TOML value on one line (inline arrays and tables), for the rewrite hint."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return repr(v)
