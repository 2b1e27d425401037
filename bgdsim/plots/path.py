"""Plot whatever a path is: a sweep's results directory or an event log (:func:`plot_path`)."""

from __future__ import annotations

from pathlib import Path

from bgdsim.plots.logs import plot_log
from bgdsim.plots.results import plot_results
from bgdsim.plots.table import RESULTS_FILE

__all__ = ["plot_path"]


def plot_path(path: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Plot a sweep's results directory or one event log (``.jsonl``).

    ``out_dir`` defaults to ``<results dir>/plots`` for results and to the log's own
    directory for a log.

    Raises:
        ValueError: the path does not exist, is neither a directory nor a ``.jsonl`` file,
            or is not valid results / a valid log (the message says which).
    """
    p = Path(path)
    if p.is_dir():
        return plot_results(p, p / "plots" if out_dir is None else out_dir)
    if p.is_file() and p.suffix == ".jsonl":
        return plot_log(p, p.parent if out_dir is None else out_dir)
    if not p.exists():
        raise ValueError(f"{p}: no such file or directory")
    raise ValueError(
        f"{p}: expected a sweep's results directory (holding {RESULTS_FILE}) "
        "or an event log (.jsonl)"
    )
