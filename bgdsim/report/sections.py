"""The sections of a report: of one run (from its log) and of a sweep (its results)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim.report import figures
from bgdsim.report.html import definition_list, esc, figure, section, table
from bgdsim.report.runlog import OUTCOMES, RunView

__all__ = ["results_sections", "run_sections"]

#: at most this many rows of a per-round or per-worker table (the figures show all)
MAX_ROWS = 500
_CAPTIONS = {
    "lines": "Final error against a swept key: the geometric mean over seeds, its band, each "
    "line's floor dotted, an x at the top where a seed diverged.",
    "heatmap_aggregator_attack": "Final error by aggregator and attack (geometric mean over "
    "seeds; grey: a seed diverged).",
}
_PER_WORKER = ("down_sent", "down_dropped", "up_sent", "up_delivered", "up_dropped",
               "up_late", "up_rejected")  # fmt: skip


def _summary(view: RunView) -> str:
    c: dict[str, Any] = (view.end or {}).get("counts") or {}
    fe, floor = view.final_error, view.floor
    items: list[tuple[str, Any]] = [
        ("status", view.status),
        ("rounds", len(view.rounds)),
        ("initial error ‖θ₀−θ*‖", view.errors[0][1] if view.errors else math.nan),
        ("final error ‖θ_T−θ*‖", fe),
        (f"paper floor √(dk/N), k = {view.k}", floor),
        ("k", view.k),
        ("final / floor", fe / floor if floor and math.isfinite(floor) else math.nan),
        ("simulated time (s)", view.sim_time),
    ]
    if c:
        items += [
            ("reports sent / delivered", f"{c.get('up_sent')} / {c.get('up_delivered')}"),
            ("dropped (down+up) / late / rejected",
             f"{_sum(c, 'down_dropped', 'up_dropped')} / {c.get('up_late')} / "
             f"{c.get('up_rejected')}"),
            ("barrier: all / quorum / timeout",
             f"{c.get('barrier_all')} / {c.get('barrier_quorum')} / {c.get('barrier_timeout')}"),
            ("rounds without a step (rule could not run)", c.get("aggregate_skipped", 0)),
        ]  # fmt: skip
    else:
        items.append(("counts", "none: the log has no run_end (cut short)"))
    return definition_list(items)


def _sum(c: dict[str, Any], *keys: str) -> Any:
    values = [c.get(k) for k in keys]
    return sum(values) if all(isinstance(v, int) for v in values) else "?"


def _rounds_table(view: RunView) -> str:
    rows = [
        [r["round"], r["start"], r["barrier"] if r["barrier"] is not None else "—",
         r["reason"] or "—", r["heard"] if r["heard"] is not None else "—", r["byzantine"],
         r.get("error", "—")]
        for r in view.rounds[:MAX_ROWS]
    ]  # fmt: skip
    more = len(view.rounds) - MAX_ROWS
    note = f"<p>… and {more} more rounds (the figures show all).</p>" if more > 0 else ""
    headers = ["round", "start (s)", "barrier (s)", "reason", "heard", "|B_t|", "‖θ_t−θ*‖"]
    return f'<div class="scroll">{table(headers, rows)}</div>{note}'


def _workers_table(view: RunView) -> str:
    per: dict[str, Any] = (view.end or {}).get("per_worker") or {}
    m = view.workers
    byz = (view.strip == OUTCOMES.index("Byzantine")).sum(axis=0) if view.strip.size else None
    columns = [k for k in _PER_WORKER if isinstance(per.get(k), list) and len(per[k]) == m]
    order = list(range(m))
    note = ""
    if m > MAX_ROWS:
        heard = np.asarray(per.get("up_delivered", [0] * m), dtype=float)
        order = sorted(np.argsort(heard, kind="stable")[:MAX_ROWS].tolist())
        note = f"<p>The {MAX_ROWS} least-heard of {m} workers.</p>"
    rows = [
        [j, *(per[k][j] for k in columns), int(byz[j]) if byz is not None else "—"] for j in order
    ]
    headers = ["worker", *columns, "rounds Byzantine"]
    return f'{note}<div class="scroll">{table(headers, rows)}</div>'


def run_sections(view: RunView) -> list[str]:
    """Summary, scenario, error, strip, barrier timeline, per-worker accounting."""
    h = view.header
    strip_caption = (
        "Each round (across) and worker (down): " + ", ".join(OUTCOMES) + ". Byzantine is "
        "B_t whatever became of its reports; missing: not heard by the barrier; late: "
        "arrived after it; rejected: failed validation."
    )
    error = figure(
        figures.error_svg(view),
        "‖θ_t − θ*‖ against the round; dashed: the run's floor √(dk/N).",
        "err",
    )
    strip = figure(figures.strip_svg(view), strip_caption, "strip")
    barrier = figure(
        figures.barrier_svg(view),
        "Simulated seconds from each round's start to its barrier, coloured by why it fired.",
        "barrier",
    )
    scenario = (
        f"<p>seed {esc(h.get('seed'))}, bgdsim {esc(h.get('bgdsim'))}, log schema "
        f"{esc(h.get('schema'))}</p><pre>{esc(view.scenario_toml)}</pre>"
    )
    return [
        section("Summary", _summary(view), "summary"),
        section("Error", error, "error"),
        section("Messages: round × worker", strip, "strip"),
        section("Barrier timeline", barrier + _rounds_table(view), "barrier"),
        section("Per-worker accounting", _workers_table(view), "workers"),
        section("Scenario", scenario, "scenario"),
    ]


def results_sections(folder: Path) -> list[str]:
    """A sweep's results table and its figures (:func:`bgdsim.plots.results_figures`)."""
    from bgdsim.config import to_toml
    from bgdsim.plots import results_figures
    from bgdsim.plots.style import svg_text
    from bgdsim.plots.table import read_table

    columns, rows = read_table(folder)
    out = []
    try:
        figs = results_figures(folder)
    except ValueError as exc:
        if "nothing to plot" not in str(exc):
            raise
        figs = []  # e.g. only defences swept: the table is the result
    if figs:
        body = "".join(
            figure(svg_text(fig), _CAPTIONS.get(stem, _CAPTIONS["lines"]), f"f{i}")
            for i, (stem, fig) in enumerate(figs)
        )
        out.append(section("Figures", body, "figures"))
    body = table(columns, ([r.get(c, "") for c in columns] for r in rows), left=len(columns))
    out.append(section(f"Results ({len(rows)} runs)", f'<div class="scroll">{body}</div>',
                       "results"))  # fmt: skip
    try:
        manifest = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        base = to_toml(manifest["scenario"])
    except (OSError, ValueError, KeyError, TypeError):
        base = None
    if base is not None:
        out.append(section("Base scenario", f"<pre>{esc(base)}</pre>", "scenario"))
    return out
