"""The vector runtime writes, byte for byte, the log the SimPy runtime writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bgdsim
from bgdsim.cli import main
from bgdsim.config import apply_overrides, validate_scenario
from bgdsim.replay import Log, read_recording
from bgdsim.vector import run_vector
from tests.conftest import make_scenario

LATENCIES = [
    {"kind": "constant", "value": 0.01},
    {"kind": "constant", "value": 0.0},
    {"kind": "uniform", "low": 0.0, "high": 0.3},
    {"kind": "exponential", "mean": 0.05},
    {"kind": "lognormal", "mu": -3.0, "sigma": 1.0},
    {"kind": "pareto", "scale": 0.01, "shape": 1.5},
    {"kind": "gamma", "shape": 2.0, "scale": 0.02},
]
LOSSES: list[dict[str, Any]] = [
    {"network.drop": 0.0},
    {"network.drop": 0.15},
    {"network.loss": {"kind": "gilbert_elliott", "loss_rate": 0.2, "burst": 3}},
]
PRES: list[list[Any]] = [
    [{"kind": "nnm"}],
    [{"kind": "bucketing", "s": 2}],
    ["adaptive_clipping", {"kind": "bucketing", "s": 3}],
]
ATTACKS = ["sign_flip", "silent", "malformed", "timing", "gaussian", "alie", "gm_shift", "zero"]
SCHEDULES = ["random", "static", "round_robin", "batch_spread", "batch_concentrate"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    m = draw(st.integers(4, 12))
    q = draw(st.integers(0, (m - 1) // 3))
    k = draw(st.integers(max(1, 2 * q + 1), m))
    ov: dict[str, Any] = {
        "rounds": draw(st.integers(1, 5)),
        "problem.dim": draw(st.integers(1, 4)),
        "problem.samples": 40 * m,
        "cluster.workers": m,
        "cluster.byzantine": q,
        "server.aggregator.batches": k,
        "server.round_timeout": draw(st.sampled_from([0.02, 0.1, 0.25, 1.0])),
        "server.missing": draw(st.sampled_from(["zero", "exclude", "stale"])),
        "network.latency": draw(st.sampled_from(LATENCIES)),
        "adversary.schedule": draw(st.sampled_from(SCHEDULES)),
        "seed": draw(st.integers(0, 2**16)),
        **draw(st.sampled_from(LOSSES)),
    }
    if ov["server.missing"] == "exclude":
        ov["server.aggregator"] = draw(st.sampled_from(["gmom", "mean", "trimmed_mean"]))
    if draw(st.integers(0, 3)) == 0:
        ov["server.pre"] = draw(st.sampled_from(PRES))
    attack = draw(st.sampled_from(ATTACKS))
    ov["adversary.attack"] = attack
    if attack == "timing":
        ov["adversary.attack"] = {
            "kind": attack,
            "when": draw(st.sampled_from(["after", "before"])),
        }
    if attack == "malformed":
        ov["adversary.attack"] = {
            "kind": attack,
            "defect": draw(st.sampled_from(["nan", "shape", "huge"])),
        }
    if draw(st.booleans()):
        ov["server.barrier"] = "quorum"
        ov["server.quorum"] = draw(st.integers(1, m))
        ov["server.grace"] = draw(st.sampled_from([0.0, 0.005, 0.05]))
    if draw(st.booleans()):
        ov["cluster.compute_time"] = draw(
            st.sampled_from([0.01, {"kind": "lognormal", "mu": -4.0, "sigma": 1.0}])
        )
    faults: list[dict[str, Any]] = []
    if draw(st.booleans()):
        faults.append({"kind": "crash", "workers": [0], "from": 2, "until": 4})
    if draw(st.booleans()):
        start = draw(st.sampled_from([0.0, 0.01, 0.02, 0.1]))
        faults.append({"kind": "partition", "workers": [1], "from": start,
                       "until": start + 0.05, "unit": "seconds"})  # fmt: skip
    if draw(st.booleans()):
        start = draw(st.sampled_from([0.0, 0.02, 0.03, 0.2]))
        until = draw(st.sampled_from([start + 0.04, None]))
        pause: dict[str, Any] = {"kind": "server_pause", "from": start, "unit": "seconds"}
        faults.append(pause if until is None else {**pause, "until": until})
    if draw(st.booleans()):
        faults.append({"kind": "degrade", "workers": [2, 3], "from": 1, "factor": 4.0,
                       "drop": 0.3})  # fmt: skip
    if faults:
        ov["faults"] = faults
    return ov


def same_logs(a: Path, b: Path) -> bool:
    return (
        a.read_bytes() == b.read_bytes()
        and a.with_suffix(".bin").read_bytes() == b.with_suffix(".bin").read_bytes()
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenarios())
def test_vector_logs_are_byte_identical_to_simpy(tmp_path: Path, overrides: dict[str, Any]) -> None:
    try:
        sc = bgdsim.load_scenario(overrides=overrides)
    except bgdsim.ScenarioError:
        event("refused by the scenario model")
        return  # a combination the scenario model refuses (e.g. a rule precondition)
    a, b = tmp_path / "simpy.jsonl", tmp_path / "vector.jsonl"
    simpy = bgdsim.run(sc, log_path=a, overwrite=True)  # every example writes these two
    vector = run_vector(sc, log_path=b, overwrite=True)
    assert same_logs(a, b), bgdsim.replay.diff(a, b)
    assert np.array_equal(simpy.thetas, vector.thetas)
    assert simpy.counts == vector.counts
    assert bgdsim.verify(b).ok


def test_a_rerun_on_the_vector_runtime_matches_simpy(tmp_path: Path) -> None:
    sc = make_scenario(
        rounds=4,
        problem__dim=3,
        problem__samples=800,
        cluster__workers=8,
        cluster__byzantine=2,
        server__aggregator__batches=4,
        network__drop=0.1,
        network__latency={"kind": "lognormal", "mu": -3.0, "sigma": 1.0},
    )
    parent = tmp_path / "parent.jsonl"
    bgdsim.run(sc, log_path=parent)
    with Log(parent) as log:
        recording = read_recording(log)
        data = apply_overrides(log.header["scenario"], {"server.aggregator": "krum"})
    scenario = validate_scenario(data, "re-run")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    bgdsim.run(scenario, log_path=a, recording=recording)
    run_vector(scenario, log_path=b, recording=recording)
    assert same_logs(a, b)


def test_the_cli_runs_the_vector_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "v.jsonl"
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "paper_linear_regression.toml"
    assert main(["run", str(scenario), "--set", "rounds=3", "--runtime", "vector",
                 "--log", str(log), "--json"]) == 0  # fmt: skip
    assert '"rounds":3' in capsys.readouterr().out
    assert bgdsim.verify(log).ok
