"""The scenario's sections: one pydantic model per TOML table.

``[problem]`` (:class:`ProblemConfig`), ``[cluster]`` (:class:`ClusterConfig`),
``[server]`` (:class:`ServerConfig`, from :mod:`~bgdsim.config.server`), ``[network]``
(:class:`NetworkConfig`, with its ``[[network.groups]]``, :class:`LinkGroup`) and
``[adversary]`` (:class:`AdversaryConfig`).
Each checks its own keys and names, with the registries' "did you mean" hints; checks
across sections are :class:`~bgdsim.config.Scenario`'s.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from bgdsim import problems
from bgdsim._section import Section as _Section
from bgdsim.config.components import AttackField, ScheduleField, moved_hint
from bgdsim.config.learning import DatasetFile, parse_dataset
from bgdsim.config.server import MISSING_POLICIES, Seconds, ServerConfig
from bgdsim.network.latency import ConstantLatency, LatencyModel, parse_latency
from bgdsim.network.loss import LossModel, parse_loss
from bgdsim.network.topology import StarTopology, Topology, parse_topology
from bgdsim.problems.datasets import BUNDLED
from bgdsim.problems.real_data import DEFAULT_L2, LOSS_OF, TASKS, shape_of

__all__ = [
    "MISSING_POLICIES",
    "AdversaryConfig",
    "ClusterConfig",
    "LinkGroup",
    "NetworkConfig",
    "PositiveInt",
    "ProblemConfig",
    "Seconds",
    "ServerConfig",
]

PositiveInt = Annotated[int, Field(ge=1)]


class ProblemConfig(_Section):
    """``[problem]``: what is learned and from how much data."""

    kind: str = Field("linear_regression", description="learning problem (`bgdsim list problems`)")
    dim: PositiveInt = Field(10, description="d, the dimension of θ")
    samples: PositiveInt = Field(100_000, description="N, samples in all, split evenly")
    noise: float = Field(
        1.0, ge=0, allow_inf_nan=False, description="std of ζ in y = ⟨w,θ*⟩ + ζ (linear only)"
    )
    theta_star: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(
        None, description="θ*; default: random, ‖θ*‖ = theta_norm"
    )
    theta_norm: float = Field(1.0, gt=0, allow_inf_nan=False, description="‖θ*‖ when drawn")
    size_spread: float = Field(
        0.0, ge=0, lt=1, allow_inf_nan=False, description="local sizes n_j ∝ 1 + spread·U(−1, 1)"
    )
    dataset: Annotated[str | DatasetFile | None, BeforeValidator(parse_dataset)] = Field(
        None, description='a real data set: "digits" | … or { kind = "file", path = … }'
    )
    test_fraction: float | None = Field(
        None, ge=0, lt=1, allow_inf_nan=False, description="share of the data set held out"
    )
    l2: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="λ, the ridge penalty (data sets: 1e-3)"
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        problems.registry.get(v)
        return v

    @model_validator(mode="after")
    def _theta(self) -> ProblemConfig:
        if self.dataset is not None:
            return self._real_data()
        for key in ("test_fraction", "l2"):
            if getattr(self, key) is not None:
                raise ValueError(f"{key}: needs problem.dataset (the synthetic problems "
                                 "learn from a population, as in the paper)")  # fmt: skip
        if self.kind == "softmax_regression":
            bundled = ", ".join(BUNDLED)
            raise ValueError(
                f'dataset: softmax_regression needs a data set ({bundled}, or {{ kind = "file", '
                "path = … })"
            )
        if self.theta_star is not None and len(self.theta_star) != self.dim:
            raise ValueError(
                f"theta_star: has {len(self.theta_star)} entries but problem.dim is {self.dim}"
            )
        return self

    def _real_data(self) -> ProblemConfig:
        """Read the data set now (fail at load time) and fix d and N from it."""
        for key, unset in (("theta_star", None), ("size_spread", 0.0)):
            if getattr(self, key) != unset:
                raise ValueError(
                    f"{key}: not used with problem.dataset (θ* is the training set's "
                    "minimiser; partition sizes in [data])"
                )
        try:
            dim, samples = shape_of(self)
        except ValueError as exc:
            raise ValueError(f"dataset: {exc}") from None
        for key, value in (("dim", dim), ("samples", samples)):
            given = getattr(self, key)
            if key in self.model_fields_set and given != value:
                raise ValueError(f"{key}: is {given} but the data set gives {value} "
                                 "(leave it out: it is set from the data)")  # fmt: skip
            object.__setattr__(self, key, value)  # frozen: set once, while validating
        l2 = DEFAULT_L2 if self.l2 is None else self.l2
        if l2 == 0 and TASKS[LOSS_OF[self.kind]] == "classification":
            raise ValueError("l2: must be > 0 for classification (the unpenalised "
                             "minimiser θ* need not exist on separable data)")  # fmt: skip
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

    schedule: ScheduleField = Field(
        "random",  # type: ignore[assignment]  # parsed by the validator
        description="Byzantine-set schedule, a name or a table (`bgdsim list schedules`)",
    )
    attack: AttackField = Field(
        "sign_flip",  # type: ignore[assignment]  # parsed by the validator
        description='what Byzantine workers send, a name or { kind = "sign_flip", scale = 10 } '
        "(`bgdsim list attacks`)",
    )

    @classmethod
    def _moved(cls, data: dict[str, Any]) -> str | None:
        return moved_hint("adversary", data)
