"""The scenario model: pydantic sections, TOML loading, dotted overrides.

A scenario is a TOML file whose tables map onto the sections below; every key has a
default (documented on the field and in ``docs/scenario.md``), unknown keys are rejected
with a "did you mean" hint, and every error names the dotted field. ``--set`` overrides
(``cluster.byzantine=10``, ``network.latency={kind="exponential", mean=0.02}``) are
applied to the raw table before validation, so they are checked exactly like the file.

The package re-exports its modules' public names:

* :mod:`bgdsim.config.sections` — one model per table (``[problem]``, ``[cluster]``,
  ``[server]``, ``[network]``, ``[adversary]``);
* :mod:`bgdsim.config.scenario` — :class:`Scenario`, the whole, and its cross-table checks;
* :mod:`bgdsim.config.loading` — TOML files, ``--set`` overrides, validation;
* :mod:`bgdsim.config.errors` — :class:`ScenarioError` and the one-line message that
  names the field.
"""

from __future__ import annotations

from bgdsim.config.errors import ScenarioError
from bgdsim.config.errors import format_error as format_error
from bgdsim.config.loading import (
    apply_overrides,
    load_scenario,
    parse_override,
    to_toml,
    validate_scenario,
)
from bgdsim.config.scenario import Scenario, require_scenario
from bgdsim.config.sections import MISSING_POLICIES as MISSING_POLICIES
from bgdsim.config.sections import (
    AdversaryConfig,
    ClusterConfig,
    NetworkConfig,
    ProblemConfig,
    ServerConfig,
)
from bgdsim.config.sections import LinkGroup as LinkGroup
from bgdsim.config.sections import PositiveInt as PositiveInt
from bgdsim.config.sections import Seconds as Seconds

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
    "require_scenario",
    "to_toml",
    "validate_scenario",
]
