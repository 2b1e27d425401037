"""``bgdsim report``: one self-contained HTML page of a run's log or a sweep's results.

The page needs no network to be read: CSS inline, figures as inline SVG (drawn in the
project's style, :mod:`bgdsim.plots.style`), no script, nothing fetched. A log is
untrusted input: every piece of text from it is escaped, and it is read with the one log
reader (:class:`bgdsim.replay.Log`, :func:`bgdsim.replay.read_messages`).

For a log: the summary (the run summary's numbers: final error, floor, k, simulated
time, message and barrier counts), error against the round with the floor, a round ×
worker strip of Byzantine sets and missing, late and rejected reports, the barrier
timeline (per round: when it fired and why), per-worker accounting and the resolved
scenario. For a sweep's results folder: its figures, its ``results.csv`` and its base
scenario.

* :mod:`bgdsim.report.runlog` — reading a log for the report;
* :mod:`bgdsim.report.figures` — the run's figures;
* :mod:`bgdsim.report.sections` — the sections of either kind of report;
* :mod:`bgdsim.report.html` — the page, its CSS, tables and escaping.
"""

from __future__ import annotations

from pathlib import Path

from bgdsim.report.html import page
from bgdsim.report.runlog import RunView, read_run
from bgdsim.report.sections import results_sections, run_sections

__all__ = ["RunView", "read_run", "render", "write_report"]


def render(path: str | Path) -> str:
    """The report of a log (``.jsonl``) or a sweep's results folder, as HTML text.

    Raises:
        ValueError: the path does not exist, is neither, or is not a valid log or
            results folder (the message names the file and the problem).
    """
    p = Path(path)
    if p.is_dir():
        sections = results_sections(p)
        return page(f"sweep {p.resolve().name}", f"results of {p}", sections)
    if not p.exists():
        raise ValueError(f"{p}: no such file or directory")
    if not p.is_file() or p.suffix != ".jsonl":
        raise ValueError(
            f"{p}: expected an event log (.jsonl) or a sweep's results folder (results.csv)"
        )
    view = read_run(p)
    name, seed = view.header.get("name", "?"), view.header.get("seed", "?")
    subtitle = f"seed {seed} · {view.status} · log {p.name}"
    return page(f"run {name}", subtitle, run_sections(view))


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write :func:`render`'s page to ``out`` (default: ``LOG.html`` beside a log,
    ``DIR/report.html`` in a results folder); returns the path written.

    Raises:
        ValueError: as :func:`render`.
    """
    p = Path(path)
    text = render(p)
    target = (
        Path(out)
        if out is not None
        else (p / "report.html" if p.is_dir() else p.with_suffix(".html"))
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
