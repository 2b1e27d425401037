"""Real data in the engine: test metrics per round, identical on every runtime, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import bgdsim
from bgdsim.cli import main
from bgdsim.vector import run_vector
from tests.conftest import make_scenario
from tests.replay.paths import reseal


def wine(**extra: Any) -> bgdsim.config.Scenario:
    """Softmax regression on wine, held-out 25 %, 6 workers, one Byzantine."""
    base: dict[str, Any] = {
        "rounds": 4,
        "problem__kind": "softmax_regression",
        "problem__dataset": "wine",
        "problem__test_fraction": 0.25,
        "cluster__workers": 6,
        "cluster__byzantine": 1,
        "server__aggregator__batches": 3,
    }
    return make_scenario(**{**base, **extra})


def events(path: Path, kind: str) -> list[dict[str, Any]]:
    lines = path.read_bytes().splitlines()
    return [e for e in map(orjson.loads, lines) if e["event"] == kind]


def test_every_round_logs_its_test_metrics_and_the_result_keeps_them(tmp_path: Path) -> None:
    result = bgdsim.run(wine(), log_path=tmp_path / "w.jsonl")
    updates = events(tmp_path / "w.jsonl", "update")
    head = events(tmp_path / "w.jsonl", "run_start")[0]
    assert [u["test_accuracy"] for u in updates] == result.metrics["test_accuracy"][1:].tolist()
    assert head["test_loss"] == result.metrics["test_loss"][0]
    assert head["data"]["dataset"] == "wine" and head["data"]["test"] == 44
    assert sum(map(sum, head["data"]["label_histograms"])) == head["data"]["train"] == 134
    summary = result.summary()
    assert summary["test_accuracy"] == updates[-1]["test_accuracy"]
    assert summary["test_loss"] == events(tmp_path / "w.jsonl", "run_end")[0]["test_loss"]


def test_simpy_and_vector_write_the_same_bytes_and_the_log_verifies(tmp_path: Path) -> None:
    sc = wine(adversary__attack="alie", network__latency={"kind": "exponential", "mean": 0.05})
    bgdsim.run(sc, log_path=tmp_path / "s.jsonl")
    run_vector(sc, log_path=tmp_path / "v.jsonl")
    assert (tmp_path / "s.jsonl").read_bytes() == (tmp_path / "v.jsonl").read_bytes()
    assert (tmp_path / "s.bin").read_bytes() == (tmp_path / "v.bin").read_bytes()
    check = bgdsim.verify(tmp_path / "s.jsonl")
    assert check.ok and check.rounds == 4, check.message()


def test_a_resealed_wrong_accuracy_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    bgdsim.run(wine(), log_path=path)
    lines = path.read_bytes().splitlines(keepends=True)
    for i, raw in enumerate(lines):
        e = orjson.loads(raw)
        if e["event"] == "update" and e["round"] == 2:
            e["test_accuracy"] = 1.0 - e["test_accuracy"] / 2
            lines[i] = orjson.dumps(e) + b"\n"
    path.write_bytes(b"".join(lines))
    reseal(path, lambda r, t: None)
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[:2] == (2, "test_accuracy")


def test_a_synthetic_run_logs_no_test_fields(tmp_path: Path) -> None:
    sc = make_scenario(rounds=2, problem__samples=400, cluster__workers=4,
                       cluster__byzantine=0, server__aggregator__batches=2)  # fmt: skip
    result = bgdsim.run(sc, log_path=tmp_path / "p.jsonl")
    text = (tmp_path / "p.jsonl").read_text(encoding="utf-8")
    assert "test_" not in text and '"data"' not in text
    assert result.metrics == {} and "test_accuracy" not in result.summary()


def test_regression_data_has_a_test_loss_but_no_accuracy() -> None:
    sc = wine(problem__kind="linear_regression", problem__dataset="diabetes")
    result = run_vector(sc, log_path=False)
    assert set(result.metrics) == {"test_loss"}
    assert result.metrics["test_loss"][-1] < result.metrics["test_loss"][0]


def test_json_reports_the_final_test_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        'rounds = 2\n[problem]\nkind = "logistic_regression"\ndataset = "breast_cancer"\n'
        "test_fraction = 0.2\n[cluster]\nworkers = 5\nbyzantine = 0\n[server]\n"
        'aggregator = { kind = "gmom", batches = 1 }\n',
        encoding="utf-8",
    )
    assert main(["run", str(toml), "--no-log", "--json"]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert 0.5 < out["test_accuracy"] <= 1.0 and out["test_loss"] > 0
