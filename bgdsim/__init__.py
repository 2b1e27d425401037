"""bgdsim: a discrete-event simulator of Byzantine Gradient Descent.

Chen, Su, Xu, "Distributed Statistical Machine Learning in Adversarial Settings: Byzantine
Gradient Descent" (2017): a parameter server and m workers, up to q of them Byzantine in
any round, the server aggregating with the geometric median of means.

>>> import bgdsim
>>> scenario = bgdsim.load_scenario(overrides={"rounds": 3, "problem.samples": 2000})
>>> result = bgdsim.run(scenario, log_path=None)
>>> len(result.errors)
4

The package's attributes are imported on first use: ``import bgdsim`` and
``bgdsim --version`` load nothing heavy. In a notebook, ``bgdsim.sweep({...})`` returns a
sweep's results as a DataFrame and ``bgdsim.plots.compare([log, ...])`` (also
``bgdsim.plot.compare``) a figure of error against the round.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> (module, attribute); an attribute of None is the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "aggregators": ("bgdsim.aggregators", None),
    "attacks": ("bgdsim.attacks", None),
    "problems": ("bgdsim.problems", None),
    "engine": ("bgdsim.engine", None),
    "replay": ("bgdsim.replay", None),
    "sweep": ("bgdsim.sweep", None),
    "plots": ("bgdsim.plots", None),
    "plot": ("bgdsim.plots", None),
    "geometric_median": ("bgdsim.aggregators.geometric_median", "geometric_median"),
    "Scenario": ("bgdsim.config", "Scenario"),
    "ScenarioError": ("bgdsim.config", "ScenarioError"),
    "load_scenario": ("bgdsim.config", "load_scenario"),
    "load_payload": ("bgdsim.eventlog", "load_payload"),
    "read_events": ("bgdsim.eventlog", "read_events"),
    "read_log": ("bgdsim.replay", "read_log"),
    "read_messages": ("bgdsim.replay", "read_messages"),
    "verify": ("bgdsim.replay", "verify"),
    "rerun": ("bgdsim.replay", "rerun"),
    "RunResult": ("bgdsim.result", "RunResult"),
    "run": ("bgdsim.sim", "run"),
}

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "aggregators",
    "attacks",
    "engine",
    "geometric_median",
    "load_payload",
    "load_scenario",
    "plot",
    "plots",
    "problems",
    "read_events",
    "read_log",
    "read_messages",
    "replay",
    "rerun",
    "run",
    "sweep",
    "verify",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'bgdsim' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from bgdsim import aggregators as aggregators
    from bgdsim import attacks as attacks
    from bgdsim import engine as engine
    from bgdsim import plots as plot
    from bgdsim import plots as plots
    from bgdsim import problems as problems
    from bgdsim import replay as replay
    from bgdsim import sweep as sweep
    from bgdsim.aggregators.geometric_median import geometric_median as geometric_median
    from bgdsim.config import Scenario as Scenario
    from bgdsim.config import ScenarioError as ScenarioError
    from bgdsim.config import load_scenario as load_scenario
    from bgdsim.eventlog import load_payload as load_payload
    from bgdsim.eventlog import read_events as read_events
    from bgdsim.replay import read_log as read_log
    from bgdsim.replay import read_messages as read_messages
    from bgdsim.replay import rerun as rerun
    from bgdsim.replay import verify as verify
    from bgdsim.result import RunResult as RunResult
    from bgdsim.sim import run as run
