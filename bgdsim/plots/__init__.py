"""Figures from event logs and sweep results (matplotlib, Agg; PNG at 200 dpi and SVG).

Every figure follows one style, :mod:`bgdsim.plots.style`: mathtext symbols ($q$, $k$,
$\\|\\theta_t-\\theta^*\\|$) instead of config keys, integer ticks on integer axes, the
number of seeds and the meaning of every band in the title or legend, geometric means on
log axes, diverged runs marked with an ``x`` at the top, one direction for every colour map.

* :func:`compare` — ‖θ_t − θ*‖ against the round t for one or several event logs, each
  run's floor √(dk/N) dashed in its colour; returns the Figure (inline in Jupyter).
  :func:`plot_log` writes it.
* :func:`plot_results` — a sweep's ``results.csv``: final error against each swept
  numeric key (the geometric mean over seeds and its band, min–max or geometric ± one
  std), one line per combination of the other swept keys, one panel per attack (or per
  value of a second named key), each line's own floor dotted. The paper's rates are
  drawn only where they apply: slope −½ against ``problem.samples`` (Corollary 1), √q
  against ``cluster.byzantine`` for gmom-style rules with k a fixed multiple of q
  (Remark 1). With both ``server.aggregator`` and ``adversary.attack`` swept, an
  aggregator × attack heatmap too. :func:`results_figures` returns the Figures.
* :func:`plot_path` — either of the above, by what the path is.

Every function that writes returns the paths it wrote (``NAME.png`` and ``NAME.svg``).
Bad input raises :class:`ValueError` with a message naming the file and the problem.

``results.csv`` columns: ``cell``, the swept dotted keys, ``seed``, ``final_error``,
``min_error``, ``rounds_to_floor``, ``floor``, ``k``, ``status``, …; only ``final_error``
is required. The swept keys are the columns between ``cell`` and ``seed`` (when both
exist, in that order, with something between them), otherwise every column whose name is
a dotted key; a key with a single value is not an axis, and a key that takes one value
per value of the x axis (a zipped axis, such as k = 4q) moves with it instead of
splitting the lines. ``sweep.json`` beside it, when present, names the base scenario's
attack, schedule and q in the titles.

The package re-exports its modules' public names:

* :mod:`bgdsim.plots.style` — the style: labels, sizes, colour maps, saving;
* :mod:`bgdsim.plots.table` — reading ``results.csv`` and its base scenario;
* :mod:`bgdsim.plots.logs` — :func:`compare` and :func:`plot_log`;
* :mod:`bgdsim.plots.lines` — final error against one swept key;
* :mod:`bgdsim.plots.heatmap` — the aggregator × attack heatmap;
* :mod:`bgdsim.plots.results` — :func:`plot_results`, every figure of a sweep;
* :mod:`bgdsim.plots.path` — :func:`plot_path`, by what the path is.
"""

from __future__ import annotations

from bgdsim.plots.logs import compare, plot_log
from bgdsim.plots.path import plot_path
from bgdsim.plots.results import plot_results, results_figures
from bgdsim.plots.style import DPI as DPI
from bgdsim.plots.style import Spread as Spread
from bgdsim.plots.table import RESULTS_FILE

__all__ = ["RESULTS_FILE", "compare", "plot_log", "plot_path", "plot_results", "results_figures"]
