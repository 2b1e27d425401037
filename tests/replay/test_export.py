"""Message records as tables: read_messages, Parquet export, the README's DuckDB query."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import bgdsim
from bgdsim.cli import main
from bgdsim.replay import export_parquet, read_log, read_messages
from tests.conftest import ScenarioFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lossy_log(scenario: ScenarioFactory, tmp_path: Path) -> tuple[Path, Any]:
    path = tmp_path / "lossy.jsonl"
    sc = scenario(
        rounds=4,
        network__drop=0.2,
        network__latency={"kind": "uniform", "low": 0.0, "high": 1.0},
        server__round_timeout=0.8,
        adversary__attack="malformed",
    )
    return path, bgdsim.run(sc, log_path=path)


def test_read_messages_has_every_message_event_of_the_log(lossy_log: tuple[Path, Any]) -> None:
    path, result = lossy_log
    frame = read_messages(path)
    assert isinstance(frame, pd.DataFrame)
    events = [e for e in read_log(path) if "seq" not in e]
    assert len(frame) == len(events)
    counts = frame.groupby(["dir", "event"], observed=True).size()
    assert counts[("up", "send")] == result.counts["up_sent"]
    assert counts[("up", "deliver")] == result.counts["up_delivered"]
    assert counts[("up", "late")] == result.counts["up_late"]
    assert counts[("up", "rejected")] == result.counts["up_rejected"]
    assert counts[("down", "drop")] == result.counts["down_dropped"]
    sends = frame[frame.event == "send"]
    assert (sends.payload >= 0).all() and np.isfinite(sends.latency).all()
    assert set(frame.span) == set(range(1, 5)) | ({0} & set(frame.span))


def test_parquet_export_is_what_duckdb_reads(lossy_log: tuple[Path, Any], tmp_path: Path) -> None:
    path, result = lossy_log
    messages, events, n_msg, n_ev = export_parquet(path, tmp_path / "out")
    delivered = duckdb.sql(
        f"select count(*) from '{messages}' where dir = 'up' and event = 'deliver'"
    ).fetchall()
    assert delivered == [(result.counts["up_delivered"],)]
    reasons = duckdb.sql(f"select round, reason from '{events}' where event = 'barrier'").df()
    assert list(reasons["round"]) == [1, 2, 3, 4]
    assert n_msg == len(read_messages(path)) and n_ev > 4 * 7


def test_the_readme_duckdb_query_runs_on_an_exported_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"--export parquet --out logs/run\n(python -c \"(.*?)\"\n)```", readme, re.S)
    assert block is not None, "the README's DuckDB example moved"
    code = block.group(2)
    monkeypatch.chdir(tmp_path)
    scenario = ROOT / "scenarios" / "paper_linear_regression.toml"
    log = "logs/paper-linear-regression-seed0.jsonl"
    assert main(["run", str(scenario), "--set", "rounds=3", "--json"]) == 0
    assert main(["replay", log, "--export", "parquet", "--out", "logs/run"]) == 0
    capsys.readouterr()
    exec(compile(code, "README", "exec"), {})
    shown = capsys.readouterr().out
    assert "delivered" in shown and "last_arrival" in shown
