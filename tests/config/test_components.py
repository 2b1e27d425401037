"""Components as tables: a bare name is its defaults, parameters live in the table."""

from __future__ import annotations

from pathlib import Path

import pytest

import bgdsim.cli
from bgdsim.config import ScenarioError, load_scenario, validate_scenario
from bgdsim.config.components import AGGREGATOR, ATTACK, SCHEDULE, Component, label
from bgdsim.config.loading import to_toml

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "scenarios" / "paper_linear_regression.toml"


def test_a_bare_name_is_the_component_with_its_defaults() -> None:
    assert ATTACK.parse("sign_flip") == Component(kind="sign_flip", params={"scale": 10.0})
    assert AGGREGATOR.parse("krum") == Component(kind="krum", params={})
    gmom = AGGREGATOR.parse({"kind": "gmom", "batches": 7})
    assert gmom.params == {"batches": 7, "tol": 1e-10, "rebatch": False}
    assert SCHEDULE.parse({"kind": "static", "workers": [1, 2]}).params == {"workers": [1, 2]}


def test_replacing_the_attack_drops_the_old_attacks_parameters() -> None:
    # the file's attack is sign_flip with scale = 10: alie takes no scale
    s = load_scenario(PAPER, ["adversary.attack=alie"])
    assert (s.adversary.attack.kind, s.adversary.attack.params) == ("alie", {"z": None})
    s = load_scenario(PAPER, ["server.aggregator=krum"])
    assert (s.server.aggregator.kind, s.server.batches) == ("krum", 1)


def test_a_parameter_set_on_a_bare_name_or_an_unset_component() -> None:
    s = load_scenario(PAPER, ["server.aggregator=mean", "adversary.attack=ipm"])
    assert s.server.aggregator.params == {}
    s = load_scenario(None, ["server.aggregator.batches=4", "adversary.attack.scale=3.0"])
    assert s.server.aggregator == AGGREGATOR.parse({"kind": "gmom", "batches": 4})
    assert s.adversary.attack == ATTACK.parse({"kind": "sign_flip", "scale": 3.0})
    s = validate_scenario({"adversary": {"attack": "ipm"}})
    s2 = load_scenario(None, {"adversary.attack": "ipm", "adversary.attack.epsilon": 0.5})
    assert s.adversary.attack.params == {"epsilon": 0.1}
    assert s2.adversary.attack.params == {"epsilon": 0.5}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["server.aggregator=krum", "server.aggregator.batches=3"],
            "server.aggregator.batches: the aggregator 'krum' has no parameter 'batches'; "
            "its parameters: none",
        ),
        (
            ["adversary.attack.scal=3.0"],
            "adversary.attack.scal: the attack 'sign_flip' has no parameter 'scal' "
            "(did you mean 'scale'?); its parameters: scale",
        ),
        (["server.aggregator=gmon"], "server.aggregator: unknown aggregator 'gmon'"),
        (["server.aggregator={batches=3}"], "server.aggregator.kind: missing"),
        (["server.aggregator={kind=3}"], "server.aggregator.kind: must be a aggregator name"),
        (["server.aggregator=3"], "server.aggregator: must be a aggregator name or a table"),
        (["server.aggregator.f=2"], "server.aggregator.f: supplied by the simulator"),
        (
            ["adversary.attack.scale=-1.0"],
            "adversary.attack.scale: Input should be greater than 0",
        ),
    ],
)
def test_errors_name_the_component_and_its_parameter(overrides: list[str], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(PAPER, overrides)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("toml", "rewrite"),
    [
        (
            '[server]\naggregator = "gmom"\nbatches = 10\nparams = { tol = 1e-8 }\n',
            "server.batches: [server] names its aggregator as one table now; write "
            'aggregator = { kind = "gmom", batches = 10, tol = 1e-08 }',
        ),
        (
            '[server]\naggregator = "krum"\nbatches = 10\n',
            'write aggregator = { kind = "krum" }',
        ),
        (
            '[adversary]\nattack = "alie"\nparams = { z = 1.5 }\n',
            "adversary.params: [adversary] names its attack as one table now; write "
            'attack = { kind = "alie", z = 1.5 }',
        ),
        (
            '[adversary]\nschedule = "static"\nschedule_params = { workers = [1] }\n',
            'write schedule = { kind = "static", workers = [1] }',
        ),
    ],
)
def test_a_scenario_of_the_flat_form_gets_its_rewrite(
    tmp_path: Path, toml: str, rewrite: str
) -> None:
    path = tmp_path / "old.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert rewrite in str(info.value)


def test_the_cli_refuses_the_flat_form_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.toml"
    path.write_text("[server]\nbatches = 10\n", encoding="utf-8")
    assert bgdsim.cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'aggregator = { kind = "gmom", batches = 10 }' in err


def test_the_resolved_scenario_round_trips_through_toml() -> None:
    s = load_scenario(PAPER, ["adversary.attack=alie", "server.aggregator=centered_clipping"])
    text = to_toml(s.to_dict())
    assert 'kind = "alie"' in text and "z =" not in text  # unset: the attack derives it
    import tomllib

    assert validate_scenario(tomllib.loads(text)) == s


def test_a_component_prints_as_its_label() -> None:
    assert str(ATTACK.parse("sign_flip")) == "sign_flip(scale=10)"
    assert f"{SCHEDULE.parse('random')}" == "random"


def test_label_is_one_short_string() -> None:
    assert label("krum", {}) == "krum"
    assert label("alie", {"z": None}) == "alie"
    assert label("gmom", {"batches": 20, "rebatch": False}) == "gmom(batches=20, rebatch=False)"
    assert label("min_max", {"perturbation": "std"}) == "min_max(perturbation='std')"
