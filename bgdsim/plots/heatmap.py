"""The aggregator × attack heatmap of the mean final error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bgdsim.plots.canvas import _figure, _save
from bgdsim.plots.table import _finals


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
