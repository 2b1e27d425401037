"""Every figure of a sweep's results directory: :func:`plot_results`."""

from __future__ import annotations

from pathlib import Path

from bgdsim.plots.heatmap import _heatmap
from bgdsim.plots.lines import Spread, _plot_vs
from bgdsim.plots.table import RESULTS_FILE, _follows, _is_numeric, _read_results, _swept_keys

__all__ = ["plot_results"]

_AXIS_KEYS = ("server.aggregator", "adversary.attack")


def plot_results(
    results_dir: str | Path,
    out_dir: str | Path,
    x: str | None = None,
    *,
    spread: Spread = "minmax",
) -> list[Path]:
    """Plot a sweep's ``results.csv`` (see the module docstring for the columns).

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
    out = Path(out_dir)
    written: list[Path] = []
    for key in xs:
        others = [k for k in swept if k != key and not _follows(k, key, rows)]
        tied = [k for k in swept if k != key and k not in others]
        try:
            written += _plot_vs(rows, key, others, spread, out, tied)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if x is None and all(k in swept for k in _AXIS_KEYS):
        written += _heatmap(rows, out)
    if not written:
        raise ValueError(
            f"{where}: nothing to plot: no swept numeric key "
            f"(swept: {', '.join(swept) or 'none'}); pass x=COLUMN"
        )
    return written
