"""Final error against one swept key: the geometric mean over seeds, its band, one line
per group, one panel per attack (or per value of a second named key).

Each line's own floor √(dk/N) (the ``floor`` column: k = 1 for rules that do not batch)
is dotted in its colour; points where a seed diverged get an ``x`` at the top of the
panel. The paper's rates are dashed references only where they apply: slope −½ against
``problem.samples`` for the paper's rules (the mean only with q = 0), √q against
``cluster.byzantine`` for the batching rules with k a fixed multiple of q.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from bgdsim.plots import style
from bgdsim.plots.style import Spread
from bgdsim.plots.table import Setting, _as_float, kind_of

__all__ = ["Spread"]

#: rules Corollary 1's √(dk/N) covers, and those among them whose k batches the reports
_COROLLARY_RULES = ("mean", "gmom", "gmom_trimmed", "geomed")
_BATCHING_RULES = ("gmom", "gmom_trimmed")


def _sort_key(values: tuple[str, ...]) -> tuple[tuple[int, float, str], ...]:
    """Order line labels numerically where the values are numbers."""
    out = []
    for v in values:
        f = _as_float(v)
        out.append((0, f, "") if f is not None else (1, 0.0, v))
    return tuple(out)


def _diverged(row: dict[str, str]) -> bool:
    value = _as_float(row.get("final_error") or "")
    bad = value is None or not math.isfinite(value) or value <= 0
    return bad or row.get("status") == "diverged"


def _reference(ax: Any, xs: np.ndarray, ys: np.ndarray, slope: float, label: str) -> None:
    """A dashed power law x^slope through the geometric mean of the given points."""
    ok = (xs > 0) & np.isfinite(ys) & (ys > 0)
    if np.unique(xs[ok]).size < 2:
        return
    x0, y0 = np.exp(np.mean(np.log(xs[ok]))), np.exp(np.mean(np.log(ys[ok])))
    grid = np.geomspace(xs[ok].min(), xs[ok].max(), 50)
    ax.plot(grid, y0 * (grid / x0) ** slope, "k--", linewidth=1, label=label)


def _k_per_q(rows: list[dict[str, str]], setting: Setting) -> float | None:
    """k / q when it is one constant over the rows with q > 0 (k = 4q), else None."""
    ratios = set()
    for r in rows:
        q = _as_float(str(setting.value(r, "cluster.byzantine")))
        k = _as_float(r.get("k") or str(setting.value(r, "server.aggregator.batches")))
        if q is None or k is None:
            return None
        if q > 0:
            ratios.add(round(k / q, 9))
    return ratios.pop() if len(ratios) == 1 else None


def _theory(x: str, rows: list[dict[str, str]], setting: Setting) -> tuple[float, str] | None:
    """The paper's slope against ``x`` for a line of these rows, if the theory covers it."""
    rules = {kind_of(setting.value(r, "server.aggregator")) for r in rows}
    if len(rules) != 1:
        return None
    (rule,) = rules
    if x == "problem.samples" and rule in _COROLLARY_RULES:
        qs = {str(setting.value(r, "cluster.byzantine")) for r in rows}
        if rule != "mean" or qs == {"0"}:
            return -0.5, r"slope $-\frac{1}{2}$ (Corollary 1: $\propto\sqrt{dk/N}$)"
    if x == "cluster.byzantine" and rule in _BATCHING_RULES:
        c = _k_per_q(rows, setting)
        if c is not None and c >= 2:
            return 0.5, rf"$\propto\sqrt{{q}}$ (Remark 1, $k$ = {c:g}$q$)"
    return None


def _tied_text(x: str, tied: Sequence[str], rows: list[dict[str, str]]) -> str:
    parts = []
    for t in tied:
        ratios = {
            round(b / a, 9)
            for r in rows
            if (a := _as_float(r.get(x) or "")) and (b := _as_float(r.get(t) or "")) is not None
        }
        how = f" = {ratios.pop():g}{style.symbol(x)}" if len(ratios) == 1 else " moves with it"
        parts.append(f"{style.symbol(t)}{how}")
    return f" ({', '.join(parts)})" if parts else ""


def _draw_lines(
    ax: Any, rows: list[dict[str, str]], x: str, others: list[str], spread: Spread,
    setting: Setting,
) -> tuple[list[float], list[float], bool]:  # fmt: skip
    """One panel: a line per group of ``others``; returns the plotted x, y and whether
    a run diverged."""
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for r in rows:
        if _as_float(r.get(x) or "") is not None:
            groups.setdefault(tuple(r.get(o, "") for o in others), []).append(r)
    all_x: list[float] = []
    all_y: list[float] = []
    any_div = False
    refs: dict[tuple[float, str], tuple[list[float], list[float]]] = {}
    for i, (key, g_rows) in enumerate(sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))):
        by_x: dict[float, list[dict[str, str]]] = {}
        for r in g_rows:
            by_x.setdefault(float(r[x]), []).append(r)
        color = f"C{i % 10}"
        xs, mid, lo, hi, fl_x, fl_y, div_x = [], [], [], [], [], [], []
        for xv in sorted(by_x):
            good = [float(r["final_error"]) for r in by_x[xv] if not _diverged(r)]
            if len(good) < len(by_x[xv]):
                div_x.append(xv)
            if not good:
                continue
            low, high = style.band(good, spread)
            xs.append(xv)
            mid.append(style.geometric_mean(good))
            lo.append(low)
            hi.append(high)
            floors = [_as_float(r.get("floor") or "") for r in by_x[xv]]
            ok = [f for f in floors if f is not None and math.isfinite(f) and f > 0]
            if ok:
                fl_x.append(xv)
                fl_y.append(style.geometric_mean(ok))
        label = style.legend_label(others, key) if others else "final error"
        ax.plot(xs, mid, marker="o", markersize=4, color=color, label=label)
        ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0)
        if fl_x:
            ax.plot(fl_x, fl_y, linestyle=":", linewidth=1, color=color)
        style.mark_diverged(ax, div_x, color)
        any_div = any_div or bool(div_x)
        theory = _theory(x, g_rows, setting)
        if theory is not None and xs:
            pts = refs.setdefault(theory, ([], []))
            pts[0].extend(xs)
            pts[1].extend(mid)
        all_x.extend(xs)
        all_y.extend(mid)
    for (slope, label), (rx, ry) in refs.items():
        keep = np.asarray(rx) > 0
        _reference(ax, np.asarray(rx)[keep], np.asarray(ry)[keep], slope, label)
    return all_x, all_y, any_div


def _panel_key(others: list[str]) -> str | None:
    """The key whose values become panels: the attack, else a second named key."""
    if "adversary.attack" in others:
        return "adversary.attack"
    named = [o for o in others if o in style.NAMED]
    return named[0] if len(others) >= 2 and named else None


def figure_vs(
    rows: list[dict[str, str]],
    x: str,
    others: list[str],
    spread: Spread,
    setting: Setting,
    tied: Sequence[str] = (),
) -> style.StyledFigure:
    """Final error against ``x``: panels by :func:`_panel_key`, lines by the others."""
    panel = _panel_key(others)
    lines_by = [o for o in others if o != panel]
    values = sorted({r.get(panel, "") for r in rows}, key=lambda v: _sort_key((v,))) if panel \
        else [None]  # fmt: skip
    cols = min(len(values), 3)
    n_rows = math.ceil(len(values) / cols)
    fig = style.new_figure(6.4 if cols == 1 else 4.2 * cols, 4.2 + 3.0 * (n_rows - 1))
    axes = np.atleast_1d(fig.subplots(n_rows, cols, squeeze=False, sharey=True)).ravel()
    all_x: list[float] = []
    any_div = False
    for ax, value in zip(axes, values, strict=False):
        p_rows = rows if panel is None else [r for r in rows if r.get(panel, "") == value]
        xs, _, div = _draw_lines(ax, p_rows, x, lines_by, spread, setting)
        all_x.extend(xs)
        any_div = any_div or div
        if panel is not None:
            ax.set_title(f"{style.axis_label(panel)}: {style.value_text(value)}", fontsize="small")
    for ax in axes[len(values) :]:
        ax.set_visible(False)
    if not all_x:
        raise ValueError(f"no positive finite final_error to plot against {x}")
    xa = np.asarray(all_x)
    positive = bool(np.all(xa > 0))
    for ax in axes[: len(values)]:
        if positive and (x == "problem.samples" or xa.max() / xa.min() >= 20):
            ax.set_xscale("log")
        ax.set_yscale("log")
        if style.is_integer(x):
            style.integer_axis(ax.xaxis)
        ax.set_xlabel(style.axis_label(x) + _tied_text(x, tied, rows))
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes[::cols][:n_rows]:
        ax.set_ylabel(style.FINAL_ERROR)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1 : len(values)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if any(ln.get_linestyle() == ":" for ax in axes for ln in ax.get_lines()):
        handles += axes[0].plot([], [], ":", color="grey", linewidth=1)
        labels.append(f"each line's {style.FLOOR}")
    if any_div:
        handles.append(style.diverged_handle())
        labels.append(handles[-1].get_label())
    setup = setting.describe([x, *others, *tied])
    note = style.seeds_note(setting.seeds, spread)
    title = f"final error vs. {style.symbol(x)}" + (f" · {setup}" if setup else "")
    fig.suptitle(style.wrap(f"{title} ({note})", 90), fontsize="medium")
    if len(labels) > 4 or len(values) > 1:
        ncols = 1 if max(len(t) for t in labels) > 45 else min(3, len(labels))
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + 0.2 * math.ceil(len(labels) / ncols))
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize="x-small")
    else:
        axes[0].legend(handles, labels, fontsize="small")
    return fig
