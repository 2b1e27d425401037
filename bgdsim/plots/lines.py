"""Final error against one swept key: the mean over seeds, its band, one line per group.

One figure per numeric swept key: the other swept keys (those that do not move with it)
give one line each, the band is min–max or ± one std over seeds, each line's own floor
√(dk/N) (the ``floor`` column: k = 1 for rules that do not batch) is dotted in its colour,
and the paper's rates are drawn as dashed references (slope −½ against
``problem.samples``, √q against ``cluster.byzantine``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bgdsim.plots.canvas import _figure, _safe, _save
from bgdsim.plots.table import _as_float, _finals

__all__ = ["Spread"]

Spread = Literal["minmax", "std"]


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


def _reference(ax: Any, xs: np.ndarray, ys: np.ndarray, slope: float, label: str) -> None:
    """A dashed power law x^slope through the geometric mean of the plotted points."""
    ok = (xs > 0) & np.isfinite(ys) & (ys > 0)
    if np.unique(xs[ok]).size < 2:
        return
    x0, y0 = np.exp(np.mean(np.log(xs[ok]))), np.exp(np.mean(np.log(ys[ok])))
    grid = np.geomspace(xs[ok].min(), xs[ok].max(), 50)
    ax.plot(grid, y0 * (grid / x0) ** slope, "k--", linewidth=1, label=label)


def _floors(rows: list[dict[str, str]]) -> float | None:
    """The mean of the rows' ``floor`` column (None if absent or not a positive number)."""
    vals = [_as_float(r.get("floor") or "") for r in rows]
    arr = np.array([v for v in vals if v is not None], dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return float(arr.mean()) if arr.size else None


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
        floor_x, floor_y = [], []
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
            floor = _floors(by_x[xv])
            if floor is not None:
                floor_x.append(xv)
                floor_y.append(floor)
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
        if floor_x:
            ax.plot(floor_x, floor_y, linestyle=":", linewidth=1, color=color)
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
    if any(line.get_linestyle() == ":" for line in ax.get_lines()):
        ax.plot([], [], ":", color="grey", linewidth=1, label="each line's floor √(dk/N)")
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
