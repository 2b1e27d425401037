"""The scenario model: defaults, TOML loading, overrides, and one clear error per bad input."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.config import (
    AdversaryConfig,
    ClusterConfig,
    NetworkConfig,
    ProblemConfig,
    Scenario,
    ScenarioError,
    ServerConfig,
    apply_overrides,
    load_scenario,
    parse_override,
    to_toml,
    validate_scenario,
)
from bgdsim.network.latency import ConstantLatency, ExponentialLatency
from tests.conftest import make_scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PAPER = Path(__file__).resolve().parents[1] / "scenarios" / "paper_linear_regression.toml"


def names_field(message: str, field: str) -> bool:
    """Whether ``message`` names the dotted ``field`` as a whole (not a prefix of a longer path)."""
    return re.search(rf"(?<![\w.]){re.escape(field)}(?![\w.])", message) is not None


def scenario_error(overrides: dict[str, Any] | list[str], path: Path | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    msg = str(info.value)
    assert "\n" not in msg
    assert "Traceback" not in msg
    return msg


# ----------------------------------------------------------------------------- defaults

DEFAULTS: dict[str, dict[str, Any]] = {
    "problem": {
        "kind": "linear_regression",
        "dim": 10,
        "samples": 100_000,
        "noise": 1.0,
        "theta_star": None,
        "theta_norm": 1.0,
        "size_spread": 0.0,
        "dataset": None,
        "test_fraction": None,
        "l2": None,
    },
    "cluster": {"workers": 100, "byzantine": 5, "compute_time": 0.0, "compute_per_sample": False},
    "server": {
        "aggregator": {"kind": "gmom", "batches": 20, "tol": 1e-10, "rebatch": False},
        "step_size": 0.5,
        "step_schedule": None,
        "round_timeout": 1.0,
        "missing": "zero",
        "barrier": "all",
        "quorum": None,
        "grace": 0.0,
        "max_norm": None,
        "pre": None,
    },
    "network": {
        "latency": {"kind": "constant", "value": 0.01},
        "drop": 0.0,
        "loss": None,
        "bandwidth": None,
        "groups": [],
        "topology": {"kind": "star"},
    },
    "adversary": {
        "schedule": {"kind": "random"},
        "attack": {"kind": "sign_flip", "scale": 10.0},
    },
}

SECTIONS = {
    "problem": ProblemConfig,
    "cluster": ClusterConfig,
    "server": ServerConfig,
    "network": NetworkConfig,
    "adversary": AdversaryConfig,
}


def test_top_level_defaults() -> None:
    s = Scenario()
    assert (s.name, s.seed, s.rounds) == ("scenario", 0, 40)


@pytest.mark.parametrize("section", list(DEFAULTS))
def test_section_defaults(section: str) -> None:
    from_scenario = getattr(Scenario(), section)
    assert from_scenario.model_dump(mode="json") == DEFAULTS[section]
    assert SECTIONS[section]() == from_scenario


def test_default_latency_is_constant_10ms() -> None:
    lat = Scenario().network.latency
    assert isinstance(lat, ConstantLatency)
    assert lat.value == 0.01
    assert lat.expected() == 0.01


def test_no_file_means_defaults() -> None:
    assert load_scenario() == Scenario()
    assert load_scenario(None, {}) == Scenario()
    assert validate_scenario({}) == Scenario()


def test_empty_tables_mean_defaults(tmp_path: Path) -> None:
    f = tmp_path / "empty.toml"
    f.write_text("[problem]\n[cluster]\n[server]\n[network]\n[adversary]\n", encoding="utf-8")
    assert load_scenario(f) == Scenario()


def test_paper_file_mirrors_the_defaults() -> None:
    s, d = load_scenario(PAPER), Scenario()
    assert s.name == "paper-linear-regression"
    assert (s.seed, s.rounds) == (d.seed, d.rounds)
    for section in ("problem", "cluster", "server", "network"):
        assert getattr(s, section) == getattr(d, section), section
    # the file spells out the attack's default scale: the same resolved component
    assert s.adversary == d.adversary
    assert s.adversary.attack.params == check_params(attacks.get("sign_flip"), {}, where="p")


# ----------------------------------------------------------------------------- loading


def test_load_toml_file(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        'name = "tiny"\nseed = 7\nrounds = 3\n'
        "[problem]\nsamples = 2000\ndim = 3\ntheta_star = [1.0, 0.0, 0.0]\n"
        "[cluster]\nworkers = 20\nbyzantine = 2\n"
        '[server]\naggregator = { kind = "gmom", batches = 4 }\nstep_size = "auto"\n'
        'missing = "exclude"\n'
        '[network]\nlatency = { kind = "exponential", mean = 0.02 }\ndrop = 0.1\n'
        '[adversary]\nschedule = { kind = "static", workers = [3, 1] }\n'
        'attack = { kind = "gaussian", scale = 2.0 }\n',
        encoding="utf-8",
    )
    s = load_scenario(f)
    assert (s.name, s.seed, s.rounds) == ("tiny", 7, 3)
    assert s.problem.theta_star == [1.0, 0.0, 0.0]
    assert (s.cluster.workers, s.cluster.byzantine) == (20, 2)
    assert (s.server.aggregator.kind, s.server.batches, s.server.step_size) == ("gmom", 4, "auto")
    assert s.server.missing == "exclude"
    assert s.network.latency == ExponentialLatency(mean=0.02)
    assert s.network.drop == 0.1
    assert s.adversary.schedule.params == {"workers": [3, 1]}
    assert (s.adversary.attack.kind, s.adversary.attack.params) == ("gaussian", {"scale": 2.0})


def test_load_accepts_str_path() -> None:
    assert load_scenario(str(PAPER)) == load_scenario(PAPER)


def test_scenario_is_frozen() -> None:
    s = Scenario()
    with pytest.raises(ValueError, match="frozen"):
        s.rounds = 3  # type: ignore[misc]


# ----------------------------------------------------------------------------- parse_override


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("rounds=3", ("rounds", 3), id="int"),
        pytest.param("network.drop=0.25", ("network.drop", 0.25), id="float"),
        pytest.param('name="my run"', ("name", "my run"), id="quoted-string"),
        pytest.param("server.aggregator=mean", ("server.aggregator", "mean"), id="bare-word"),
        pytest.param("name=my-run.v2", ("name", "my-run.v2"), id="bare-word-dash-dot"),
        pytest.param("server.step_size=auto", ("server.step_size", "auto"), id="bare-auto"),
        pytest.param("flag=true", ("flag", True), id="bool"),
        pytest.param("x.y=[1, 2, 3]", ("x.y", [1, 2, 3]), id="array"),
        pytest.param(
            'network.latency={kind="exponential", mean=0.02}',
            ("network.latency", {"kind": "exponential", "mean": 0.02}),
            id="inline-table",
        ),
        pytest.param(" cluster.byzantine = 10 ", ("cluster.byzantine", 10), id="spaces"),
        pytest.param('name="a=b"', ("name", "a=b"), id="equals-in-value"),
        pytest.param("seed=0", ("seed", 0), id="zero"),
    ],
)
def test_parse_override(text: str, expected: tuple[str, Any]) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("rounds", id="no-equals"),
        pytest.param("=3", id="empty-key"),
        pytest.param("1rounds=3", id="key-starts-with-digit"),
        pytest.param("cluster..workers=3", id="empty-segment"),
        pytest.param("cluster.workers.=3", id="trailing-dot"),
        pytest.param("clus ter=3", id="space-in-key"),
        pytest.param("cluster-workers=3", id="dash-in-key"),
        pytest.param("rounds=[1,", id="unclosed-array"),
        pytest.param("rounds=1 2", id="two-values"),
        pytest.param("rounds=", id="empty-value"),
        pytest.param('name="open', id="unclosed-string"),
        pytest.param("network.latency={kind=", id="broken-inline-table"),
    ],
)
def test_parse_override_rejects(text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert str(info.value).startswith(f"bad --set '{text}'")


# ----------------------------------------------------------------------------- apply_overrides


def test_apply_overrides_does_not_mutate_input() -> None:
    data = {"network": {"latency": {"kind": "constant", "value": 0.01}}, "rounds": 5}
    out = apply_overrides(data, {"network.latency.value": 0.5, "rounds": 3})
    assert data == {"network": {"latency": {"kind": "constant", "value": 0.01}}, "rounds": 5}
    assert out == {"network": {"latency": {"kind": "constant", "value": 0.5}}, "rounds": 3}


def test_apply_overrides_creates_missing_tables() -> None:
    assert apply_overrides({}, {"cluster.workers": 10}) == {"cluster": {"workers": 10}}
    # a parameter of an unset component: set on the default component
    assert apply_overrides({}, {"adversary.attack.scale": 2.0}) == {
        "adversary": {"attack": {"kind": "sign_flip", "scale": 2.0}}
    }


def test_apply_overrides_later_key_wins() -> None:
    out = apply_overrides({}, {"cluster.workers": 10, "cluster.byzantine": 1})
    assert out == {"cluster": {"workers": 10, "byzantine": 1}}


def test_apply_overrides_through_a_value_is_an_error() -> None:
    with pytest.raises(ScenarioError) as info:
        apply_overrides({"rounds": 3}, {"rounds.x": 1})
    assert "'rounds' is not a table" in str(info.value)


# ----------------------------------------------------------------------------- overrides


def test_dict_overrides() -> None:
    s = load_scenario(PAPER, {"cluster.byzantine": 10, "rounds": 3, "server.aggregator": "mean"})
    assert (s.cluster.byzantine, s.rounds, s.server.aggregator.kind) == (10, 3, "mean")
    assert s.name == "paper-linear-regression"  # the rest comes from the file


def test_set_string_overrides() -> None:
    s = load_scenario(
        PAPER,
        [
            "cluster.byzantine=10",
            "server.aggregator=mean",
            'network.latency={kind="exponential", mean=0.02}',
            "name=quick",
        ],
    )
    assert s.cluster.byzantine == 10
    assert s.server.aggregator.kind == "mean"
    assert s.network.latency == ExponentialLatency(mean=0.02)
    assert s.name == "quick"


def test_set_strings_and_dict_agree() -> None:
    a = load_scenario(PAPER, ["problem.noise=0.5", "server.step_size=auto"])
    b = load_scenario(PAPER, {"problem.noise": 0.5, "server.step_size": "auto"})
    assert a == b


def test_override_nested_key_inside_file_table() -> None:
    s = load_scenario(PAPER, ["network.latency.value=0.05"])
    assert s.network.latency == ConstantLatency(value=0.05)  # kind kept from the file


def test_override_nested_key_inside_file_inline_table() -> None:
    s = load_scenario(PAPER, ["adversary.attack.scale=2.5"])
    assert s.adversary.attack.params == {"scale": 2.5}


def test_override_adds_key_to_file_table(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[network]\nlatency = { kind = "exponential" }\n', encoding="utf-8")
    s = load_scenario(f, ["network.latency.shift=0.003"])
    assert s.network.latency == ExponentialLatency(shift=0.003)


def test_override_replaces_whole_table() -> None:
    s = load_scenario(PAPER, ['network.latency={kind="uniform", low=0.0, high=0.1}'])
    assert s.network.latency.kind == "uniform"
    assert s.network.latency.model_dump() == {"kind": "uniform", "low": 0.0, "high": 0.1}


def test_override_does_not_touch_the_file() -> None:
    before = PAPER.read_text(encoding="utf-8")
    load_scenario(PAPER, ["rounds=3"])
    assert PAPER.read_text(encoding="utf-8") == before


def test_seed_override() -> None:
    assert load_scenario(PAPER, seed=3).seed == 3
    assert load_scenario(PAPER, ["seed=5"]).seed == 5
    assert load_scenario(PAPER, {"seed": 5}).seed == 5
    assert load_scenario(PAPER, ["seed=5"], seed=7).seed == 7  # the keyword wins
    assert load_scenario(None, seed=2).seed == 2


def test_seed_override_is_validated() -> None:
    with pytest.raises(ScenarioError, match=r": seed: "):
        load_scenario(PAPER, seed=-1)


@pytest.mark.parametrize(
    "step",
    [
        pytest.param("server.step_size=auto", id="bare"),
        pytest.param('server.step_size="auto"', id="quoted"),
    ],
)
def test_step_size_auto_accepted(step: str) -> None:
    assert load_scenario(PAPER, [step]).server.step_size == "auto"


def test_int_accepted_for_float_fields() -> None:
    s = load_scenario(None, ["server.step_size=1", "problem.noise=2", "network.drop=1"])
    assert (s.server.step_size, s.problem.noise, s.network.drop) == (1, 2, 1)


# ----------------------------------------------------------------------------- round trip

ROUND_TRIP = {
    "defaults": {},
    "paper": None,
    "everything": {
        "name": "all",
        "seed": 9,
        "problem.dim": 2,
        "problem.theta_star": [0.6, 0.8],
        "problem.samples": 2000,
        "cluster.workers": 40,
        "cluster.byzantine": 3,
        "cluster.compute_time": 0.001,
        "server.step_size": "auto",
        "server.max_norm": 100.0,
        "server.missing": "stale",
        "server.aggregator.batches": 8,
        "server.aggregator.tol": 1e-6,
        "network.latency": {"kind": "lognormal", "sigma": 0.3, "shift": 0.001},
        "network.drop": 0.05,
        "adversary.schedule": {"kind": "static", "workers": [0, 39]},
        "adversary.attack": {"kind": "large_norm", "scale": 3.0},
    },
    "uniform-geomed": {
        "network.latency": {"kind": "uniform", "low": 0.001, "high": 0.002},
        "server.aggregator": "geomed",
        "adversary.attack": "silent",
        "problem.kind": "logistic_regression",
    },
}


@pytest.mark.parametrize("case", list(ROUND_TRIP))
def test_to_dict_round_trips(case: str) -> None:
    overrides = ROUND_TRIP[case]
    s = load_scenario(PAPER) if overrides is None else load_scenario(None, overrides)
    d = s.to_dict()
    assert validate_scenario(d) == s
    assert validate_scenario(d).to_dict() == d
    # and through TOML text, as `bgdsim validate` prints it
    assert validate_scenario(tomllib.loads(to_toml(d))) == s


def test_to_dict_omits_unset_optionals() -> None:
    d = Scenario().to_dict()
    assert "theta_star" not in d["problem"]
    assert "max_norm" not in d["server"]
    assert d["network"]["latency"] == {"kind": "constant", "value": 0.01}


# ----------------------------------------------------------------------------- unknown keys

UNKNOWN_KEYS = [
    pytest.param("nme", "name", "", id="top-level"),
    pytest.param("round", "rounds", "", id="top-level-rounds"),
    pytest.param("clustr", "cluster", "", id="top-level-section"),
    pytest.param("problem.dimm", "dim", "problem", id="problem"),
    pytest.param("cluster.wokers", "workers", "cluster", id="cluster"),
    pytest.param("server.agregator", "aggregator", "server", id="server"),
    pytest.param("network.dorp", "drop", "network", id="network"),
    pytest.param("adversary.atack", "attack", "adversary", id="adversary"),
]


@pytest.mark.parametrize(("dotted", "hint", "section"), UNKNOWN_KEYS)
def test_unknown_key_rejected_with_hint(dotted: str, hint: str, section: str) -> None:
    msg = scenario_error({dotted: 1})
    assert f"scenario: {dotted}: unknown key" in msg
    assert f"(did you mean '{hint}'?)" in msg
    assert "allowed: " in msg
    if section:
        assert msg.startswith(f"scenario: {section}")
        allowed = ", ".join(SECTIONS[section].model_fields)
        assert msg.endswith(f"allowed: {allowed}")
    else:
        assert msg.startswith(f"scenario: {dotted}: unknown key")


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("[cluster]\nzzzzzz = 1\n", encoding="utf-8")
    msg = scenario_error({}, f)
    assert msg.startswith(f"{f}: cluster.zzzzzz: unknown key")
    assert "did you mean" not in msg


@pytest.mark.parametrize("dotted", ["problem.dimm", "cluster.wokers", "network.dorp"])
def test_unknown_section_key_names_dotted_field(dotted: str) -> None:
    assert names_field(scenario_error({dotted: 1}), dotted)


# ----------------------------------------------------------------------------- invalid values

_STATIC = ['adversary.schedule="static"']

# (--set strings, the dotted field the message names, other text the message contains)
INVALID = [
    pytest.param(
        ["network.latency.value=-1"],
        "network.latency.value",
        "greater than or equal to 0",
        id="negative-latency",
    ),
    pytest.param(
        ['network.latency={kind="exponential", mean=-0.02}'],
        "network.latency.mean",
        "greater than 0",
        id="negative-latency-mean",
    ),
    pytest.param(
        ['network.latency={kind="uniform", low=0.5, high=0.1}'],
        "network.latency",
        "high (0.1) must be >= low (0.5)",
        id="latency-high-below-low",
    ),
    pytest.param(
        ["cluster.byzantine=101"],
        "cluster.byzantine",
        "must be <= cluster.workers (100)",
        id="byz>workers",
    ),
    pytest.param(
        ["cluster.byzantine=-1"],
        "cluster.byzantine",
        "greater than or equal to 0",
        id="byz-negative",
    ),
    pytest.param(
        ["server.aggregator=gmon"],
        "server.aggregator",
        "(did you mean 'gmom'?)",
        id="unknown-aggregator",
    ),
    pytest.param(
        ["server.aggregator=median"],
        "server.aggregator",
        "allowed: ",
        id="unknown-aggregator-far",
    ),
    pytest.param(
        ["adversary.attack=sign_flap"],
        "adversary.attack",
        "(did you mean 'sign_flip'?)",
        id="unknown-attack",
    ),
    pytest.param(
        ["adversary.schedule=randm"],
        "adversary.schedule",
        "(did you mean 'random'?)",
        id="unknown-schedule",
    ),
    pytest.param(
        ['network.latency={kind="exponentail"}'],
        "network.latency",
        "(did you mean 'exponential'?)",
        id="unknown-latency-kind",
    ),
    pytest.param(
        ["network.latency.kind=weibull"],
        "network.latency",
        "unknown latency model 'weibull'",
        id="unknown-latency-kind-nested",
    ),
    pytest.param(
        ['network.latency={kind="constant", valu=1.0}'],
        "network.latency.valu",
        "allowed: value",
        id="unknown-latency-param",
    ),
    pytest.param(
        ["network.latency=0.01"], "network.latency", "must be a table", id="latency-not-table"
    ),
    pytest.param(
        ["problem.kind=linear_regresion"],
        "problem.kind",
        "(did you mean 'linear_regression'?)",
        id="unknown-problem",
    ),
    pytest.param(["network.drop=1.5"], "network.drop", "less than or equal to 1", id="drop>1"),
    pytest.param(["network.drop=-0.1"], "network.drop", "greater than or equal to 0", id="drop<0"),
    pytest.param(
        ["server.aggregator.batches=0"],
        "server.aggregator.batches",
        "greater than or equal to 1",
        id="batches<1",
    ),
    pytest.param(
        ["server.aggregator.batches=101"],
        "server.aggregator.batches",
        "must be <= cluster.workers (100)",
        id="batches>workers",
    ),
    pytest.param(
        ['cluster.workers="10"'], "cluster.workers", "valid integer", id="str-for-int-workers"
    ),
    pytest.param(['rounds="3"'], "rounds", "valid integer", id="str-for-int-rounds"),
    pytest.param(['seed="1"'], "seed", "valid integer", id="str-for-int-seed"),
    pytest.param(["rounds=3.0"], "rounds", "valid integer", id="float-for-int"),
    pytest.param(["rounds=true"], "rounds", "valid integer", id="bool-for-int"),
    pytest.param(['network.drop="0.1"'], "network.drop", "valid number", id="str-for-float-drop"),
    pytest.param(
        ['problem.noise="1.0"'], "problem.noise", "valid number", id="str-for-float-noise"
    ),
    pytest.param(
        ['network.latency={kind="exponential", mean="0.02"}'],
        "network.latency.mean",
        "valid number",
        id="str-for-float-latency",
    ),
    pytest.param(["name=1"], "name", "valid string", id="int-for-str"),
    pytest.param(["rounds=0"], "rounds", "greater than or equal to 1", id="rounds<1"),
    pytest.param(["seed=-1"], "seed", "greater than or equal to 0", id="seed<0"),
    pytest.param(["problem.dim=0"], "problem.dim", "greater than or equal to 1", id="dim<1"),
    pytest.param(
        ["problem.noise=-1.0"], "problem.noise", "greater than or equal to 0", id="noise<0"
    ),
    pytest.param(["problem.noise=nan"], "problem.noise", "finite", id="noise-nan"),
    pytest.param(
        ["problem.theta_norm=0.0"], "problem.theta_norm", "greater than 0", id="theta-norm"
    ),
    pytest.param(
        ["cluster.compute_time=-1.0"],
        "cluster.compute_time",
        "must be seconds >= 0 or a delay model table",
        id="compute-time<0",
    ),
    pytest.param(["server.max_norm=0.0"], "server.max_norm", "greater than 0", id="max-norm"),
    pytest.param(
        ["problem.samples=2050"],
        "problem.samples",
        "must be a multiple of cluster.workers (100)",
        id="samples-not-multiple",
    ),
    pytest.param(
        ["adversary.attack.scal=1.0"],
        "adversary.attack.scal",
        "(did you mean 'scale'?)",
        id="attack-param-unknown",
    ),
    pytest.param(
        ["adversary.attack=zero", "adversary.attack.scale=1.0"],
        "adversary.attack.scale",
        "the attack 'zero' has no parameter 'scale'; its parameters: none",
        id="attack-takes-no-params",
    ),
    pytest.param(
        ['adversary.attack.scale="x"'],
        "adversary.attack.scale",
        "valid number",
        id="attack-param-ill-typed",
    ),
    pytest.param(
        ["adversary.attack.scale=-1.0"],
        "adversary.attack.scale",
        "greater than 0",
        id="attack-param-range",
    ),
    pytest.param(
        ["server.aggregator.tl=0.1"],
        "server.aggregator.tl",
        "(did you mean 'tol'?)",
        id="agg-param-unknown",
    ),
    pytest.param(
        ["server.aggregator=mean", "server.aggregator.tol=0.1"],
        "server.aggregator.tol",
        "the aggregator 'mean' has no parameter 'tol'; its parameters: none",
        id="agg-takes-no-params",
    ),
    pytest.param(
        ["server.aggregator=krum", "server.aggregator.batches=3"],
        "server.aggregator.batches",
        "the aggregator 'krum' has no parameter 'batches'",
        id="agg-without-batches",
    ),
    pytest.param(
        ["server.aggregator=krum", "server.aggregator.f=3"],
        "server.aggregator.f",
        "supplied by the simulator",
        id="agg-supplied-param",
    ),
    pytest.param(
        ["server.aggregator.tol=2.0"],
        "server.aggregator.tol",
        "less than 1",
        id="agg-param-range-high",
    ),
    pytest.param(
        ["server.aggregator.tol=0.0"],
        "server.aggregator.tol",
        "greater than 0",
        id="agg-param-range-low",
    ),
    pytest.param(
        ['server.aggregator.tol="small"'],
        "server.aggregator.tol",
        "valid number",
        id="agg-param-ill-typed",
    ),
    pytest.param(
        [*_STATIC, "adversary.schedule.workers=[100]"],
        "adversary.schedule.workers",
        "worker 100 is not in 0..99",
        id="static-worker-too-big",
    ),
    pytest.param(
        [*_STATIC, "adversary.schedule.workers=[-1]"],
        "adversary.schedule.workers",
        "worker -1 is not in 0..99",
        id="static-worker-negative",
    ),
    pytest.param(
        [*_STATIC, "adversary.schedule.workers=[1, 2, 3, 4, 5, 6]"],
        "adversary.schedule.workers",
        "6 workers but cluster.byzantine (q) is 5",
        id="static-too-many",
    ),
    pytest.param(
        [*_STATIC, "adversary.schedule.workers=[1, 1]"],
        "adversary.schedule.workers",
        "duplicate",
        id="static-duplicated",
    ),
    pytest.param(
        [*_STATIC, 'adversary.schedule.workers=["a"]'],
        "adversary.schedule.workers.0",
        "valid integer",
        id="static-ill-typed",
    ),
    pytest.param(
        ["adversary.schedule.workers=[1]"],
        "adversary.schedule.workers",
        "the schedule 'random' has no parameter 'workers'",
        id="random-takes-no-params",
    ),
    pytest.param(
        ["server.step_size=0"], "server.step_size", 'positive number or "auto"', id="step=0"
    ),
    pytest.param(
        ["server.step_size=-0.5"], "server.step_size", 'positive number or "auto"', id="step<0"
    ),
    pytest.param(
        ["server.step_size=inf"], "server.step_size", 'positive number or "auto"', id="step-inf"
    ),
    pytest.param(
        ["server.round_timeout=0"], "server.round_timeout", "greater than 0", id="timeout=0"
    ),
    pytest.param(
        ["server.round_timeout=-1.0"], "server.round_timeout", "greater than 0", id="timeout<0"
    ),
    pytest.param(
        ["server.missing=drop"],
        "server.missing",
        "'zero', 'exclude' or 'stale'",
        id="missing-unknown",
    ),
    pytest.param(["cluster=3"], "cluster", "valid dictionary", id="section-not-table"),
    pytest.param(
        ["server.step_size=fast"],
        "server.step_size",
        "",
        id="step-bad-word",
    ),
    pytest.param(
        ["problem.theta_star=[1.0, 2.0]"],
        "problem.theta_star",
        "2 entries but problem.dim is 10",
        id="theta-star-length",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "text"), INVALID)
def test_invalid_scenario_names_field(overrides: list[str], field: str, text: str) -> None:
    msg = scenario_error(overrides, PAPER)
    assert msg.startswith(f"{PAPER}: ")
    assert names_field(msg, field), msg
    assert text in msg


def test_theta_star_length_is_rejected() -> None:
    msg = scenario_error(["problem.theta_star=[1.0, 2.0]"])
    assert "problem.theta_star: has 2 entries but problem.dim is 10" in msg
    assert msg.startswith("scenario: problem")


def test_step_size_bad_word_is_rejected() -> None:
    msg = scenario_error(["server.step_size=fast"])
    assert "server.step_size" in msg
    assert "'fast'" in msg


def test_theta_star_right_length_is_accepted() -> None:
    s = load_scenario(None, ["problem.dim=3", "problem.theta_star=[0.0, 1.0, 0.0]"])
    assert s.problem.theta_star == [0.0, 1.0, 0.0]


def test_static_schedule_in_range_is_accepted() -> None:
    s = load_scenario(PAPER, [*_STATIC, "adversary.schedule.workers=[0, 99, 50]"])
    assert s.adversary.schedule.params == {"workers": [0, 99, 50]}


def test_errors_without_a_file_name_the_source_scenario() -> None:
    assert scenario_error(["cluster.byzantine=101"]).startswith("scenario: ")


def test_scenario_error_is_a_value_error() -> None:
    assert issubclass(ScenarioError, ValueError)


# ----------------------------------------------------------------------------- files and --set


def test_broken_toml(tmp_path: Path) -> None:
    f = tmp_path / "broken.toml"
    f.write_text("rounds = [1,\n", encoding="utf-8")
    msg = scenario_error({}, f)
    assert msg.startswith(f"{f}: not valid TOML")


def test_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "nope.toml"
    assert scenario_error({}, f) == f"{f}: no such scenario file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    expected = f"{tmp_path}: the scenario file is a directory, not a regular file"
    assert scenario_error({}, tmp_path) == expected


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.toml"
    f.write_bytes(b'name = "caf\xe9"\n')
    assert scenario_error({}, f).startswith(f"{f}: cannot read")


def test_invalid_value_in_file_names_field(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("[cluster]\nworkers = 10\nbyzantine = 11\n", encoding="utf-8")
    msg = scenario_error({}, f)
    assert msg.startswith(f"{f}: ")
    assert names_field(msg, "cluster.byzantine")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("rounds", "expected key.path=value", id="no-equals"),
        pytest.param("1x=3", "expected key.path=value", id="bad-key"),
        pytest.param("rounds=[1,", "'[1,' is not a TOML value", id="unparsable-value"),
        pytest.param("rounds.x=1", "'rounds' is not a table", id="through-a-value"),
    ],
)
def test_bad_set_string(text: str, expected: str) -> None:
    msg = scenario_error([text], PAPER)
    assert msg.startswith("bad --set ")
    assert expected in msg


def test_server_pre_is_stored_resolved_and_an_empty_list_is_none() -> None:
    sc = make_scenario(server__pre=["nnm", {"kind": "bucketing"}])
    assert sc.server.pre == [{"kind": "nnm"}, {"kind": "bucketing", "s": 2}]
    assert sc.to_dict()["server"]["pre"] == [{"kind": "nnm"}, {"kind": "bucketing", "s": 2}]
    assert "pre" not in make_scenario(server__pre=[]).to_dict()["server"]
    assert "pre" not in make_scenario().to_dict()["server"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"server.pre": [{"kind": "bucketing", "s": 0}]},
         "server.pre[0].s: Input should be greater than or equal to 1 (got 0)"),
        ({"server.pre": ["nnm", {"kind": "clip"}]},
         "server.pre[1].kind: unknown pre-aggregator 'clip' (did you mean 'clipping'?); "
         "allowed: adaptive_clipping, arc, bucketing, clipping, nnm"),
        # the dry run: nnm cannot run on m reports with f = q = m
        ({"server.pre": ["nnm"], "cluster.byzantine": 100},
         "server.pre: nnm needs n > f reports, got n=100, f=100"),
        # krum after bucketing sees ⌈100/20⌉ = 5 vectors: fewer than 2f + 3
        ({"server.pre": [{"kind": "bucketing", "s": 20}], "server.aggregator": "krum"},
         "server.aggregator: krum needs n >= 2f + 3 reports, got n=5 with f=5"),
    ],
)  # fmt: skip
def test_server_pre_errors_name_the_entry(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(overrides=overrides)
    assert str(info.value).endswith(message)
