"""bgdsim.plots.style: every figure is written at 200 dpi plus SVG, labelled with symbols,
integer ticks on integer axes, geometric means, theory lines only where they apply."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.ticker import MaxNLocator
from PIL import Image

import bgdsim
from bgdsim import plots
from bgdsim.plots import style

DOTTED = re.compile(r"\b(cluster|server|problem|adversary|network)\.[a-z_]+")


def write_csv(folder: Path, header: list[str], rows: list[list[Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return folder


def texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]


def q_sweep(folder: Path, rule: str, k_of_q: Any) -> Path:
    """A q sweep of one rule: final error ∝ √q, two seeds a factor 4 apart."""
    header = ["cell", "cluster.byzantine", "server.aggregator", "seed", "final_error", "k",
              "floor", "status"]  # fmt: skip
    rows = [
        [q, q, rule, s, math.sqrt(q) * (0.01 if s == 0 else 0.04), k_of_q(q), 0.01, "completed"]
        for q in (1, 2, 4, 8)
        for s in (0, 1)
    ]
    return write_csv(folder, header, rows)


def dashed(fig: Any) -> list[str]:
    return [
        ln.get_label() for ax in fig.axes for ln in ax.get_lines() if ln.get_linestyle() == "--"
    ]


def test_figures_are_written_at_200_dpi_and_as_svg(tmp_path: Path) -> None:
    fig = style.new_figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 2])
    png, svg = style.save_figure(fig, tmp_path, "f")
    with Image.open(png) as image:
        assert image.size == (3 * style.DPI, 2 * style.DPI)
        assert round(image.info["dpi"][0]) == style.DPI >= 200
    assert svg.suffix == ".svg"
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert b"<svg" in svg.read_bytes()[:2000]


def test_sweep_axes_are_symbols_with_integer_ticks(tmp_path: Path) -> None:
    folder = q_sweep(tmp_path / "q", "gmom", lambda q: 4 * q)
    ((_, fig),) = plots.results_figures(folder)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Byzantine workers $q$"
    assert ax.get_ylabel() == style.FINAL_ERROR
    assert isinstance(ax.xaxis.get_major_locator(), MaxNLocator)
    assert ax.xaxis.get_major_locator()._integer  # type: ignore[attr-defined]
    assert not [t for t in texts(fig) if DOTTED.search(t)]
    assert "geometric mean over 2 seeds, band: min–max" in fig.get_suptitle()


def test_an_integer_axis_given_its_values_ticks_there_on_a_log_scale() -> None:
    fig = style.new_figure(3, 2)
    ax = fig.add_subplot()
    ax.plot([3, 10, 80], [1.0, 2.0, 3.0])
    ax.set_xscale("log")
    style.integer_axis(ax.xaxis, [3, 10, 80])
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels == ["3", "10", "80"]
    assert not [t for t in ax.xaxis.get_minorticklabels() if t.get_text()]


def test_the_line_is_the_geometric_mean_over_seeds(tmp_path: Path) -> None:
    folder = q_sweep(tmp_path / "q", "gmom", lambda q: 4 * q)
    ((_, fig),) = plots.results_figures(folder)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "o"]
    expected = [math.sqrt(q) * 0.02 for q in (1, 2, 4, 8)]  # √(0.01 · 0.04) = 0.02
    assert np.allclose(line.get_ydata(), expected)


@pytest.mark.parametrize(
    ("rule", "k_of_q", "drawn"),
    [("gmom", lambda q: 4 * q, True), ("gmom", lambda q: 20, False), ("krum", lambda q: 1, False)],
)
def test_sqrt_q_only_for_batching_rules_with_k_a_multiple_of_q(
    tmp_path: Path, rule: str, k_of_q: Any, drawn: bool
) -> None:
    ((_, fig),) = plots.results_figures(q_sweep(tmp_path / "q", rule, k_of_q))
    refs = [lab for lab in dashed(fig) if "sqrt{q}" in lab]
    assert refs == ([r"$\propto\sqrt{q}$ (Remark 1, $k$ = 4$q$)"] if drawn else [])


def test_diverged_runs_are_marked_not_drawn(tmp_path: Path) -> None:
    header = ["cell", "problem.samples", "seed", "final_error", "status"]
    rows = [[0, 1000, 0, 0.1, "completed"], [1, 4000, 0, 0.05, "completed"],
            [2, 16000, 0, 1e30, "diverged"]]  # fmt: skip
    ((_, fig),) = plots.results_figures(write_csv(tmp_path / "d", header, rows))
    (ax,) = fig.axes
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert [list(m.get_xdata()) for m in marks] == [[16000.0]]
    (line,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert list(line.get_xdata()) == [1000.0, 4000.0]
    assert "× at top: diverged" in texts(fig)


def test_legend_labels_are_readable_and_mixed_sweeps_are_split(tmp_path: Path) -> None:
    gmom = json.dumps({"kind": "gmom", "batches": 20})
    header = ["cell", "problem.samples", "server.aggregator", "adversary.attack", "seed",
              "final_error"]  # fmt: skip
    rows = [[0, n, agg, att, 0, 0.1] for n in (1000, 4000) for agg in (gmom, "krum")
            for att in ("alie", "sign_flip")]  # fmt: skip
    figures = dict(plots.results_figures(write_csv(tmp_path / "m", header, rows)))
    lines = figures["final_error_vs_problem-samples"]
    titles = sorted(ax.get_title() for ax in lines.axes)
    assert titles == ["attack: alie", "attack: sign_flip"]
    (legend,) = lines.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert "gmom(batches=20)" in labels
    assert "krum" in labels
    assert not [t for t in texts(lines) if '{"' in t or DOTTED.search(t)]


def test_heatmaps_share_one_log_scale_direction(tmp_path: Path) -> None:
    header = ["cell", "server.aggregator", "adversary.attack", "seed", "final_error"]
    rows = [[0, "mean", "alie", 0, 100.0], [1, "gmom", "alie", 0, 0.1],
            [2, "mean", "ipm", 0, 1.0], [3, "gmom", "ipm", 0, 0.2]]  # fmt: skip
    figures = dict(plots.results_figures(write_csv(tmp_path / "h", header, rows), x=None))
    fig = figures["heatmap_aggregator_attack"]
    ax, bar = fig.axes
    (image,) = ax.get_images()
    assert isinstance(image.norm, LogNorm)
    assert image.get_cmap().name.startswith(style.CMAP)
    assert image.norm(100.0) > image.norm(0.1)  # worse = the bright (upper) end
    assert bar.get_ylabel().startswith("final error")
    assert ax.get_xlabel() == "attack"
    assert ax.get_ylabel() == "aggregator"


def test_compare_returns_an_inline_figure(tmp_path: Path) -> None:
    logs = []
    for rule in ({"kind": "gmom", "batches": 5}, "krum"):
        name = "gmom" if isinstance(rule, dict) else rule
        scenario = bgdsim.load_scenario(overrides={
            "rounds": 3, "cluster.workers": 10, "cluster.byzantine": 1, "problem.samples": 1000,
            "problem.dim": 3, "server.aggregator": rule, "name": name})  # fmt: skip
        logs.append(bgdsim.run(scenario, log_path=tmp_path / f"{name}.jsonl").log_path)
    fig = bgdsim.plots.compare(logs)
    (ax,) = fig.axes
    assert ax.get_xlabel() == style.ROUND
    assert ax.get_ylabel() == style.ERROR
    assert ax.xaxis.get_major_locator()._integer  # type: ignore[attr-defined]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["gmom ($k$ = 5)", "krum"]
    assert "sign_flip(scale=10) · random Byzantine sets · $q$ = 1 of $m$ = 10" in ax.get_title()
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
