"""bgdsim.plots: figures from tiny run logs and a tiny sweep results.csv."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim import plots
from bgdsim.plots import table

TINY: dict[str, Any] = {
    "rounds": 3,
    "cluster.workers": 20,
    "cluster.byzantine": 2,
    "problem.samples": 2000,
    "problem.dim": 5,
    "server.aggregator.batches": 5,
}


def tiny_run(tmp_path: Path, name: str = "tiny", **overrides: Any) -> bgdsim.RunResult:
    scenario = bgdsim.load_scenario(overrides={**TINY, "name": name, **overrides})
    return bgdsim.run(scenario, log_path=tmp_path / f"{name}.jsonl")


def assert_written(paths: list[Path], stems: set[str]) -> None:
    assert {p.suffix for p in paths} == {".png", ".svg"}
    assert {p.stem for p in paths} == stems
    for p in paths:
        assert p.is_file()
        assert p.stat().st_size > 1000, p
    for p in paths:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert b"<svg" in p.read_bytes()[:2000]


SWEPT = ("problem.samples", "server.aggregator", "adversary.attack")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results.csv as a sweep writes it: cell, swept keys, seed, metrics, extra columns."""
    folder = tmp_path_factory.mktemp("sweep")
    header = ["cell", *SWEPT, "seed", "final_error", "min_error", "rounds_to_floor", "status"]
    rows: list[list[Any]] = []
    cell = 0
    for samples in (2000, 4000):
        for aggregator in ("mean", "gmom"):
            for attack in ("sign_flip", "gaussian"):
                for seed in (0, 1):
                    overrides = {
                        **TINY,
                        "problem.samples": samples,
                        "server.aggregator": aggregator,
                        "adversary.attack": attack,
                    }
                    sc = bgdsim.load_scenario(overrides=overrides, seed=seed)
                    r = bgdsim.run(sc, log_path=None)
                    errs = r.errors
                    rows.append(
                        [cell, samples, aggregator, attack, seed, r.final_error, errs.min(), "",
                         r.status]
                    )  # fmt: skip
                cell += 1
    with open(folder / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return folder


def write_csv(folder: Path, header: list[str], rows: list[list[Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return folder


# ----------------------------------------------------------------------------------- logs


def test_plot_log_one_and_several(tmp_path: Path) -> None:
    a = tiny_run(tmp_path, "a", **{"server.aggregator": "mean"})
    b = tiny_run(tmp_path, "b")
    assert a.log_path is not None and b.log_path is not None
    out = tmp_path / "figs"
    assert_written(plots.plot_log(a.log_path, out), {"a"})
    assert_written(plots.plot_log([a.log_path, b.log_path], out), {"error_vs_round"})


def test_plot_path_dispatches_on_a_log(tmp_path: Path) -> None:
    r = tiny_run(tmp_path, "run")
    assert r.log_path is not None
    assert_written(plots.plot_path(r.log_path), {"run"})
    assert (tmp_path / "run.png").is_file()


def test_not_a_log(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"garbage\.jsonl: not a bgdsim event log"):
        plots.plot_path(garbage, tmp_path)
    other = tmp_path / "other.jsonl"
    other.write_text('{"event": "update", "round": 1, "error": 0.5}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no run_start header"):
        plots.plot_log(other, tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        plots.plot_log(empty, tmp_path)
    with pytest.raises(ValueError, match="no such log file"):
        plots.plot_log(tmp_path / "missing.jsonl", tmp_path)
    with pytest.raises(ValueError, match="at least one"):
        plots.plot_log([], tmp_path)


def test_plot_path_refuses_other_paths(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match=r"expected a sweep's results directory .* or an event"):
        plots.plot_path(text)
    with pytest.raises(ValueError, match="no such file or directory"):
        plots.plot_path(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"no results\.csv"):
        plots.plot_path(tmp_path)


# -------------------------------------------------------------------------------- results


def test_plot_results_lines_and_heatmap(results_dir: Path, tmp_path: Path) -> None:
    paths = plots.plot_path(results_dir)
    assert_written(paths, {"final_error_vs_problem-samples", "heatmap_aggregator_attack"})
    assert all(p.parent == results_dir / "plots" for p in paths)
    std = plots.plot_results(results_dir, tmp_path, x="problem.samples", spread="std")
    assert_written(std, {"final_error_vs_problem-samples"})


def test_plot_results_draws_each_rules_own_floor(tmp_path: Path) -> None:
    # mean and krum do not batch (k = 1), gmom does (k = 20): each line gets its own floor
    data = [("mean", 0.01), ("krum", 0.01), ("gmom", 0.0447)]
    header = ["cell", "problem.samples", "server.aggregator", "seed", "final_error", "floor"]
    rows = [
        [f"{agg}{n}", n, agg, s, 0.5, floor * (100_000 / n) ** 0.5]
        for agg, floor in data
        for n in (100_000, 400_000)
        for s in (0, 1)
    ]
    folder = write_csv(tmp_path / "f", header, rows)
    ((_, fig),) = plots.results_figures(folder)
    (ax,) = fig.axes
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":" and len(ln.get_xdata())]
    got = sorted(tuple(np.round(ln.get_ydata(), 6)) for ln in dotted)
    assert got == sorted([(0.01, 0.005), (0.01, 0.005), (0.0447, 0.02235)])


def test_plot_results_byzantine_axis_with_a_zipped_key(tmp_path: Path) -> None:
    # k = 4q moves with q (a zip sweep): it must not split the q axis into one-point lines.
    data = [(0, 1, "gmom", 0.01), (2, 8, "gmom", 0.02), (4, 16, "gmom", 0.03)]
    data += [(4, 16, "mean", float("inf"))]  # diverged: left out of the log plot
    rows = [
        [i, q, k, agg, s, err, err, 3] for i, (q, k, agg, err) in enumerate(data) for s in (0, 1)
    ]
    header = ["cell", "cluster.byzantine", "server.aggregator.batches", "server.aggregator", "seed",
              "final_error", "min_error", "rounds_to_floor"]  # fmt: skip
    folder = write_csv(tmp_path / "q", header, rows)
    as_rows = [dict(zip(header, map(str, r), strict=True)) for r in rows]
    assert table._follows("server.aggregator.batches", "cluster.byzantine", as_rows)
    assert not table._follows("server.aggregator", "cluster.byzantine", as_rows)
    paths = plots.plot_results(folder, tmp_path / "out")
    assert_written(
        paths, {"final_error_vs_cluster-byzantine", "final_error_vs_server-aggregator-batches"}
    )


def test_bad_results(tmp_path: Path, results_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "results.csv").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty results file"):
        plots.plot_results(empty, tmp_path)
    header_only = write_csv(
        tmp_path / "header", ["cell", "problem.samples", "seed", "final_error"], []
    )
    with pytest.raises(ValueError, match="empty results file"):
        plots.plot_results(header_only, tmp_path)
    no_final = write_csv(tmp_path / "nofinal", ["cell", "problem.samples", "seed"], [[0, 10, 0]])
    with pytest.raises(ValueError, match="missing column 'final_error'"):
        plots.plot_path(no_final)
    with pytest.raises(ValueError, match=r"missing column 'cluster\.byzantine'"):
        plots.plot_results(results_dir, tmp_path, x="cluster.byzantine")
    with pytest.raises(ValueError, match=r"'server\.aggregator' is not numeric"):
        plots.plot_results(results_dir, tmp_path, x="server.aggregator")
    nothing = write_csv(
        tmp_path / "nothing", ["cell", "server.aggregator", "seed", "final_error"],
        [[0, "mean", 0, 0.1], [1, "gmom", 0, 0.2]],
    )  # fmt: skip
    with pytest.raises(ValueError, match="nothing to plot"):
        plots.plot_results(nothing, tmp_path)
    diverged = write_csv(
        tmp_path / "diverged", ["cell", "problem.samples", "seed", "final_error"],
        [[0, 100, 0, "inf"], [1, 200, 0, "nan"]],
    )  # fmt: skip
    with pytest.raises(ValueError, match="no positive finite final_error"):
        plots.plot_results(diverged, tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        plots.plot_results(tmp_path / "missing", tmp_path)
    with pytest.raises(ValueError, match="spread"):
        plots.plot_results(results_dir, tmp_path, spread="iqr")  # type: ignore[arg-type]


def test_titles_show_a_single_valued_grid_entry_not_the_base_scenario(tmp_path: Path) -> None:
    # the grid fixed m = 20 and the attack's scale 100 (one value each): the title showed
    # the base scenario's m = 100 and scale 10 instead
    import json

    folder = tmp_path / "s"
    header = ["cell", "cluster.byzantine", "cluster.workers", "adversary.attack", "seed",
              "final_error"]  # fmt: skip
    attack = json.dumps({"kind": "sign_flip", "scale": 100})
    write_csv(folder, header, [[f"c{q}", q, 20, attack, s, 0.1] for q in (1, 3) for s in (0, 1)])
    base = {"cluster": {"workers": 100, "byzantine": 5},
            "adversary": {"attack": {"kind": "sign_flip", "scale": 10}}}  # fmt: skip
    (folder / "sweep.json").write_text(json.dumps({"scenario": base}), encoding="utf-8")
    ((_, fig),) = plots.results_figures(folder)
    title = " ".join(fig.get_suptitle().split())
    assert "scale=100" in title and "= 20" in title and "scale=10)" not in title, title


def test_a_heatmap_names_the_swept_keys_it_pools(tmp_path: Path) -> None:
    header = ["cell", "server.aggregator", "adversary.attack", "cluster.byzantine", "seed",
              "final_error"]  # fmt: skip
    rows = [[f"{a}{b}{q}", a, b, q, 0, 0.01 if q == 1 else 100.0]
            for a in ("mean", "gmom") for b in ("sign_flip", "alie") for q in (1, 10)]  # fmt: skip
    folder = write_csv(tmp_path / "h", header, rows)
    figs = dict(plots.results_figures(folder))
    title = " ".join(figs["heatmap_aggregator_attack"].axes[0].get_title().split())
    assert "each cell pooled over Byzantine workers $q$" in title, title
