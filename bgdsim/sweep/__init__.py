"""Sweeps: a grid of scenario overrides × seeds, run on joblib (one machine) or Dask.

A sweep file is TOML::

    scenario = "../paper_linear_regression.toml"   # relative to the sweep file
    seeds = 2                                      # 0, 1; or a list: [0, 7, 42]

    [grid]                                         # dotted scenario keys → values
    cluster.byzantine = [0, 5, 10]
    server.aggregator.batches = [10, 20, 25]

    [[zip]]                                        # optional: keys that vary together
    "network.latency.value" = [0.01, 0.1]
    "server.round_timeout" = [1.0, 5.0]

The cells are the cartesian product of the grid axes and the zip groups (each group one
axis, its points the aligned tuples), in file order, the last axis varying fastest; every
cell runs once per seed. Every grid and zip key is a scenario override (``rounds`` too),
checked up front with :func:`~bgdsim.config.load_scenario` for every cell.

Results go to ``OUT/results.csv``, one row per cell and seed: ``cell``, the sweep keys
(dotted names; TOML-ish scalars, lists and tables as JSON), ``seed``, then :data:`COLUMNS`
— ``rounds_done`` is the rounds completed (fewer if the run diverged), named so that it
never clashes with a swept ``rounds``; ``floor`` is the rule's own √(dk/N) and ``k`` its
k (1 for rules that do not batch, see :func:`bgdsim.theory.rule_batches`);
``rounds_to_floor`` is the first t with ‖θ_t − θ*‖ <= 2·floor, empty if never;
``sim_time`` is the run's simulated seconds. Rows are appended and flushed as runs
finish, so a killed sweep keeps what it finished and a rerun skips those runs. A cell's id
is a hash of its overrides (not of the seed): it names the cell in the CSV and its logs
(``OUT/logs/<cell>-seed<seed>.jsonl``). ``OUT/sweep.json`` records the cells and the base
scenario; a rerun into the same folder with a different base scenario is refused.

In a notebook, ``bgdsim.sweep({...})`` (:func:`sweep`: this package is callable) takes
the same structure as a Python dict, the scenario a path or a table, and returns the
results as a pandas DataFrame with the columns of ``results.csv``.

The runs are :mod:`bgdsim.sweep.runner` (:func:`run_sweep`; :func:`run_cell`, one cell
for one seed), the notebook API :mod:`bgdsim.sweep.frame`; the sweep file is
:mod:`bgdsim.sweep.spec`, the output folder :mod:`bgdsim.sweep.results`, the
``results.csv`` columns :mod:`bgdsim.sweep.columns`, the engines ``bgdsim.sweep._engines``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from bgdsim.sweep.columns import COLUMNS
from bgdsim.sweep.errors import SweepError, SweepRunError
from bgdsim.sweep.frame import results_frame, sweep
from bgdsim.sweep.results import read_results
from bgdsim.sweep.runner import run_cell, run_sweep
from bgdsim.sweep.spec import Cell, SweepSpec, check_sweep, load_sweep

__all__ = [
    "COLUMNS",
    "Cell",
    "SweepError",
    "SweepRunError",
    "SweepSpec",
    "check_sweep",
    "load_sweep",
    "read_results",
    "results_frame",
    "run_cell",
    "run_sweep",
    "sweep",
]


class _CallableModule(types.ModuleType):
    """``bgdsim.sweep`` is this package and, for notebooks, :func:`sweep` too."""

    def __call__(self, spec: Any, **kwargs: Any) -> Any:
        return sweep(spec, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
