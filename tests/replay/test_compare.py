"""diff: the scenario keys that differ, the first diverging event, the rounds that differ."""

from __future__ import annotations

from pathlib import Path

import pytest

import bgdsim
from bgdsim.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from bgdsim.replay import diff, rerun
from tests.conftest import ScenarioFactory


def logged(sc: bgdsim.Scenario, path: Path) -> Path:
    bgdsim.run(sc, log_path=path)
    return path


def test_the_same_run_is_identical(scenario: ScenarioFactory, tmp_path: Path) -> None:
    a = logged(scenario(), tmp_path / "a.jsonl")
    b = logged(scenario(), tmp_path / "b.jsonl")
    result = diff(a, b)
    assert result.identical
    assert result.first is None and result.rounds_differ == 0 and result.rounds == (5, 5)


def test_a_world_change_is_found_past_the_header(scenario: ScenarioFactory, tmp_path: Path) -> None:
    a = logged(scenario(), tmp_path / "a.jsonl")
    c = logged(scenario(network__drop=0.2), tmp_path / "c.jsonl")
    result = diff(a, c)
    assert result.scenario == {"network.drop": (0.0, 0.2)}
    assert "network" in result.header  # the header's loss rates follow the scenario
    assert result.first is not None
    assert result.first.event != "run_start" and result.first.round == 1
    assert 1 <= result.rounds_differ <= 5


def test_another_defence_differs_at_its_first_aggregate(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    parent = logged(scenario(), tmp_path / "parent.jsonl")
    child = tmp_path / "child.jsonl"
    rerun(parent, {"server.aggregator": "krum", "name": "what-if"}, log_path=child)
    result = diff(parent, child)
    assert set(result.scenario) == {"name", "server.aggregator"}
    # another component: one value, its label, not a change of each parameter
    assert result.scenario["server.aggregator"] == (
        "gmom(batches=5, tol=1e-10, rebatch=False)",
        "krum",
    )
    assert result.header["floor"][1] == (5 * 1 / 4000) ** 0.5  # krum: k = 1
    assert result.first is not None
    assert (result.first.round, result.first.event) == (1, "aggregate")
    assert result.first.fields == ("aggregator", "payload")
    assert result.rounds_differ == 5
    ignoring = diff(parent, child, ignore=["aggregator"])
    assert ignoring.first is not None and ignoring.first.fields == ("payload",)
    assert set(ignoring.scenario) == {"name", "server.aggregator"}  # not a prefix of it
    assert set(diff(parent, child, ignore=["server"]).scenario) == {"name"}


def test_a_longer_run_differs_in_the_rounds_only_it_has(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    a = logged(scenario(rounds=3), tmp_path / "a.jsonl")
    b = logged(scenario(rounds=5), tmp_path / "b.jsonl")
    result = diff(a, b)
    assert result.scenario == {"rounds": (3, 5)}
    assert result.first is not None
    assert (result.first.round, result.first.fields) == (None, ("event",))  # run_end vs round 4
    assert result.rounds == (3, 5) and result.rounds_differ == 2


def test_cli_diff_of_the_readme_example(
    scenario: ScenarioFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    parent = logged(scenario(), tmp_path / "paper.jsonl")
    rc = main(["replay", str(parent), "--set", "server.aggregator=krum", "--set", "name=what-if"])
    assert rc == EXIT_OK
    child = tmp_path / "logs" / "what-if-seed0.jsonl"
    capsys.readouterr()
    assert main(["diff", str(parent), str(child)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "  server.aggregator: gmom(batches=5, tol=1e-10, rebatch=False) -> krum\n" in out
    assert out.count("server.aggregator") == 1  # listed once
    assert "first divergence: round 1, event #" in out and "(aggregate)" in out
    assert "field aggregator, payload" in out
    assert "rounds that differ: 5 of 5" in out
    assert "run_start" not in out


def test_cli_diff_ignore(
    scenario: ScenarioFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = logged(scenario(name="a"), tmp_path / "a.jsonl")
    b = logged(scenario(name="b"), tmp_path / "b.jsonl")
    assert main(["diff", str(a), str(b)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "  name: a -> b\n" in out and "events: identical" in out
    assert main(["diff", str(a), str(b), "--ignore", "name"]) == EXIT_OK
    assert capsys.readouterr().out == "identical runs (ignoring name)\n"
    assert main(["diff", str(a), str(b), "--ignore", " "]) == EXIT_USAGE
    assert "--ignore" in capsys.readouterr().err
    # a misspelt field would compare everything and say nothing: refused, with a hint
    assert main(["diff", str(a), str(b), "--ignore", "nmae"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--ignore nmae: no such field in either log (did you mean 'name'?)" in err
    with pytest.raises(ValueError, match="--ignore tiem: no such field"):
        diff(a, b, ignore=["tiem"])
    assert diff(a, b, ignore=["network.latency", "time", "name"]).identical  # all real
