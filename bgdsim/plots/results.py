"""Every figure of a sweep's results directory: :func:`plot_results`."""

from __future__ import annotations

from pathlib import Path

from bgdsim.plots import style
from bgdsim.plots.heatmap import figure_heatmap
from bgdsim.plots.lines import Spread, figure_vs
from bgdsim.plots.table import (
    RESULTS_FILE,
    Setting,
    _follows,
    _is_numeric,
    _read_results,
    _swept_keys,
)

__all__ = ["plot_results", "results_figures"]

_AXIS_KEYS = ("server.aggregator", "adversary.attack")


def plot_results(
    results_dir: str | Path,
    out_dir: str | Path,
    x: str | None = None,
    *,
    spread: Spread = "minmax",
) -> list[Path]:
    """Plot a sweep's ``results.csv`` (see :mod:`bgdsim.plots` for the columns): the
    figures of :func:`results_figures`, each written as PNG and SVG.

    Args:
        results_dir: the directory holding ``results.csv``.
        out_dir: where the figures go (created).
        x: the key on the x axis (a numeric column); default: one figure per swept numeric
            key, the other swept keys giving one line per combination.
        spread: the band around the mean over seeds: ``"minmax"`` or ``"std"``.

    Returns:
        The written files (``final_error_vs_<key>.png/.svg``, and
        ``heatmap_aggregator_attack.png/.svg`` when aggregator and attack are both swept).

    Raises:
        ValueError: not a directory, no ``results.csv``, an empty file, a missing column,
            a non-numeric ``x``, or nothing to plot.
    """
    written: list[Path] = []
    for stem, fig in results_figures(results_dir, x, spread=spread):
        written += style.save_figure(fig, out_dir, stem)
    return written


def results_figures(
    results_dir: str | Path, x: str | None = None, *, spread: Spread = "minmax"
) -> list[tuple[str, style.StyledFigure]]:
    """The figures of a sweep's results, each with its file stem (arguments and errors
    as :func:`plot_results`)."""
    if spread not in ("minmax", "std"):
        raise ValueError(f"spread must be 'minmax' or 'std', got {spread!r}")
    folder = Path(results_dir)
    columns, rows = _read_results(folder)
    where = folder / RESULTS_FILE
    swept = _swept_keys(columns, rows)
    if x is not None:
        if x not in columns:
            raise ValueError(f"{where}: missing column {x!r} (columns: {', '.join(columns)})")
        if not _is_numeric(x, rows):
            raise ValueError(f"{where}: column {x!r} is not numeric")
        xs = [x]
    else:
        xs = [k for k in swept if _is_numeric(k, rows)]
    setting = Setting(folder, rows)
    figures: list[tuple[str, style.StyledFigure]] = []
    for key in xs:
        others = [k for k in swept if k != key and not _follows(k, key, rows)]
        tied = [k for k in swept if k != key and k not in others]
        try:
            fig = figure_vs(rows, key, others, spread, setting, tied)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        figures.append((f"final_error_vs_{style.safe_stem(key)}", fig))
    if x is None and all(k in swept for k in _AXIS_KEYS):
        pooled = [k for k in swept if k not in _AXIS_KEYS]
        figures.append(("heatmap_aggregator_attack", figure_heatmap(rows, setting, pooled)))
    if not figures:
        raise ValueError(
            f"{where}: nothing to plot: no swept numeric key "
            f"(swept: {', '.join(swept) or 'none'}); its results.csv is the result (in "
            "Python, results_figures(folder, x=COLUMN) plots against a column of your choice)"
        )
    return figures
