"""The report's figures of one run, in the project's style, as inline SVG text."""

from __future__ import annotations

import numpy as np

from bgdsim.plots import style
from bgdsim.plots.logs import compare
from bgdsim.report.runlog import OUTCOMES, RunView

__all__ = ["barrier_svg", "error_svg", "strip_svg"]

#: one colour per outcome of :data:`OUTCOMES`
OUTCOME_COLORS = ("#e3eee3", "#d62728", "#7f7f7f", "#ff7f0e", "#9467bd")
REASON_COLORS = {"all": "C2", "quorum": "C0", "timeout": "C3"}


def error_svg(view: RunView) -> str:
    """‖θ_t − θ*‖ against the round, the floor dashed (:func:`bgdsim.plots.compare`)."""
    return style.svg_text(compare([view.path]))


def strip_svg(view: RunView) -> str:
    """Round × worker: delivered, Byzantine (B_t), missing at the barrier, late, rejected."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    n_rounds, m = view.strip.shape
    fig = style.new_figure(9.0, min(2.2 + 0.035 * m, 8.0))
    ax = fig.add_subplot()
    cmap = ListedColormap(list(OUTCOME_COLORS))
    norm = BoundaryNorm(np.arange(len(OUTCOMES) + 1) - 0.5, cmap.N)
    if n_rounds:
        first = view.rounds[0]["round"]
        extent = (first - 0.5, first + n_rounds - 0.5, m - 0.5, -0.5)
        ax.imshow(view.strip.T, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest",
                  extent=extent)  # fmt: skip
    ax.set_xlabel(style.ROUND)
    ax.set_ylabel("worker $j$")
    style.integer_axis(ax.xaxis)
    style.integer_axis(ax.yaxis)
    counts = np.bincount(view.strip.ravel(), minlength=len(OUTCOMES))
    handles = [
        Patch(facecolor=c, edgecolor="#999", label=f"{name} ({n})")
        for name, c, n in zip(OUTCOMES, OUTCOME_COLORS, counts, strict=True)
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(OUTCOMES),
               fontsize="small")  # fmt: skip
    return style.svg_text(fig)


def barrier_svg(view: RunView) -> str:
    """Per round: simulated seconds from the round's start to its barrier, by reason."""
    fig = style.new_figure(9.0, 3.2)
    ax = fig.add_subplot()
    shown = [r for r in view.rounds if r["barrier"] is not None and r["start"] is not None]
    for reason, color in REASON_COLORS.items():
        rows = [r for r in shown if r["reason"] == reason]
        if rows:
            ax.bar([r["round"] for r in rows], [r["barrier"] - r["start"] for r in rows],
                   width=0.8, color=color, label=f"{reason} ({len(rows)})")  # fmt: skip
    other = [r for r in shown if r["reason"] not in REASON_COLORS]
    if other:
        ax.bar([r["round"] for r in other], [r["barrier"] - r["start"] for r in other],
               width=0.8, color="grey", label=f"other ({len(other)})")  # fmt: skip
    ax.set_xlabel(style.ROUND)
    ax.set_ylabel("time to barrier (s)")
    style.integer_axis(ax.xaxis)
    ax.grid(True, axis="y", alpha=0.3)
    if shown:
        ax.legend(title="barrier fired on", fontsize="small", title_fontsize="small")
    return style.svg_text(fig)
