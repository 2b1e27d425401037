"""Figures and text pieces of the reproduction.

Figures are drawn in the project's one style, :mod:`bgdsim.plots.style`: ``new_figure``,
``save_figure`` (PNG at 200 dpi and SVG, without dates, so a re-run writes the same
bytes), its mathtext labels, integer ticks on integer axes, geometric means over seeds
on log axes, and ``seeds_note`` saying what a line and its band are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bgdsim.plots import style
from reproduction.runs import Point


def save(fig: Any, out: Path, name: str) -> str:
    """``figures/<name>.png`` and ``.svg`` under ``out``; the PNG's link."""
    style.save_figure(fig, out / "figures", name)
    return f"figures/{name}.png"


def over(n: int) -> str:
    """A legend's note: what a line is over n seeds."""
    return style.seeds_note(n, None)


def band(ax: Any, xs: list[float], points: list[Point], color: str, label: str) -> None:
    """Geometric mean over seeds (line) and the min–max over seeds (band)."""
    n = len(points[0].seeds)
    center = [p.center for p in points]
    lo = [float(np.min(p.finals)) for p in points]
    hi = [float(np.max(p.finals)) for p in points]
    ax.plot(xs, center, "o-", color=color, label=f"{label} ({over(n)})")
    ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0, label="band: min–max")


def fitted_line(ax: Any, xs: list[float], ys: list[float], color: str, text: str) -> None:
    slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
    grid = np.geomspace(min(xs), max(xs), 50)
    ax.plot(grid, np.exp(intercept) * grid**slope, ":", color=color, linewidth=1.5, label=text)


def loglog(
    ax: Any,
    xlabel: str,
    title: str,
    ylabel: str = style.FINAL_ERROR,
    *,
    xticks: list[float] | None = None,
    outside: bool = False,
) -> None:
    """Log-log axes, labels, grid and legend; ``xticks``: an integer x axis's ticks;
    ``outside``: the legend below the axes (for figures with many lines)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    if xticks is not None:
        style.integer_axis(ax.xaxis, xticks)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if outside:
        ax.figure.legend(loc="outside lower center", ncols=2, fontsize="x-small")
    else:
        ax.legend(fontsize="x-small")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def seeds_text(seeds: list[int]) -> str:
    return f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]})" if len(seeds) > 1 else f"seed {seeds[0]}"


def settings(*lines: str) -> str:
    return "**Settings.**\n\n" + "\n".join(f"- {line}" for line in lines)


def section(
    title: str,
    link: str,
    setting: str,
    prediction: str,
    measured: str,
    verdict: str,
    extra: str = "",
) -> str:
    """A section: figure, settings, prediction, measurement, verdict (and any tables)."""
    alt = title.split(". ", 1)[-1]
    return (
        f"## {title}\n\n![{alt}]({link})\n\n{setting}\n\n"
        + (f"{extra}\n\n" if extra else "")
        + f"**Prediction.** {prediction}\n\n**Measured.** {measured}\n\n**Verdict.** {verdict}\n"
    )
