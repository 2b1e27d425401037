"""``[server]``: the parameter server's rule, step sizes, barrier and missing reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, model_validator

from bgdsim import aggregators
from bgdsim._section import Section as _Section
from bgdsim.config.components import STEP_SCHEDULE, AggregatorField, Component, moved_hint

__all__ = ["MISSING_POLICIES", "Seconds", "ServerConfig"]

MISSING_POLICIES = ("zero", "exclude", "stale")

Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def _step_size(v: Any) -> Any:
    if v == "auto":
        return v
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < float("inf"):
        raise ValueError(f'must be a positive number or "auto", got {v!r}')
    return float(v)


def _step_schedule(v: Any) -> Component | None:
    return None if v is None else STEP_SCHEDULE.parse(v)


def _table_or_none(c: Component | None) -> dict[str, Any] | None:
    return None if c is None else c.to_table()


class ServerConfig(_Section):
    """``[server]``: the parameter server's rule and step sizes."""

    aggregator: AggregatorField = Field(
        "gmom",  # type: ignore[assignment]  # parsed by the validator
        description='aggregation rule, a name or { kind = "gmom", batches = 20 } '
        "(`bgdsim list aggregators`)",
    )
    step_size: Annotated[float | Literal["auto"], BeforeValidator(_step_size)] = Field(
        0.5, description='η, or "auto" = L/(2M²)'
    )
    step_schedule: Annotated[
        Component | None, BeforeValidator(_step_schedule), PlainSerializer(_table_or_none)
    ] = Field(
        None,
        description='η_t: "constant" (unset), { kind = "inverse_time", decay = 1 } or '
        '{ kind = "cosine" } (`bgdsim list step_schedules`)',
    )
    round_timeout: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="seconds the barrier waits after broadcast"
    )
    missing: Literal["zero", "exclude", "stale"] = Field(
        "zero", description="a missing report counts as: zero | exclude | stale"
    )
    barrier: Literal["all", "quorum"] = Field(
        "all", description="fire when all m are heard, or once a quorum of reports is in"
    )
    quorum: int | None = Field(None, ge=1, description="reports that make a quorum (default m − q)")
    grace: Seconds = Field(0.0, description="quorum: seconds to wait after the quorum is reached")
    max_norm: float | None = Field(
        None, gt=0, description="reject reports with a larger norm (default: no limit)"
    )
    pre: list[dict[str, Any]] | None = Field(
        None, description="pre-aggregators applied in order before the rule (`bgdsim list pre`)"
    )

    @model_validator(mode="before")
    @classmethod
    def _pre(cls, data: Any) -> Any:
        """``pre``: each entry a table ``{kind, **params}`` or a bare name, stored resolved
        (defaults filled in); an empty list is no pre-aggregation."""
        if isinstance(data, dict) and data.get("pre") is not None:
            chain = aggregators.pre.parse_chain(data["pre"], where="pre")
            data = {**data, "pre": [c.to_table() for c in chain] or None}
        return data

    @classmethod
    def _moved(cls, data: dict[str, Any]) -> str | None:
        return moved_hint("server", data)

    @property
    def batches(self) -> int:
        """k, the aggregator's ``batches`` for rules that batch; 1 for rules that do not."""
        return int(self.aggregator.params.get("batches", 1))
