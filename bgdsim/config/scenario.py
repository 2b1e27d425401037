"""The whole scenario: :class:`Scenario`, one model per table and the checks across them.

Its validator checks what no section can alone: that the run fits this machine's memory
(:mod:`bgdsim.config.limits`), q ≤ m, k ≤ m, N a multiple of m, group
workers and faults within the cluster, the topology built for m workers, the schedule
built and the aggregator dry-run for (m, q, k).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, field_validator, model_validator

from bgdsim import adversary, aggregators
from bgdsim._section import Section as _Section
from bgdsim.config.components import Component
from bgdsim.config.learning import DataConfig, WorkerConfig
from bgdsim.config.limits import check_memory, check_name
from bgdsim.config.sections import (
    AdversaryConfig,
    ClusterConfig,
    NetworkConfig,
    PositiveInt,
    ProblemConfig,
    ServerConfig,
)
from bgdsim.network.faults import Fault, check_faults

__all__ = ["Scenario"]


def _table(v: Any) -> Any:
    return {} if v is None else v


#: the dry run's d: the scenario's, capped (the rules' cost grows with d)
DRY_RUN_MAX_DIM = 16


def _dry_run(
    rule: Component, m: int, q: int, dim: int, pre: list[dict[str, Any]] | None = None
) -> None:
    """Run the rule once on m zero reports of a realistic d, as the server will call it.

    The pre-aggregators (``pre``) run first, then the rule on what they return; each
    checks its parameters and preconditions (e.g. krum: m >= 2q + 3). d is the
    scenario's ``problem.dim`` capped at :data:`DRY_RUN_MAX_DIM` — not 1, where broadcasting
    hides a shape bug — and moved off m when it equals it (an (m, d) vs (d, m) mix-up
    broadcasts too); the aggregate must have shape (d,).
    """
    name = rule.kind
    fn = aggregators.get(name)
    d = min(dim, DRY_RUN_MAX_DIM)
    if d == m and d > 1:
        d -= 1
    x = np.zeros((m, d))
    if pre:
        try:
            x = aggregators.pre.Chain(aggregators.pre.parse_chain(pre), f=q)(x, 0)
        except ValueError as exc:
            raise ValueError(f"server.pre: {exc}") from None
    try:
        out = aggregators.call(fn, x, rule.params, f=q, seed=0)
    except ValueError as exc:
        raise ValueError(f"server.aggregator: {exc}") from None
    if out.shape != (d,):
        raise ValueError(
            f"server.aggregator: {name} returned shape {out.shape} for {x.shape} reports "
            f"(expected ({d},))"
        )


class Scenario(_Section):
    """A whole scenario: the run's name, seed and length, and one model per table."""

    name: str = Field(
        "scenario", description="run name; the default log is logs/<name>-seed<seed>.jsonl"
    )
    seed: int = Field(
        0, ge=0, le=2**64 - 1, description="master seed; every random stream derives from it"
    )
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
    data: DataConfig | None = Field(None, description="how the samples are shared out")
    worker: WorkerConfig | None = Field(None, description="mini-batches and worker momentum")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        m, q = self.cluster.workers, self.cluster.byzantine
        # first: what cannot fit this machine is refused before anything is built
        check_memory(
            samples=self.problem.samples, dim=self.problem.dim, workers=m, rounds=self.rounds
        )
        if q > m:
            raise ValueError(f"cluster.byzantine ({q}) must be <= cluster.workers ({m})")
        if self.server.batches > m:
            raise ValueError(
                f"server.aggregator.batches ({self.server.batches}) must be <= "
                f"cluster.workers ({m})"
            )
        if self.problem.dataset is not None:
            if self.problem.samples < m:
                raise ValueError(
                    f"problem.test_fraction: leaves {self.problem.samples} training samples "
                    f"for {m} workers (each needs at least one)"
                )
        elif self.problem.samples % m and self.problem.size_spread == 0:
            raise ValueError(
                f"problem.samples ({self.problem.samples}) must be a multiple of "
                f"cluster.workers ({m}) so that every worker holds N/m samples "
                "(or set problem.size_spread for unequal local sizes)"
            )
        if self.problem.samples < m:
            raise ValueError(f"problem.samples ({self.problem.samples}) must be >= {m} workers")
        self._partition()
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
            adversary.schedules.get(adv.schedule.kind)(
                m, q, np.random.default_rng(0), k, **adv.schedule.params
            )
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        _dry_run(self.server.aggregator, m, q, self.problem.dim, self.server.pre)
        return self

    def _partition(self) -> None:
        """A partition fits the problem: label and quantity skew share a data set out,
        drift moves the optima of the synthetic linear regression."""
        kind = "iid" if self.data is None else self.data.partition.kind
        prob = self.problem
        if kind in ("dirichlet", "quantity") and prob.dataset is None:
            raise ValueError(f"data.partition: {kind} shares out a data set; set "
                             "problem.dataset (synthetic data: problem.size_spread)")  # fmt: skip
        if kind == "dirichlet" and prob.kind == "linear_regression":
            raise ValueError("data.partition: dirichlet (label skew) needs a classification "
                             "problem; use quantity or drift")  # fmt: skip
        if kind == "drift" and (prob.kind != "linear_regression" or prob.dataset is not None):
            raise ValueError("data.partition: drift moves θ* of the synthetic "
                             "linear_regression only")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain TOML-able data."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


def require_scenario(scenario: object, fn: str) -> None:
    """Raise a TypeError naming ``fn`` unless ``scenario`` is a :class:`Scenario` (a dict
    or a path passed to ``run``-like functions by mistake)."""
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"{fn}(): scenario must be a bgdsim.config.Scenario (e.g. from "
            f"bgdsim.load_scenario(path)), got {type(scenario).__name__}"
        )
