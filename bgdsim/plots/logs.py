"""Error against the round, from event logs: :func:`plot_log`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.plots.canvas import _figure, _safe, _save
from bgdsim.plots.partition import plot_partition

__all__ = ["plot_log"]


def _read_log(path: Path) -> dict[str, Any]:
    """The header, the (round, error) curve and the floor of one event log."""
    from bgdsim.replay.reader import Log

    rounds: list[int] = []
    errors: list[float] = []
    with Log(path) as log:  # a LogError (a ValueError) names the file and the problem
        header = log.header
        if "error" in header:
            rounds.append(0)
            errors.append(float(header["error"]))
        try:
            for _, event in log.lines():
                if event.get("event") == ev.UPDATE:
                    rounds.append(int(event["round"]))
                    errors.append(float(event["error"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: malformed event ({exc!r})") from None
    return {"header": header, "rounds": rounds, "errors": errors}


def plot_log(log_paths: str | Path | Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    """Error ‖θ_t − θ*‖ against the round, log y, for one or several event logs.

    Each log's curve starts at θ₀ (the header's ``error``) and follows its ``update``
    events; its ``floor`` is a dashed line of the same colour. Written as
    ``<log stem>.png``/``.svg`` for one log, ``error_vs_round.png``/``.svg`` for several;
    a log whose header has label histograms (a classification data set) also gets
    ``<log stem>-partition.png``/``.svg`` (:func:`~bgdsim.plots.partition.plot_partition`).

    Raises:
        ValueError: no logs given, or a file that is missing or not an event log.
    """
    paths = [Path(log_paths)] if isinstance(log_paths, str | Path) else [Path(p) for p in log_paths]
    if not paths:
        raise ValueError("plot_log needs at least one event log")
    runs = [_read_log(p) for p in paths]
    fig = _figure()
    ax = fig.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for run, path, color in zip(runs, paths, colors, strict=True):
        header = run["header"]
        label = f"{path.stem} ({header.get('name', '?')}, seed {header.get('seed', '?')})"
        x = np.asarray(run["rounds"], dtype=float)
        y = np.asarray(run["errors"], dtype=float)
        ok = np.isfinite(y) & (y > 0)
        ax.plot(x[ok], y[ok], marker="o", markersize=3, color=color, label=label)
        floor = header.get("floor")
        if isinstance(floor, int | float) and math.isfinite(floor) and floor > 0:
            ax.axhline(float(floor), color=color, linestyle="--", linewidth=1, alpha=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("round t")
    ax.set_ylabel("‖θ_t − θ*‖")
    ax.set_title("error vs. round (dashed: the run's floor √(dk/N))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    stem = _safe(paths[0].stem) if len(paths) == 1 else "error_vs_round"
    out = _save(fig, Path(out_dir), stem)
    for run, path in zip(runs, paths, strict=True):
        out += plot_partition(run["header"], Path(out_dir), _safe(path.stem))
    return out
