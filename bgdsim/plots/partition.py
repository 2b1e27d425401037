"""How a run's training samples were shared out: :func:`plot_partition`.

A per-worker stacked bar of its label histogram (one colour per class), from the
``data.label_histograms`` of a log's header — what ``[data] partition`` drew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bgdsim.plots import style

__all__ = ["plot_partition"]


def plot_partition(header: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """``<stem>-partition.png``/``.svg``: each worker's samples by class, stacked.

    Returns no paths when the header has no label histograms (synthetic data, or a
    regression data set).

    Raises:
        ValueError: the histograms are not an (m, C) table of counts.
    """
    data = header.get("data")
    hist = data.get("label_histograms") if isinstance(data, dict) else None
    if hist is None:
        return []
    counts = np.asarray(hist, dtype=float)
    if counts.ndim != 2 or not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("data.label_histograms: not an (m, C) table of counts")
    m, classes = counts.shape
    fig = style.new_figure(width=max(6.4, 0.25 * m + 2))
    ax = fig.add_subplot()
    workers = np.arange(m)
    bottom = np.zeros(m)
    cmap = "tab10" if classes <= 10 else "tab20"
    for c in range(classes):
        ax.bar(workers, counts[:, c], bottom=bottom, width=0.85, label=str(c),
               color=_color(cmap, c))  # fmt: skip
        bottom += counts[:, c]
    partition = header.get("scenario", {}).get("data", {}).get("partition", {"kind": "iid"})
    described = ", ".join(f"{k} = {v}" for k, v in partition.items() if k != "kind")
    kind = partition.get("kind", "iid") + (f" ({described})" if described else "")
    name = data.get("dataset", "?") if isinstance(data, dict) else "?"
    ax.set_title(f"{name}: samples per worker by class, {kind}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("worker")
    ax.set_ylabel("training samples")
    if classes <= 20:
        ax.legend(title="class", fontsize="x-small", ncols=2, loc="upper right")
    return style.save_figure(fig, out_dir, f"{stem}-partition")


def _color(cmap: str, c: int) -> Any:
    from matplotlib import colormaps

    return colormaps[cmap](c % colormaps[cmap].N)
