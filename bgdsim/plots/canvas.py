"""The canvas every figure is drawn on, and how it is written (PNG and SVG).

Figures are :class:`matplotlib.figure.Figure` objects on the Agg canvas, never pyplot (no
global state, no backend switch, nothing to close), saved as ``NAME.png`` and
``NAME.svg`` with no date or software metadata, so the files are reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DPI"]

DPI = 100


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
