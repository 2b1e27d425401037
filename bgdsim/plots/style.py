"""The one plotting style of bgdsim: every figure in :mod:`bgdsim.plots`, the HTML report
and the scenario scripts is drawn and written through this module.

* Figures are :class:`matplotlib.figure.Figure` objects on the Agg canvas (never pyplot:
  no global state, nothing to close) with constrained layout, so titles and legends fit;
  :func:`save_figure` writes ``NAME.png`` at :data:`DPI` and ``NAME.svg``, without dates.
  In Jupyter a figure shows inline (it has ``_repr_png_``).
* Labels are mathtext symbols, never config keys: :data:`LABELS` maps each dotted
  scenario key to its symbol (``cluster.byzantine`` → $q$) and axis label;
  :func:`integer_axis` puts integer ticks on integer axes.
* Averages over seeds on a log axis are geometric means; :func:`band` is the matching
  spread, and :func:`seeds_note` says what the centre and the band are.
* Colour maps are log-normed with one direction everywhere: a larger value (a worse
  error) is the bright end of :data:`CMAP`; :data:`DIVERGED_COLOR` marks diverged cells.
* Diverged runs are marked (:func:`mark_diverged`), never drawn as a plateau.
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "CMAP",
    "DIVERGED_COLOR",
    "DPI",
    "ERROR",
    "FINAL_ERROR",
    "FLOOR",
    "LABELS",
    "ROUND",
    "Spread",
    "StyledFigure",
    "axis_label",
    "band",
    "colorbar",
    "geometric_mean",
    "heat_cmap",
    "heat_norm",
    "integer_axis",
    "legend_label",
    "mark_diverged",
    "new_figure",
    "save_figure",
    "seeds_note",
    "svg_text",
    "symbol",
    "value_text",
    "wrap",
]

#: PNG resolution (dots per inch); SVG is written beside every PNG
DPI = 200
#: the colour map of every heatmap: larger (worse) values at its bright end
CMAP = "viridis"
#: cells where a run diverged (no finite value to colour)
DIVERGED_COLOR = "#d9d9d9"
ERROR = r"$\|\theta_t-\theta^*\|$"
FINAL_ERROR = r"final error $\|\theta_T-\theta^*\|$"
FLOOR = r"floor $\sqrt{dk/N}$"
ROUND = r"round $t$"

Spread = Literal["minmax", "std"]

#: dotted scenario key -> (symbol, axis label, integer-valued)
LABELS: dict[str, tuple[str, str, bool]] = {
    "cluster.byzantine": ("$q$", "Byzantine workers $q$", True),
    "cluster.workers": ("$m$", "workers $m$", True),
    "server.aggregator.batches": ("$k$", "batches $k$", True),
    "problem.samples": ("$N$", "samples $N$", True),
    "problem.dim": ("$d$", "dimension $d$", True),
    "rounds": ("$T$", "rounds $T$", True),
    "seed": ("seed", "seed", True),
    "server.step_size": (r"$\eta$", r"step size $\eta$", False),
    "server.aggregator": ("aggregator", "aggregator", False),
    "server.missing": ("missing", "missing-report policy", False),
    "server.round_timeout": ("timeout", "round timeout (s)", False),
    "server.barrier": ("barrier", "barrier", False),
    "adversary.attack": ("attack", "attack", False),
    "adversary.attack.scale": ("scale", "attack scale", False),
    "adversary.schedule": ("schedule", "Byzantine schedule", False),
    "network.drop": ("$p$", "drop rate $p$", False),
    "network.latency": ("latency", "latency", False),
    "problem.noise": (r"$\sigma$", r"noise $\sigma$", False),
}
#: keys whose values are names: a legend shows the value alone
NAMED = {"server.aggregator", "adversary.attack", "adversary.schedule", "server.missing"}


def _fallback(key: str) -> str:
    """``network.latency.value`` → ``latency value``: no dotted key on an axis."""
    parts = key.split(".")
    return " ".join(parts[-2:] if len(parts) > 2 else parts[-1:]).replace("_", " ")


def symbol(key: str) -> str:
    """The short symbol of a dotted key (``$q$``), for legends and tied axes."""
    return LABELS[key][0] if key in LABELS else _fallback(key)


def axis_label(key: str) -> str:
    """The axis label of a dotted key (``Byzantine workers $q$``)."""
    return LABELS[key][1] if key in LABELS else _fallback(key)


def is_integer(key: str) -> bool:
    """Whether a key only takes integer values (its axis gets integer ticks)."""
    return key in LABELS and LABELS[key][2]


def value_text(value: Any) -> str:
    """A results.csv value as a legend shows it: a component table ``{"kind": "gmom",
    "batches": 20}`` (JSON) becomes ``gmom(batches=20)``; numbers print short."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict) and "kind" in value:
        params = ", ".join(f"{k}={value_text(v)}" for k, v in value.items() if k != "kind")
        return f"{value['kind']}({params})" if params else str(value["kind"])
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", "=")).replace('"', "")
    return str(value)


def legend_label(keys: Sequence[str], values: Sequence[Any]) -> str:
    """``gmom, $k$ = 20``: names alone, other keys as ``symbol = value``."""
    parts = [
        value_text(v) if k in NAMED else f"{symbol(k)} = {value_text(v)}"
        for k, v in zip(keys, values, strict=True)
    ]
    return ", ".join(parts)


def wrap(text: str, width: int = 80) -> str:
    """Break a title into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


def geometric_mean(values: Iterable[float]) -> float:
    """exp(mean(log x)) of positive finite values (nan if there are none)."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return float(np.exp(np.mean(np.log(arr)))) if arr.size else math.nan


def band(values: Iterable[float], spread: Spread) -> tuple[float, float]:
    """The band around the geometric mean: min–max, or exp(mean ± std) of log x."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if not arr.size:
        return math.nan, math.nan
    if spread == "minmax":
        return float(arr.min()), float(arr.max())
    logs = np.log(arr)
    mu, sd = float(logs.mean()), float(logs.std())
    return math.exp(mu - sd), math.exp(mu + sd)


def seeds_note(
    n_seeds: int, spread: Spread | None = "minmax", centre: str = "geometric mean"
) -> str:
    """``geometric mean over 2 seeds, band: min–max``: what a line and its band are."""
    seeds = f"{n_seeds} seed" + ("" if n_seeds == 1 else "s")
    if n_seeds == 1:
        return "1 seed"
    if spread is None:
        return f"{centre} over {seeds}"
    what = "min–max" if spread == "minmax" else "geometric ± 1 std"
    return f"{centre} over {seeds}, band: {what}"


def integer_axis(axis: Any, values: Sequence[float] | None = None) -> None:
    """Integer ticks on an integer axis: at ``values`` if given, on a linear or a log
    axis, written as plain integers without minor ticks; else a linear axis gets integer
    ticks and a log axis keeps its decades."""
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator, StrMethodFormatter

    if values is not None:
        axis.set_major_locator(FixedLocator(list(values)))
        axis.set_major_formatter(StrMethodFormatter("{x:.0f}"))
        axis.set_minor_locator(NullLocator())
    elif axis.get_scale() == "linear":
        axis.set_major_locator(MaxNLocator(integer=True))


def heat_norm(values: Iterable[float], span: float = 1e3) -> tuple[Any, bool]:
    """A LogNorm over the positive finite values, at most ``span`` wide (so that a ×5
    is still visible beside a 1e100); returns it and whether larger values were clipped."""
    from matplotlib.colors import LogNorm

    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if not arr.size:
        return LogNorm(vmin=0.1, vmax=1.0), False
    lo, hi = float(arr.min()), float(arr.max())
    top = min(max(hi, lo * 1.01), lo * span)
    return LogNorm(vmin=lo, vmax=top, clip=False), hi > top


def colorbar(fig: Figure, image: Any, axes: Any, label: str, clipped: bool) -> Any:
    """The colour bar of a :func:`heat_norm` heatmap: plain numbers (``2``, ``5``, ``10``),
    a pointed end when larger values were clipped, and its label (what the colour is)."""
    from matplotlib.ticker import FuncFormatter

    bar = fig.colorbar(image, ax=axes, extend="max" if clipped else "neither", label=label)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else "")
    )
    return bar


def heat_cmap() -> Any:
    """:data:`CMAP` with non-finite cells (diverged) in :data:`DIVERGED_COLOR`."""
    import matplotlib

    return matplotlib.colormaps[CMAP].with_extremes(bad=DIVERGED_COLOR)


def text_color(norm: Any, value: float) -> str:
    """Black on the bright end of :data:`CMAP`, white on its dark end."""
    if not math.isfinite(value):
        return "black"
    return "white" if float(np.clip(norm(value), 0, 1)) < 0.55 else "black"


def mark_diverged(ax: Any, xs: Sequence[float], color: str) -> None:
    """Diverged runs: an ``x`` at the top of the axes above each x (not a plateau)."""
    if len(xs):
        ax.plot(xs, [0.97] * len(xs), linestyle="none", marker="x", markersize=7,
                markeredgewidth=1.8, color=color, transform=ax.get_xaxis_transform(),
                clip_on=False)  # fmt: skip


def diverged_handle() -> Any:
    """The legend entry that explains :func:`mark_diverged`'s marks."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker="x", color="grey", markeredgewidth=1.8,
                  label="× at top: diverged")  # fmt: skip


class StyledFigure(Figure):
    """A Figure on the Agg canvas that shows itself inline in Jupyter."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def new_figure(width: float = 6.4, height: float = 4.2) -> StyledFigure:
    """A figure with constrained layout on the Agg canvas."""
    fig = StyledFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``STEM.png`` (:data:`DPI`) and ``STEM.svg`` into ``out_dir``; no metadata
    that changes between runs. Returns both paths."""
    import matplotlib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    with matplotlib.rc_context({"svg.hashsalt": "bgdsim"}):
        fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
        fig.set_layout_engine("none")  # keep the layout just computed: half the cost
        fig.savefig(paths[1], metadata={"Date": None, "Creator": None})
    return paths


def svg_text(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (text kept as text)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "bgdsim", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def safe_stem(name: str) -> str:
    """A file stem from a key or a name: letters, digits, ``-`` and ``_`` only."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
