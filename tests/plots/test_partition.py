"""The partition figure: per-worker label histograms from a log's header."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgdsim.plots.partition import plot_partition


def header(hist: object) -> dict[str, object]:
    return {
        "data": {"dataset": "wine", "label_histograms": hist},
        "scenario": {"data": {"partition": {"kind": "dirichlet", "alpha": 0.1}}},
    }


def test_a_classification_log_gets_a_partition_figure(tmp_path: Path) -> None:
    paths = plot_partition(header([[3, 0, 1], [0, 2, 2]]), tmp_path, "run")
    assert [p.name for p in paths] == ["run-partition.png", "run-partition.svg"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert "dirichlet (alpha = 0.1)" in paths[1].read_text(encoding="utf-8")


def test_no_histograms_no_figure(tmp_path: Path) -> None:
    assert plot_partition({"data": {"dataset": "diabetes"}}, tmp_path, "r") == []
    assert plot_partition({}, tmp_path, "r") == []


def test_a_malformed_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label_histograms"):
        plot_partition(header([[1, -2]]), tmp_path, "r")
