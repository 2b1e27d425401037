"""The scenario model: pydantic sections, TOML loading, dotted overrides.

A scenario is a TOML file whose tables map onto the sections below; every key has a
default (documented on the field and in ``docs/scenario.md``), unknown keys are rejected
with a "did you mean" hint, and every error names the dotted field. ``--set`` overrides
(``cluster.byzantine=10``, ``network.latency={kind="exponential", mean=0.02}``) are
applied to the raw table before validation, so they are checked exactly like the file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from bgdsim import adversary, aggregators, attacks, problems
from bgdsim._params import check_params
from bgdsim._section import Section as _Section
from bgdsim.network.faults import Fault, check_faults
from bgdsim.network.latency import (
    ConstantLatency,
    LatencyModel,
    latency_base_dir,
    parse_latency,
)
from bgdsim.network.loss import LossModel, parse_loss
from bgdsim.network.topology import StarTopology, Topology, parse_topology, topology_base_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "AdversaryConfig",
    "ClusterConfig",
    "NetworkConfig",
    "ProblemConfig",
    "Scenario",
    "ScenarioError",
    "ServerConfig",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "to_toml",
    "validate_scenario",
]

MISSING_POLICIES = ("zero", "exclude", "stale")


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or is invalid; the message names the field."""


PositiveInt = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ProblemConfig(_Section):
    """``[problem]``: what is learned and from how much data."""

    kind: str = Field("linear_regression", description="learning problem (`bgdsim list problems`)")
    dim: PositiveInt = Field(10, description="d, the dimension of θ")
    samples: PositiveInt = Field(100_000, description="N, samples in all, split evenly")
    noise: float = Field(
        1.0, ge=0, allow_inf_nan=False, description="std of ζ in y = ⟨w,θ*⟩ + ζ (linear only)"
    )
    theta_star: list[float] | None = Field(
        None, description="θ*; default: random, ‖θ*‖ = theta_norm"
    )
    theta_norm: float = Field(1.0, gt=0, allow_inf_nan=False, description="‖θ*‖ when drawn")
    size_spread: float = Field(
        0.0, ge=0, lt=1, allow_inf_nan=False, description="local sizes n_j ∝ 1 + spread·U(−1, 1)"
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        problems.registry.get(v)
        return v

    @model_validator(mode="after")
    def _theta(self) -> ProblemConfig:
        if self.theta_star is not None and len(self.theta_star) != self.dim:
            raise ValueError(
                f"theta_star: has {len(self.theta_star)} entries but problem.dim is {self.dim}"
            )
        return self


class ClusterConfig(_Section):
    """``[cluster]``: the working machines."""

    workers: PositiveInt = Field(100, description="m, the number of working machines")
    byzantine: int = Field(5, ge=0, description="q, the most Byzantine machines in one round")
    compute_time: float | SerializeAsAny[LatencyModel] = Field(
        0.0, description="seconds a worker computes before replying, or a delay model"
    )
    compute_per_sample: bool = Field(False, description="scale compute time by n_j / mean n")

    @field_validator("compute_time", mode="before")
    @classmethod
    def _compute(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return parse_latency(v)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < float("inf"):
            raise ValueError(f"must be seconds >= 0 or a delay model table, got {v!r}")
        return float(v)

    def compute_time_model(self) -> LatencyModel | None:
        """The compute-time distribution (None: workers reply at once)."""
        if isinstance(self.compute_time, LatencyModel):
            return self.compute_time
        return ConstantLatency(value=self.compute_time) if self.compute_time > 0 else None


def _step_size(v: Any) -> Any:
    if v == "auto":
        return v
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < float("inf"):
        raise ValueError(f'must be a positive number or "auto", got {v!r}')
    return float(v)


class ServerConfig(_Section):
    """``[server]``: the parameter server's rule."""

    aggregator: str = Field("gmom", description="aggregation rule (`bgdsim list aggregators`)")
    batches: PositiveInt = Field(20, description="k, batches of the geometric median of means")
    step_size: Annotated[float | Literal["auto"], BeforeValidator(_step_size)] = Field(
        0.5, description='η, or "auto" = L/(2M²)'
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
    params: dict[str, Any] = Field(default_factory=dict, description="aggregator parameters")

    @model_validator(mode="after")
    def _aggregator(self) -> ServerConfig:
        try:
            fn = aggregators.get(self.aggregator)
        except ValueError as exc:
            raise ValueError(f"aggregator: {exc}") from None
        check_params(fn, self.params, where="params", supplied=aggregators.SUPPLIED)
        return self


class LinkGroup(_Section):
    """``[[network.groups]]``: workers whose links have their own models."""

    name: str = Field(..., description="the group's name")
    workers: list[int] = Field(..., min_length=1, description="its workers")
    latency: SerializeAsAny[LatencyModel] | None = Field(None, description="latency model")
    loss: SerializeAsAny[LossModel] | None = Field(None, description="loss model")
    bandwidth: float | None = Field(None, gt=0, description="bytes per second")

    @field_validator("latency", mode="before")
    @classmethod
    def _latency(cls, v: Any) -> LatencyModel | None:
        return None if v is None else parse_latency(v)

    @field_validator("loss", mode="before")
    @classmethod
    def _loss(cls, v: Any) -> LossModel | None:
        return None if v is None else parse_loss(v)


class NetworkConfig(_Section):
    """``[network]``: the links between the server and each worker (both directions)."""

    latency: SerializeAsAny[LatencyModel] = Field(
        default_factory=ConstantLatency, description="latency model (`bgdsim list latencies`)"
    )
    drop: float = Field(0.0, ge=0, le=1, description="probability a message is lost, per message")
    loss: SerializeAsAny[LossModel] | None = Field(
        None, description="a loss model instead of drop (`bgdsim list losses`)"
    )
    bandwidth: float | None = Field(None, gt=0, description="bytes per second (unset: infinite)")
    groups: list[LinkGroup] = Field(default_factory=list, description="per-link overrides")
    topology: SerializeAsAny[Topology] = Field(
        default_factory=StarTopology, description="star (default), tree or graphml"
    )

    @field_validator("latency", mode="before")
    @classmethod
    def _latency(cls, v: Any) -> LatencyModel:
        return parse_latency(v)

    @field_validator("loss", mode="before")
    @classmethod
    def _loss(cls, v: Any) -> LossModel | None:
        return None if v is None else parse_loss(v)

    @field_validator("topology", mode="before")
    @classmethod
    def _topology(cls, v: Any) -> Topology:
        return parse_topology(v)

    @model_validator(mode="after")
    def _groups(self) -> NetworkConfig:
        if self.loss is not None and self.drop > 0:
            raise ValueError("drop: set either network.drop or network.loss, not both")
        seen: dict[int, str] = {}
        names: set[str] = set()
        for i, g in enumerate(self.groups):
            if g.name in names:
                raise ValueError(f"groups[{i}].name: duplicate group name '{g.name}'")
            names.add(g.name)
            for w in g.workers:
                if w in seen:
                    raise ValueError(
                        f"groups[{i}].workers: worker {w} is in groups '{seen[w]}' and '{g.name}'"
                    )
                seen[w] = g.name
        return self


class AdversaryConfig(_Section):
    """``[adversary]``: who is Byzantine each round and what they send."""

    schedule: str = Field("random", description="Byzantine-set schedule (`bgdsim list schedules`)")
    schedule_params: dict[str, Any] = Field(default_factory=dict, description="schedule parameters")
    attack: str = Field(
        "sign_flip", description="what Byzantine workers send (`bgdsim list attacks`)"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="attack parameters")

    @model_validator(mode="after")
    def _names(self) -> AdversaryConfig:
        try:
            attack = attacks.get(self.attack)
        except ValueError as exc:
            raise ValueError(f"attack: {exc}") from None
        try:
            sched = adversary.schedules.get(self.schedule)
        except ValueError as exc:
            raise ValueError(f"schedule: {exc}") from None
        check_params(attack, self.params, where="params")
        check_params(sched, self.schedule_params, where="schedule_params", supplied=("q", "m"))
        return self


def _table(v: Any) -> Any:
    return {} if v is None else v


class Scenario(_Section):
    """A whole scenario: the run's name, seed and length, and one model per table."""

    name: str = Field(
        "scenario", description="run name; the default log is logs/<name>-seed<seed>.jsonl"
    )
    seed: int = Field(0, ge=0, description="master seed; every random stream derives from it")
    rounds: PositiveInt = Field(40, description="T, gradient-descent rounds")
    problem: Annotated[ProblemConfig, BeforeValidator(_table)] = Field(
        default_factory=ProblemConfig
    )
    cluster: Annotated[ClusterConfig, BeforeValidator(_table)] = Field(
        default_factory=ClusterConfig
    )
    server: Annotated[ServerConfig, BeforeValidator(_table)] = Field(default_factory=ServerConfig)
    network: Annotated[NetworkConfig, BeforeValidator(_table)] = Field(
        default_factory=NetworkConfig
    )
    adversary: Annotated[AdversaryConfig, BeforeValidator(_table)] = Field(
        default_factory=AdversaryConfig
    )
    faults: list[Fault] = Field(default_factory=list, description="scripted faults")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        m, q = self.cluster.workers, self.cluster.byzantine
        if q > m:
            raise ValueError(f"cluster.byzantine ({q}) must be <= cluster.workers ({m})")
        if self.server.batches > m:
            raise ValueError(
                f"server.batches ({self.server.batches}) must be <= cluster.workers ({m})"
            )
        if self.problem.samples % m and self.problem.size_spread == 0:
            raise ValueError(
                f"problem.samples ({self.problem.samples}) must be a multiple of "
                f"cluster.workers ({m}) so that every worker holds N/m samples "
                "(or set problem.size_spread for unequal local sizes)"
            )
        if self.problem.samples < m:
            raise ValueError(f"problem.samples ({self.problem.samples}) must be >= {m} workers")
        quorum = self.server.quorum
        if quorum is not None and quorum > m:
            raise ValueError(f"server.quorum ({quorum}) must be <= cluster.workers ({m})")
        net = self.network
        for i, g in enumerate(net.groups):
            bad = [w for w in g.workers if not 0 <= w < m]
            if bad:
                raise ValueError(
                    f"network.groups[{i}].workers: worker {bad[0]} is not in 0..{m - 1}"
                )
        try:
            routes = net.topology.build(m)
        except ValueError as exc:
            raise ValueError(f"network.topology: {exc}") from None
        check_faults(self.faults, m, q, set(routes.relays))
        adv = self.adversary
        k = self.server.batches
        try:  # a schedule checks its parameters against m and q when built
            adversary.schedules.get(adv.schedule)(
                m, q, np.random.default_rng(0), k, **adv.schedule_params
            )
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        fn = aggregators.get(self.server.aggregator)
        try:  # a rule checks its preconditions (e.g. krum: m >= 2q + 3) on a dry run
            aggregators.call(fn, np.zeros((m, 1)), self.server.params, batches=k, f=q, seed=0)
        except ValueError as exc:
            raise ValueError(f"server.aggregator: {exc}") from None
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain TOML-able data."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


# ----------------------------------------------------------------------------- loading

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.path=value``; the value is a TOML value (a bare word is a string).

    >>> parse_override('network.latency={kind="exponential", mean=0.02}')
    ('network.latency', {'kind': 'exponential', 'mean': 0.02})
    >>> parse_override("server.aggregator=mean")
    ('server.aggregator', 'mean')
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if (
        not sep
        or not key
        or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key)
    ):
        raise ScenarioError(
            f"bad --set '{text}': expected key.path=value, e.g. cluster.byzantine=10"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if _BARE.match(raw) and raw not in ("true", "false"):
            value = raw
        else:
            raise ScenarioError(f"bad --set '{text}': '{raw}' is not a TOML value") from None
    return key, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the raw table with dotted ``overrides`` applied."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise ScenarioError(f"bad --set {dotted}: '{where}' is not a table")
            else:
                child = node[part] = dict(child)
            node = child
        node[parts[-1]] = value
    return out


def _format_error(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    parts = [x for x in err["loc"] if not str(x).startswith("function-")]
    loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in parts).lstrip(".")
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    bad = err.get("input")
    show_input = err["type"] not in ("value_error", "missing") and not isinstance(bad, dict)
    got = f" (got {bad!r})" if show_input else ""
    sub = re.match(r"([A-Za-z_][A-Za-z0-9_.]*): ", msg)
    if sub and loc:  # a section validator naming its own field: join into one dotted path
        loc, msg = f"{loc}.{sub.group(1)}", msg[sub.end() :]
    where = f"{loc}: " if loc else ""
    more = len(exc.errors()) - 1
    tail = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {where}{msg}{got}{tail}"


def to_toml(data: dict[str, Any]) -> str:
    """Render a resolved scenario (``Scenario.to_dict()``) as TOML."""
    import tomli_w

    return tomli_w.dumps(data)


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a raw scenario table, raising :class:`ScenarioError` naming the field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_error(exc, source)) from None


def load_scenario(
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seed: int | None = None,
) -> Scenario:
    """Load a scenario TOML file (or the defaults when ``path`` is None).

    Args:
        path: the TOML file.
        overrides: dotted keys to values (``{"cluster.byzantine": 10}``) or ``--set``
            strings (``["cluster.byzantine=10"]``).
        seed: overrides the scenario's ``seed``.

    Raises:
        ScenarioError: unreadable file, broken TOML, bad override, or invalid scenario.
    """
    data: dict[str, Any] = {}
    source = "scenario"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{source}: no such scenario file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{source}: cannot read: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    if seed is not None:
        overrides = {**(overrides or {}), "seed": seed}
    if overrides:
        data = apply_overrides(data, overrides)
    base = Path(path).parent if path is not None else None
    with latency_base_dir(base), topology_base_dir(base):  # files named relative to it
        return validate_scenario(data, source)
