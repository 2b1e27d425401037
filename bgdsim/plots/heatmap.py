"""The aggregator × attack heatmap of the final error (geometric mean over seeds)."""

from __future__ import annotations

import numpy as np

from bgdsim.plots import style
from bgdsim.plots.lines import _diverged
from bgdsim.plots.table import Setting

_AGG, _ATT = "server.aggregator", "adversary.attack"


def figure_heatmap(
    rows: list[dict[str, str]], setting: Setting, pooled: list[str] | None = None
) -> style.StyledFigure:
    """Aggregators down, attacks across; a cell where a seed diverged is grey, "div.".
    ``pooled``: other swept keys, whose runs a cell's geometric mean takes in too (the
    title names them)."""
    pooled = pooled or []
    aggs = sorted({r[_AGG] for r in rows})
    atts = sorted({r[_ATT] for r in rows})
    grid = np.full((len(aggs), len(atts)), np.nan)
    div = np.zeros(grid.shape, dtype=bool)
    for i, a in enumerate(aggs):
        for j, b in enumerate(atts):
            cell = [r for r in rows if r[_AGG] == a and r[_ATT] == b]
            div[i, j] = any(_diverged(r) for r in cell)
            if cell and not div[i, j]:
                grid[i, j] = style.geometric_mean(float(r["final_error"]) for r in cell)
    fig = style.new_figure(max(4.5, 1.8 + 0.8 * len(atts)), max(3.2, 1.6 + 0.42 * len(aggs)))
    ax = fig.add_subplot()
    norm, clipped = style.heat_norm(grid.ravel())
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=style.heat_cmap(), norm=norm,
                      aspect="auto")  # fmt: skip
    labels = [style.value_text(v) for v in atts]
    ax.set_xticks(range(len(atts)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(aggs)), [style.value_text(v) for v in aggs])
    ax.set_xlabel(style.axis_label(_ATT))
    ax.set_ylabel(style.axis_label(_AGG))
    for i in range(len(aggs)):
        for j in range(len(atts)):
            v = grid[i, j]
            text = "div." if div[i, j] else ("—" if not np.isfinite(v) else f"{v:.2g}")
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color=style.text_color(norm, v))  # fmt: skip
    what = style.seeds_note(setting.seeds, None)
    style.colorbar(fig, image, ax, f"final error\n({what})", clipped)
    setup = setting.describe([_AGG, _ATT, *pooled])
    title = "final error by aggregator and attack" + (f" · {setup}" if setup else "")
    if pooled:
        keys = ", ".join(style.axis_label(k) for k in pooled)
        title += f" · each cell pooled over {keys} (geometric mean)"
    ax.set_title(style.wrap(f"{title} (div.: a seed diverged)", 60), fontsize="small")
    return fig
