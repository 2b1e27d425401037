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
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["RESULTS_FILE", "plot_log", "plot_path", "plot_results"]

RESULTS_FILE = "results.csv"
DPI = 100
_AXIS_KEYS = ("server.aggregator", "adversary.attack")

Spread = Literal["minmax", "std"]


# ------------------------------------------------------------------------------ helpers


def _figure(width: float = 6.4, height: float = 4.2) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, never pyplot: no global state, nothing to close
    return fig


def _save(fig: Any, out_dir: Path, stem: str) -> list[Path]:
    import matplotlib

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    with matplotlib.rc_context({"svg.hashsalt": "bgdsim"}):
        fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
        fig.set_layout_engine("none")  # keep the layout just computed: half the cost
        fig.savefig(paths[1], metadata={"Date": None, "Creator": None})
    return paths


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _short(key: str) -> str:
    """``server.aggregator`` → ``aggregator`` (legend labels)."""
    return key.rsplit(".", 1)[-1]


def _sort_key(values: tuple[str, ...]) -> tuple[tuple[int, float, str], ...]:
    """Order line labels numerically where the values are numbers."""
    out = []
    for v in values:
        f = _as_float(v)
        out.append((0, f, "") if f is not None else (1, 0.0, v))
    return tuple(out)


def _as_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- logs


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
                if event.get("event") == "update":
                    rounds.append(int(event["round"]))
                    errors.append(float(event["error"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: malformed event ({exc!r})") from None
    return {"header": header, "rounds": rounds, "errors": errors}


def plot_log(log_paths: str | Path | Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    """Error ‖θ_t − θ*‖ against the round, log y, for one or several event logs.

    Each log's curve starts at θ₀ (the header's ``error``) and follows its ``update``
    events; its ``floor`` is a dashed line of the same colour. Written as
    ``<log stem>.png``/``.svg`` for one log, ``error_vs_round.png``/``.svg`` for several.

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
    return _save(fig, Path(out_dir), stem)


# ------------------------------------------------------------------------------- results


def _read_results(results_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not results_dir.is_dir():
        raise ValueError(f"{results_dir}: not a directory")
    path = results_dir / RESULTS_FILE
    if not path.is_file():
        raise ValueError(f"{results_dir}: no {RESULTS_FILE} (not a sweep's results directory)")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    if not columns:
        raise ValueError(f"{path}: empty results file (no header)")
    if "final_error" not in columns:
        raise ValueError(f"{path}: missing column 'final_error' (columns: {', '.join(columns)})")
    if not rows:
        raise ValueError(f"{path}: empty results file (a header but no rows)")
    return columns, rows


def _swept_keys(columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    keys: list[str] = []
    if "cell" in columns and "seed" in columns:
        a, b = columns.index("cell"), columns.index("seed")
        keys = columns[a + 1 : b] if a < b else []
    if not keys:
        keys = [c for c in columns if "." in c]
    return [k for k in keys if len({r.get(k, "") for r in rows}) > 1]


def _is_numeric(key: str, rows: list[dict[str, str]]) -> bool:
    return all(_as_float(r.get(key) or "") is not None for r in rows)


def _finals(rows: Iterable[dict[str, str]]) -> np.ndarray:
    vals = [_as_float(r.get("final_error") or "") for r in rows]
    arr = np.array([v for v in vals if v is not None], dtype=float)
    return arr[np.isfinite(arr) & (arr > 0)]


def _reference(ax: Any, xs: np.ndarray, ys: np.ndarray, slope: float, label: str) -> None:
    """A dashed power law x^slope through the geometric mean of the plotted points."""
    ok = (xs > 0) & np.isfinite(ys) & (ys > 0)
    if np.unique(xs[ok]).size < 2:
        return
    x0, y0 = np.exp(np.mean(np.log(xs[ok]))), np.exp(np.mean(np.log(ys[ok])))
    grid = np.geomspace(xs[ok].min(), xs[ok].max(), 50)
    ax.plot(grid, y0 * (grid / x0) ** slope, "k--", linewidth=1, label=label)


def _follows(key: str, x: str, rows: list[dict[str, str]]) -> bool:
    """Whether ``key`` takes one value per value of ``x`` (a zipped axis, e.g. k = 4q)."""
    pairs = {(r.get(x, ""), r.get(key, "")) for r in rows}
    return len(pairs) == len({xv for xv, _ in pairs})


def _plot_vs(
    rows: list[dict[str, str]],
    x: str,
    others: list[str],
    spread: Spread,
    out_dir: Path,
    tied: Sequence[str] = (),
) -> list[Path]:
    groups: dict[tuple[str, ...], dict[float, list[dict[str, str]]]] = {}
    for r in rows:
        xv = _as_float(r.get(x) or "")
        if xv is None:
            continue
        key = tuple(r.get(o, "") for o in others)
        groups.setdefault(key, {}).setdefault(xv, []).append(r)
    fig = _figure()
    ax = fig.add_subplot()
    all_x: list[float] = []
    all_y: list[float] = []
    for i, (key, by_x) in enumerate(sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))):
        xs, mean, lo, hi = [], [], [], []
        for xv in sorted(by_x):
            f = _finals(by_x[xv])
            if f.size == 0:
                continue
            mu = float(f.mean())
            if spread == "std":
                sd = float(f.std())
                low, high = (mu - sd if mu - sd > 0 else mu / 10), mu + sd
            else:
                low, high = float(f.min()), float(f.max())
            xs.append(xv)
            mean.append(mu)
            lo.append(low)
            hi.append(high)
        if not xs:
            continue
        label = ", ".join(f"{_short(o)}={v}" for o, v in zip(others, key, strict=True))
        color = f"C{i % 10}"
        ax.plot(xs, mean, marker="o", markersize=4, color=color, label=label)
        ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0)
        all_x.extend(xs)
        all_y.extend(mean)
    if not all_x:
        raise ValueError(f"no positive finite final_error to plot against {x}")
    xa, ya = np.asarray(all_x), np.asarray(all_y)
    positive = bool(np.all(xa > 0))
    if x == "problem.samples" and positive:
        _reference(ax, xa, ya, -0.5, "slope −1/2 (Corollary 1: ∝ √(dk/N))")
    elif x == "cluster.byzantine" and np.any(xa > 0):
        keep = xa > 0
        _reference(ax, xa[keep], ya[keep], 0.5, "∝ √q (Remark 1, k = 2(1+ε)q)")
    if positive and (x == "problem.samples" or xa.max() / xa.min() >= 20):
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x + "".join(f" (with {t})" for t in tied))
    ax.set_ylabel("final error ‖θ_T − θ*‖")
    what = "min–max" if spread == "minmax" else "± 1 std"
    ax.set_title(f"final error vs. {x} (mean over seeds, band: {what})")
    ax.grid(True, which="both", alpha=0.3)
    labels = ax.get_legend_handles_labels()[1]
    n_labels = len(labels)
    if n_labels > 4:
        ncols = 1 if max(len(t) for t in labels) > 45 else 2
        fig.set_size_inches(6.4, 4.2 + 0.17 * math.ceil(n_labels / ncols))
        fig.legend(loc="outside lower center", ncols=ncols, fontsize="x-small")
    elif n_labels:
        ax.legend(fontsize="small")
    return _save(fig, out_dir, f"final_error_vs_{_safe(x)}")


def _heatmap(rows: list[dict[str, str]], out_dir: Path) -> list[Path]:
    from matplotlib.colors import LogNorm

    aggs = sorted({r["server.aggregator"] for r in rows})
    atts = sorted({r["adversary.attack"] for r in rows})
    grid = np.full((len(aggs), len(atts)), np.nan)
    for i, a in enumerate(aggs):
        for j, b in enumerate(atts):
            f = _finals(
                r for r in rows if r["server.aggregator"] == a and r["adversary.attack"] == b
            )
            if f.size:
                grid[i, j] = f.mean()
    fig = _figure(max(4.0, 1.0 + 0.9 * len(atts)), max(3.0, 1.0 + 0.45 * len(aggs)))
    ax = fig.add_subplot()
    finite = grid[np.isfinite(grid)]
    norm = (
        LogNorm(vmin=finite.min(), vmax=max(finite.max(), finite.min() * 1.01))
        if finite.size
        else None
    )
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", norm=norm, aspect="auto")
    ax.set_xticks(range(len(atts)), atts, rotation=45, ha="right")
    ax.set_yticks(range(len(aggs)), aggs)
    ax.set_xlabel("adversary.attack")
    ax.set_ylabel("server.aggregator")
    for i in range(len(aggs)):
        for j in range(len(atts)):
            text = "—" if not np.isfinite(grid[i, j]) else f"{grid[i, j]:.2g}"
            dark = norm is None or not np.isfinite(grid[i, j]) or norm(grid[i, j]) < 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="w" if dark else "k")
    fig.colorbar(image, ax=ax, label="mean final error")
    ax.set_title("mean final error (— : every run diverged)")
    return _save(fig, out_dir, "heatmap_aggregator_attack")


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
