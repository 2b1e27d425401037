"""bgdsim: a discrete-event simulator of Byzantine Gradient Descent.

Chen, Su, Xu, "Distributed Statistical Machine Learning in Adversarial Settings: Byzantine
Gradient Descent" (2017): a parameter server and m workers, up to q of them Byzantine in
any round, the server aggregating with the geometric median of means.

>>> import bgdsim
>>> scenario = bgdsim.load_scenario(overrides={"rounds": 3, "problem.samples": 2000})
>>> result = bgdsim.run(scenario, log_path=None)
>>> len(result.errors)
4
"""

from __future__ import annotations

__version__ = "0.1.0"

from bgdsim import aggregators, attacks, problems
from bgdsim.aggregators.geometric_median import geometric_median
from bgdsim.config import Scenario, ScenarioError, load_scenario
from bgdsim.eventlog import load_payload, read_events

# ``bgdsim.replay(log)`` is the entry point (DESIGN's API); the module's contents stay
# importable with ``from bgdsim.replay import ...``.
from bgdsim.replay import read_log, replay, verify
from bgdsim.result import RunResult
from bgdsim.sim import run
from bgdsim.sim.recorded import rerun

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "aggregators",
    "attacks",
    "geometric_median",
    "load_payload",
    "load_scenario",
    "problems",
    "read_events",
    "read_log",
    "replay",
    "rerun",
    "run",
    "verify",
]
