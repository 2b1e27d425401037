"""Figures from event logs and sweep results (matplotlib, Agg; PNG and SVG).

* :func:`plot_log` — ‖θ_t − θ*‖ against the round t, log y, from one or several event
  logs (the ``run_start`` header's error at t = 0, then every ``update`` event), each run's
  ``floor`` (√(dk/N)) as a dashed line in the same colour.
* :func:`plot_results` — a sweep's ``results.csv``: final error against each swept
  numeric key, the mean over seeds with its spread (min–max or ± one std), one line per
  combination of the other swept keys, log y. A ``problem.samples`` axis is log-log with a
  slope −½ reference (Corollary 1: error ∝ √(dk/N)); a ``cluster.byzantine`` axis gets a
  √q reference (Remark 1: ∝ √(dq/N) with k = 2(1+ε)q). When both ``server.aggregator``
  and ``adversary.attack`` are swept, an aggregator × attack heatmap of the mean final
  error is drawn too.
* :func:`plot_path` — either of the above, by what the path is.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas (never pyplot:
no global state, no backend switch, nothing to close) and written as ``NAME.png`` and
``NAME.svg``; every function returns the paths it wrote. Bad input raises
:class:`ValueError` with a message naming the file and the problem.

``results.csv`` columns: ``cell``, the swept dotted keys, ``seed``, ``final_error``,
``min_error``, ``rounds_to_floor``, …; only ``final_error`` is required. The swept keys
are the columns between ``cell`` and ``seed`` (when both exist, in that order, with
something between them), otherwise every column whose name is a dotted key; a key with a
single value is not an axis, and a key that takes one value per value of the x axis (a
zipped axis, such as k = 4q) moves with it instead of splitting the lines. Other columns
are ignored. Rows whose final error is not a
positive finite number (a diverged run) are left out of the log-scale plots.

The package re-exports its modules' public names:

* :mod:`bgdsim.plots.canvas` — the Agg figure and its PNG + SVG files;
* :mod:`bgdsim.plots.table` — reading ``results.csv``: its swept keys, its final errors;
* :mod:`bgdsim.plots.logs` — :func:`plot_log`, error against the round;
* :mod:`bgdsim.plots.lines` — final error against one swept key;
* :mod:`bgdsim.plots.heatmap` — the aggregator × attack heatmap;
* :mod:`bgdsim.plots.results` — :func:`plot_results`, every figure of a sweep;
* :mod:`bgdsim.plots.path` — :func:`plot_path`, by what the path is.
"""

from __future__ import annotations

from bgdsim.plots.canvas import DPI as DPI
from bgdsim.plots.lines import Spread as Spread
from bgdsim.plots.logs import plot_log
from bgdsim.plots.path import plot_path
from bgdsim.plots.results import plot_results
from bgdsim.plots.table import RESULTS_FILE

__all__ = ["RESULTS_FILE", "plot_log", "plot_path", "plot_results"]
