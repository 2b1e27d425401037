"""Error against the round, from event logs: :func:`compare` (a Figure, for notebooks)
and :func:`plot_log` (the same figure written as PNG and SVG)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.plots import style
from bgdsim.plots.partition import plot_partition

__all__ = ["compare", "plot_log", "read_curve"]


def read_curve(path: str | Path) -> dict[str, Any]:
    """One log's header, its (round, error) curve, its floor and its status, read with
    the log reader every command uses.

    Raises:
        ValueError: the file is missing or not an event log (a ``LogError``).
    """
    from bgdsim.replay.reader import Log

    rounds: list[int] = []
    errors: list[float] = []
    status = "completed"
    with Log(path) as log:  # a LogError (a ValueError) names the file and the problem
        header = log.header
        if "error" in header:
            rounds.append(0)
            errors.append(float(header["error"]))
        try:
            for _, event in log.lines():
                kind = event.get("event")
                if kind == ev.UPDATE:
                    rounds.append(int(event["round"]))
                    errors.append(float(event["error"]))
                elif kind == ev.DIVERGED:
                    status = "diverged"
                elif kind == ev.RUN_END:
                    status = str(event.get("status", status))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{path}: malformed event ({exc!r})") from None
    floor = header.get("floor")
    if not (isinstance(floor, int | float) and math.isfinite(floor) and floor > 0):
        floor = None
    return {
        "header": header,
        "rounds": rounds,
        "errors": errors,
        "floor": floor,
        "status": status,
    }


def _plain(value: Any) -> str:
    """A header string shown as typed: its ``$`` would start mathtext."""
    return str(value).replace("$", r"\$")


def _setting(header: dict[str, Any]) -> dict[str, str]:
    """The parts of a run a label may need: rule, attack, q of m, seed, name."""
    raw = header.get("scenario")
    sc: dict[str, Any] = raw if isinstance(raw, dict) else {}
    server, cluster, adv = (
        part if isinstance(part := sc.get(s), dict) else {}
        for s in ("server", "cluster", "adversary")
    )
    rule = server.get("aggregator", "?")
    if isinstance(rule, dict):  # the kind and its k; the solver's settings stay out
        k = rule.get("batches")
        rule = str(rule.get("kind", "?")) + (f" ($k$ = {k})" if k is not None else "")
    return {
        "rule": style.value_text(rule),
        "attack": style.value_text(adv.get("attack", "?")),
        "schedule": style.value_text(adv.get("schedule", "?")) + " Byzantine sets",
        "q": f"$q$ = {cluster.get('byzantine', '?')} of $m$ = {cluster.get('workers', '?')}",
        "seed": f"seed {_plain(header.get('seed', '?'))}",
        "name": _plain(header.get("name", "?")),
    }


def _labels(settings: list[dict[str, str]], shared: list[str]) -> list[str]:
    """The rule and what else differs; the name, then the seed, only if still needed."""
    keys = ["rule", *(k for k in ("attack", "schedule", "q") if k not in shared)]
    for extra in ([], ["name"], ["name", "seed"]):
        labels = [", ".join(s[k] for k in [*keys, *extra]) for s in settings]
        if len(set(labels)) == len(labels):
            break
    return labels


def compare(
    log_paths: str | Path | Sequence[str | Path], *, labels: Sequence[str] | None = None
) -> style.StyledFigure:
    """‖θ_t − θ*‖ against the round t for several logs on one figure, log y.

    Each curve starts at θ₀ and follows the log's ``update`` events; its floor √(dk/N)
    is a dashed line of its colour; a run that diverged ends in an ``x`` at the top.
    What all runs share (attack, q of m) is the title, what differs labels the curves.
    Shows inline in Jupyter.

    Args:
        log_paths: one event log or several.
        labels: one legend label per log (default: what differs between them).

    Raises:
        ValueError: no logs, a label count that does not match, or a file that is
            missing or not an event log.
    """
    paths = [Path(log_paths)] if isinstance(log_paths, str | Path) else [Path(p) for p in log_paths]
    if not paths:
        raise ValueError("compare needs at least one event log")
    if labels is not None and len(labels) != len(paths):
        raise ValueError(f"{len(labels)} labels for {len(paths)} logs")
    runs = [read_curve(p) for p in paths]
    settings = [_setting(r["header"]) for r in runs]
    shared = [k for k in ("attack", "schedule", "q") if len({s[k] for s in settings}) == 1]
    if labels is None:
        labels = _labels(settings, shared)
    fig = style.new_figure()
    ax = fig.add_subplot()
    diverged = False
    for i, (run, name) in enumerate(zip(runs, labels, strict=True)):
        label = name
        color = f"C{i % 10}"
        x = np.asarray(run["rounds"], dtype=float)
        y = np.asarray(run["errors"], dtype=float)
        ok = np.isfinite(y) & (y > 0)
        if run["status"] == "diverged":
            label += f" (diverged at $t$ = {int(x[-1]) if x.size else 0})"
            style.mark_diverged(ax, [x[-1] if x.size else 0.0], color)
            diverged = True
        ax.plot(x[ok], y[ok], marker="o", markersize=3, color=color, label=label)
        if run["floor"] is not None:
            ax.axhline(run["floor"], color=color, linestyle="--", linewidth=1, alpha=0.8)
    ax.set_yscale("log")
    ax.set_xlabel(style.ROUND)
    ax.set_ylabel(style.ERROR)
    style.integer_axis(ax.xaxis)
    title = " · ".join(settings[0][k] for k in shared) or "error vs. round"
    ax.set_title(style.wrap(f"{title} (dashed: each run's {style.FLOOR})", 70), fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    if diverged:
        handles.append(style.diverged_handle())
        names.append(handles[-1].get_label())
    ax.legend(handles, names, fontsize="small")
    return fig


def plot_log(log_paths: str | Path | Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    """:func:`compare`, written as ``<log stem>.png``/``.svg`` for one log and
    ``error_vs_round.png``/``.svg`` for several; a log whose header has label histograms
    (a classification data set) also gets ``<log stem>-partition.png``/``.svg``
    (:func:`~bgdsim.plots.partition.plot_partition`). Returns the paths written.

    Raises:
        ValueError: as :func:`compare`.
    """
    paths = [Path(log_paths)] if isinstance(log_paths, str | Path) else [Path(p) for p in log_paths]
    if not paths:
        raise ValueError("plot_log needs at least one event log")
    fig = compare(paths)
    stem = style.safe_stem(paths[0].stem) if len(paths) == 1 else "error_vs_round"
    out = style.save_figure(fig, out_dir, stem)
    for path in paths:
        header = read_curve(path)["header"]
        out += plot_partition(header, Path(out_dir), style.safe_stem(path.stem))
    return out
