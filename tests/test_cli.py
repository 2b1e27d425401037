"""The ``bgdsim`` command line: run / validate / list, exit codes 0 and 2, one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bgdsim.cli import EXIT_OK, EXIT_USAGE, main
from bgdsim.cli.listing import first_sentence
from bgdsim.config import load_scenario, validate_scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PAPER = Path(__file__).resolve().parents[1] / "scenarios" / "paper_linear_regression.toml"
NAME = "paper-linear-regression"
TINY = ["--set", "rounds=3", "--set", "problem.samples=2000"]
KRUM = ["--set", "server.aggregator=krum"]


def names_field(message: str, field: str) -> bool:
    """Whether ``message`` names the dotted ``field`` as a whole (not a prefix of a longer path)."""
    return re.search(rf"(?<![\w.]){re.escape(field)}(?![\w.])", message) is not None


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The paper's scenario copied into an empty working directory (the cwd)."""
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(PAPER, tmp_path / "paper.toml"))


def cli(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# ----------------------------------------------------------------------------- run


def test_run_json(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "x.jsonl"
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--json", "--log", log)
    assert rc == EXIT_OK
    lines = out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert isinstance(summary, dict)
    assert {"name", "seed", "rounds", "errors", "final_error", "log"} <= set(summary)
    assert summary["name"] == NAME
    assert summary["seed"] == 0
    assert summary["rounds"] == 3
    assert len(summary["errors"]) == 3 + 1
    assert summary["final_error"] == summary["errors"][-1]
    assert summary["errors"][0] > summary["final_error"]  # the paper's setting converges
    assert summary["k"] == 20
    assert summary["floor"] == (10 * 20 / 2000) ** 0.5
    run_end = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert summary["sim_time"] == run_end["time"] > 0
    assert Path(summary["log"]) == log
    assert log.is_file()
    assert log.stat().st_size > 0
    assert (tmp_path / "x.bin").is_file()
    assert not (tmp_path / "logs").exists()


def test_run_json_log_lines_are_json(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "sub" / "x.jsonl"
    rc, _, _ = cli(capsys, "run", scenario, *TINY, "--json", "--log", log)
    assert rc == EXIT_OK
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert (tmp_path / "sub" / "x.bin").is_file()


def test_run_no_log_writes_nothing(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(tmp_path)
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--json", "--no-log")
    assert rc == EXIT_OK
    assert json.loads(out)["log"] is None
    assert files_under(tmp_path) == before == {"paper.toml"}


def test_run_default_log_path(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--json")
    assert rc == EXIT_OK
    expected = Path("logs") / f"{NAME}-seed0.jsonl"
    assert Path(json.loads(out)["log"]) == expected
    assert (tmp_path / expected).is_file()
    assert (tmp_path / expected.with_suffix(".bin")).is_file()


def test_run_default_log_path_uses_set_name(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, _ = cli(capsys, "run", scenario, *TINY, "--set", "name=quick", "--json")
    assert rc == EXIT_OK
    assert (tmp_path / "logs" / "quick-seed0.jsonl").is_file()


def test_run_seed_flag(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--seed", "3", "--json")
    assert rc == EXIT_OK
    summary = json.loads(out)
    assert summary["seed"] == 3
    assert Path(summary["log"]) == Path("logs") / f"{NAME}-seed3.jsonl"
    assert (tmp_path / "logs" / f"{NAME}-seed3.jsonl").is_file()
    assert not (tmp_path / "logs" / f"{NAME}-seed0.jsonl").exists()


def test_run_seed_changes_the_run(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out0, _ = cli(capsys, "run", scenario, *TINY, "--json", "--no-log")
    _, out0_again, _ = cli(capsys, "run", scenario, *TINY, "--json", "--no-log")
    _, out3, _ = cli(capsys, "run", scenario, *TINY, "--seed", "3", "--json", "--no-log")
    assert json.loads(out0)["errors"] == json.loads(out0_again)["errors"]
    assert json.loads(out0)["errors"] != json.loads(out3)["errors"]


def test_run_human_summary(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--no-log")
    assert rc == EXIT_OK
    assert "final error" in out
    assert "floor" in out
    assert NAME in out
    assert "(none)" in out  # no log
    assert "gmom (k=20)" in out
    assert "simulated time" in out
    assert "uneven" not in out  # k = 20 divides m = 100
    assert "sign_flip(scale=10) / random" in out  # components by their short label
    assert "Component(" not in out


def test_run_human_summary_krum_has_no_batches(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--no-log", *KRUM)
    assert rc == EXIT_OK
    assert "(k=" not in out  # krum does not batch: its floor is √(d/N)
    assert "k = 1" in out
    assert f"{(10 / 2000) ** 0.5:.4g}" in out


def test_run_summary_warns_when_k_does_not_divide_m(
    scenario: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table's line is not wrapped
    rc, out, _ = cli(
        capsys, "run", scenario, *TINY, "--set", "server.aggregator.batches=30", "--no-log"
    )
    assert rc == EXIT_OK
    flat = " ".join(out.split())
    assert "uneven batches" in flat
    assert "10 batches of 4, 20 of 3" in flat


# ----------------------------------------------------------------------------- validate


def test_validate_prints_resolved_scenario(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = cli(capsys, "validate", scenario)
    assert rc == EXIT_OK
    assert err == ""
    first, _, rest = out.partition("\n")
    assert first.startswith("#")
    assert ": valid" in first
    data = tomllib.loads(rest)
    assert data["name"] == NAME
    assert data["problem"]["theta_norm"] == 1.0  # resolved: defaults the file omits
    # gmom's defaults
    assert data["server"]["aggregator"] == {
        "kind": "gmom",
        "batches": 20,
        "tol": 1e-10,
        "rebatch": False,
    }
    assert data["adversary"]["attack"] == {"kind": "sign_flip", "scale": 10.0}
    assert validate_scenario(data) == load_scenario(scenario)


def test_validate_names_parameters_the_component_chooses(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = ["--set", "adversary.attack=alie"]
    change += ["--set", "adversary.schedule=adaptive"]
    rc, out, _ = cli(capsys, "validate", scenario, *change)
    assert rc == EXIT_OK
    data = tomllib.loads(out)
    assert data["adversary"]["schedule"] == {"kind": "adaptive", "candidates": 16}
    assert data["adversary"]["attack"] == {"kind": "alie"}
    assert out.endswith("(see its docstring): adversary.attack.z\n")


def test_validate_applies_set(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(
        capsys,
        "validate",
        scenario,
        "--set",
        "cluster.byzantine=7",
        "--set",
        'network.latency={kind="exponential", mean=0.02}',
    )
    assert rc == EXIT_OK
    data = tomllib.loads(out.partition("\n")[2])
    assert data["cluster"]["byzantine"] == 7
    assert data["network"]["latency"] == {"kind": "exponential", "mean": 0.02, "shift": 0.0}


def test_validate_bad_input(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(capsys, "validate", scenario, "--set", "cluster.byzantine=101")
    assert rc == EXIT_USAGE
    assert out == ""
    assert err.startswith("bgdsim: error:")
    assert "cluster.byzantine" in err


# ----------------------------------------------------------------------------- list


def test_list_everything(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "list")
    assert rc == EXIT_OK
    for family in ("aggregators", "attacks", "schedules", "latencies", "problems", "missing"):
        assert f"{family}:" in out
    words = set(out.split())
    assert {"mean", "gmom", "geomed", "sign_flip", "random", "static", "constant"} <= words
    assert {"linear_regression", "zero", "exclude", "stale"} <= words


def test_list_shows_whole_first_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "list", "attacks")
    assert rc == EXIT_OK
    text = " ".join(out.split())  # long sentences wrap
    assert "timed to arrive at `round_timeout + margin` (`after`: late, so missing)" in text
    rc, out, _ = cli(capsys, "list", "aggregators")
    text = " ".join(out.split())
    assert "the report closest to its n − f − 2 nearest neighbours." in text
    assert all(len(line) <= 100 for line in out.splitlines())


@pytest.mark.parametrize(
    ("doc", "sentence"),
    [
        (
            "Krum (Blanchard et al. 2017): the best. More here.",
            "Krum (Blanchard et al. 2017): the best.",
        ),
        ("A rule over\n    two lines. Then more.\n\nArgs: x", "A rule over two lines."),
        ("Median (eq. (8)). Rest.", "Median (eq. (8))."),
        ("Ends at a formula:\n\n    x = 1", "Ends at a formula…"),
        ("Uses ``scale``.", "Uses `scale`."),
        (None, ""),
    ],
)
def test_first_sentence(doc: str | None, sentence: str) -> None:
    assert first_sentence(doc) == sentence


def test_list_aggregators(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "list", "aggregators")
    assert rc == EXIT_OK
    assert out.startswith("aggregators:")
    assert {"mean", "gmom", "geomed"} <= set(out.split())
    assert "attacks:" not in out


def test_list_pre_aggregators(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "list", "pre")
    assert rc == EXIT_OK
    assert out.splitlines()[0] == "pre:"
    assert {"nnm", "bucketing", "clipping", "adaptive_clipping", "arc"} <= set(out.split())
    assert "Nearest-neighbour mixing (Allouah et al. 2023" in out


# ----------------------------------------------------------------------------- bad input

_STATIC = ["--set", 'adversary.schedule="static"']


# (extra arguments of `run`, the dotted field stderr must name)
BAD_RUN = [
    pytest.param(["--set", "nme=x"], "nme", id="misspelt-top-level-key"),
    pytest.param(
        ["--set", "cluster.wokers=10"],
        "cluster.wokers",
        id="misspelt-section-key",
    ),
    pytest.param(["--set", "network.latency.value=-1"], "network.latency.value", id="neg-latency"),
    pytest.param(["--set", "cluster.byzantine=101"], "cluster.byzantine", id="byz>workers"),
    pytest.param(["--set", "server.aggregator=gmon"], "server.aggregator", id="unknown-aggregator"),
    pytest.param(["--set", "adversary.attack=sign_flap"], "adversary.attack", id="unknown-attack"),
    pytest.param(
        ["--set", "adversary.schedule=randm"], "adversary.schedule", id="unknown-schedule"
    ),
    pytest.param(
        ["--set", 'network.latency={kind="weibull"}'], "network.latency", id="unknown-latency-kind"
    ),
    pytest.param(["--set", "network.drop=1.5"], "network.drop", id="drop>1"),
    pytest.param(["--set", "network.drop=-0.5"], "network.drop", id="drop<0"),
    pytest.param(
        ["--set", "server.aggregator.batches=0"], "server.aggregator.batches", id="batches<1"
    ),
    pytest.param(
        ["--set", "server.aggregator.batches=101"],
        "server.aggregator.batches",
        id="batches>workers",
    ),
    pytest.param(["--set", 'cluster.workers="10"'], "cluster.workers", id="str-for-int"),
    pytest.param(["--set", 'network.drop="0.1"'], "network.drop", id="str-for-float"),
    pytest.param(["--set", "problem.samples=2050"], "problem.samples", id="samples-not-multiple"),
    pytest.param(
        ["--set", "problem.theta_star=[1.0, 2.0]"],
        "problem.theta_star",
        id="theta-star-length",
    ),
    pytest.param(
        ["--set", "adversary.attack.scal=1.0"], "adversary.attack.scal", id="attack-param"
    ),
    pytest.param(
        ["--set", 'adversary.attack.scale="x"'], "adversary.attack.scale", id="attack-param-type"
    ),
    pytest.param(["--set", "server.aggregator.tl=0.1"], "server.aggregator.tl", id="agg-param"),
    pytest.param(
        ["--set", "server.aggregator.tol=2.0"], "server.aggregator.tol", id="agg-param-range"
    ),
    pytest.param(
        [*_STATIC, "--set", "adversary.schedule.workers=[100]"],
        "adversary.schedule.workers",
        id="static-out-of-range",
    ),
    pytest.param(
        [*_STATIC, "--set", "adversary.schedule.workers=[0, 1, 2, 3, 4, 5]"],
        "adversary.schedule.workers",
        id="static-too-many",
    ),
    pytest.param(
        [*_STATIC, "--set", "adversary.schedule.workers=[2, 2]"],
        "adversary.schedule.workers",
        id="static-duplicated",
    ),
    pytest.param(["--set", "server.step_size=0"], "server.step_size", id="step<=0"),
    pytest.param(
        ["--set", "server.step_size=fast"],
        "server.step_size",
        id="step-bad-word",
    ),
    pytest.param(["--set", "server.round_timeout=0"], "server.round_timeout", id="timeout<=0"),
    pytest.param(["--set", "server.missing=drop"], "server.missing", id="missing-unknown"),
    pytest.param(["--set", "rounds"], "rounds", id="set-no-equals"),
    pytest.param(["--set", "1x=3"], "1x", id="set-bad-key"),
    pytest.param(["--set", "rounds=[1,"], "rounds", id="set-unparsable"),
    pytest.param(["--set", "rounds.x=1"], "rounds", id="set-through-a-value"),
    pytest.param(["--seed", "-1"], "seed", id="negative-seed"),
]


@pytest.mark.parametrize(("extra", "field"), BAD_RUN)
def test_run_bad_input(
    scenario: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    field: str,
) -> None:
    rc, out, err = cli(capsys, "run", scenario, *TINY, "--json", *extra)
    assert rc == EXIT_USAGE
    assert out == ""
    assert err.startswith("bgdsim: error:")
    assert len(err.strip().splitlines()) == 1, err
    assert names_field(err, field), err
    assert "Traceback" not in err
    assert files_under(tmp_path) == {"paper.toml"}  # nothing ran, no log


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "no such scenario file", id="missing-file"),
        pytest.param("rounds = [1,\n", "not valid TOML", id="broken-toml"),
        pytest.param(
            "[cluster]\nworkers = 10\nbyzantine = 11\n", "cluster.byzantine", id="bad-value"
        ),
    ],
)
def test_run_bad_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "s.toml"
    if content is not None:
        f.write_text(content, encoding="utf-8")
    rc, out, err = cli(capsys, "run", f)
    assert rc == EXIT_USAGE
    assert out == ""
    assert err.startswith(f"bgdsim: error: {f}: ")
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_run_unusable_log_path(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = cli(capsys, "run", scenario, *TINY, "--log", scenario / "x.jsonl")
    assert rc == EXIT_USAGE
    assert err.startswith("bgdsim: error:")
    assert "log" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["frobnicate"], id="unknown-subcommand"),
        pytest.param(["run"], id="run-missing-scenario"),
        pytest.param(["validate"], id="validate-missing-scenario"),
        pytest.param(["run", "paper.toml", "--seed"], id="seed-missing-value"),
        pytest.param(["run", "paper.toml", "--seed", "abc"], id="seed-not-int"),
        pytest.param(["run", "paper.toml", "--set"], id="set-missing-value"),
        pytest.param(["run", "paper.toml", "--runtime", "ray"], id="unknown-runtime"),
        pytest.param(["run", "paper.toml", "--bogus"], id="unknown-option"),
        pytest.param(["list", "widgets"], id="list-unknown-family"),
    ],
)
def test_usage_errors_exit_2(
    scenario: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    rc, out, err = cli(capsys, *argv)
    assert rc == EXIT_USAGE
    assert out == ""
    assert "bgdsim: error:" in err
    assert "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "--version")
    assert rc == EXIT_OK
    assert out.startswith("bgdsim ")


# ----------------------------------------------------------------------------- console script


def test_console_script_bad_input_exits_2(scenario: Path) -> None:
    exe = Path(sys.executable).parent / ("bgdsim.exe" if sys.platform == "win32" else "bgdsim")
    if not exe.exists():
        pytest.skip("the bgdsim console script is not installed next to the interpreter")
    proc = subprocess.run(
        [str(exe), "run", str(scenario), "--set", "cluster.byzantine=101"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == EXIT_USAGE
    assert proc.stdout == ""
    assert proc.stderr.startswith("bgdsim: error:")
    assert "cluster.byzantine" in proc.stderr
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- topology


def test_topology_draws_the_scenarios_network(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = ["--set", 'network.topology={kind="tree", relays=4}']
    rc, out, _ = cli(capsys, "topology", scenario, *tree, "--out", tmp_path / "t.png")
    assert rc == EXIT_OK and "4 relays, 100 workers" in out
    assert (tmp_path / "t.png").stat().st_size > 1000
    rc, _, _ = cli(capsys, "topology", scenario, "--out", tmp_path / "t.svg")
    assert rc == EXIT_OK and (tmp_path / "t.svg").read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--out", "t.jpg"], "--out t.jpg: the image must be a .png or .svg file"),
        (["--set", 'network.topology={kind="tree", relays=500}', "--out", "t.png"],
         "network.topology: tree topology: relays (500) must be <="),
        (["--set", 'network.topology={kind="graphml", path="nowhere.graphml"}', "--out",
          "t.png"], "network.topology: "),
    ],
)  # fmt: skip
def test_topology_bad_input_exits_2(
    scenario: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    rc, _, err = cli(capsys, "topology", scenario, *extra)
    assert rc == EXIT_USAGE
    assert fragment in err and "Traceback" not in err


def test_a_disconnected_graphml_topology_is_an_input_error(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import networkx as nx

    g = nx.Graph()
    g.add_edge("server", "r0", latency=0.01)
    for j in range(100):
        g.add_edge(f"w{j}", "r0" if j < 98 else "island")
    nx.write_graphml(g, tmp_path / "g.graphml")
    topo = ["--set", 'network.topology={kind="graphml", path="g.graphml"}']
    rc, _, err = cli(capsys, "run", scenario, *TINY, *topo)
    assert rc == EXIT_USAGE
    assert "network.topology" in err and "disconnected: workers w98, w99" in err


# ----------------------------------------------------------------------------- runtimes, sweeps

TINY_M = ["--set", "cluster.workers=6", "--set", "cluster.byzantine=1", "--set",
          "server.aggregator.batches=2", "--set", "problem.samples=600"]  # fmt: skip


@pytest.mark.parametrize("runtime", ["asyncio", "tcp"])
def test_run_on_a_live_runtime_matches_simpy_and_verifies(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], runtime: str
) -> None:
    import json

    from bgdsim.replay import verify

    base = [*TINY, *TINY_M, "--json", "--set", 'network.latency={kind="constant", value=0.001}']
    rc, out, _ = cli(capsys, "run", scenario, *base, "--log", tmp_path / "s.jsonl")
    assert rc == EXIT_OK
    simpy_errors = json.loads(out)["errors"]
    rc, out, _ = cli(capsys, "run", scenario, *base, "--runtime", runtime, "--time-scale",
                     "0.2", "--log", tmp_path / "l.jsonl")  # fmt: skip
    assert rc == EXIT_OK
    assert json.loads(out)["errors"] == simpy_errors
    assert verify(tmp_path / "l.jsonl").ok


def test_bad_time_scale_and_bad_worker_address_exit_2(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = cli(capsys, "run", scenario, *TINY, "--runtime", "asyncio", "--time-scale", "0")
    assert rc == EXIT_USAGE and "--time-scale" in err
    rc, _, err = cli(capsys, "worker", "--connect", "nohost", "--id", "0", "--key-file", "k")
    assert rc == EXIT_USAGE and "worker 0" in err and "Traceback" not in err


def test_sweep_and_plot_from_the_command_line(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        'scenario = "paper.toml"\nseeds = 2\n[grid]\n"cluster.byzantine" = [0, 1]\n'
        'rounds = [2]\n"problem.samples" = [1000]\n',
        encoding="utf-8",
    )
    rc, out, _ = cli(capsys, "sweep", sweep, "--jobs", "1", "--out", tmp_path / "res")
    assert rc == EXIT_OK and "4 runs" in out
    assert "sweep s: 0 runs already done, 4 to run\n" in out
    rc, out, _ = cli(capsys, "sweep", sweep, "--jobs", "1", "--out", tmp_path / "res")
    assert rc == EXIT_OK and out.startswith("sweep s: 4 runs already done, 0 to run\n")
    rc, out, _ = cli(capsys, "plot", tmp_path / "res", "--out", tmp_path / "figs")
    assert rc == EXIT_OK and ".png" in out
    sweep.write_text('scenario = "paper.toml"\nseeds = 1\n[grid]\n"cluster.byzantin" = [1]\n',
                     encoding="utf-8")  # fmt: skip
    rc, _, err = cli(capsys, "sweep", sweep, "--out", tmp_path / "res2")
    assert rc == EXIT_USAGE and "cluster.byzantin" in err and "did you mean" in err
    rc, _, err = cli(capsys, "plot", tmp_path / "nothing-here")
    assert rc == EXIT_USAGE and "Traceback" not in err


def test_worker_exits_1_naming_a_server_that_goes_away(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import threading

    from bgdsim.live import write_keys

    write_keys(tmp_path, 1)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def hang_up() -> None:
            conn, _ = listener.accept()
            conn.close()  # before any greeting: the server went away

        threading.Thread(target=hang_up, daemon=True).start()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        key = tmp_path / "worker-0.key"
        rc, _, err = cli(capsys, "worker", "--connect", address, "--id", "0", "--key-file", key)
    assert rc == 1
    assert err.startswith("bgdsim: worker 0: connection lost: the server closed the connection")
    assert "Traceback" not in err


def test_serve_names_the_workers_it_waits_for() -> None:
    from bgdsim.cli.live import _ids

    assert _ids({2, 0, 1}) == "0, 1, 2"
    assert _ids(set(range(100))) == "0, 1, 2, 3, 4, 5, 6, 7, … (92 more)"


def test_progress_only_on_a_terminal_and_never_with_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bgdsim.cli.progress import RoundBar, show_progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert show_progress(quiet=False) and not show_progress(quiet=True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not show_progress(quiet=False)
    with RoundBar("x", 3, enabled=False) as bar:
        bar(1, 3)  # disabled: draws nothing, starts nothing
        assert bar._bar is None


def test_run_quiet_and_piped_print_no_progress(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra in ([], ["--quiet"]):
        rc, out, err = cli(capsys, "run", scenario, *TINY, "--no-log", "--json", *extra)
        assert rc == EXIT_OK and err == "" and json.loads(out)["rounds"] == 3


def test_serve_keys_default_under_results() -> None:
    from bgdsim.cli.parser import _parser

    args = _parser().parse_args(["serve", "s.toml", "--listen", "127.0.0.1:7000"])
    assert args.keys == Path("results") / "keys"  # git-ignored, never the repository root


# ----------------------------------------------------------------------------- no overwriting


def test_run_refuses_an_existing_log_unless_overwrite(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "x.jsonl"
    assert cli(capsys, "run", scenario, *TINY, "--log", log)[0] == EXIT_OK
    before = log.read_bytes(), log.with_suffix(".bin").read_bytes()
    rc, out, err = cli(capsys, "run", scenario, *TINY, "--set", "seed=1", "--log", log)
    assert rc == EXIT_USAGE and out == ""
    assert err == (
        f"bgdsim: error: --log {log}: exists (use --overwrite to replace it, or choose "
        "another path)\n"
    )
    assert (log.read_bytes(), log.with_suffix(".bin").read_bytes()) == before
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--seed", "1", "--log", log, "--overwrite",
                     "--json")  # fmt: skip
    assert rc == EXIT_OK and Path(json.loads(out)["log"]) == log
    assert log.read_bytes() != before[0]


def test_run_twice_the_default_log_advances(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = []
    for extra in ([], ["--set", "server.aggregator=mean"], ["--runtime", "vector"]):
        rc, out, _ = cli(capsys, "run", scenario, *TINY, *extra, "--json")
        assert rc == EXIT_OK
        logs.append(json.loads(out)["log"])
    assert logs == [f"logs/{NAME}-seed0{n}.jsonl" for n in ("", "-2", "-3")]
    header = json.loads((tmp_path / logs[0]).read_text(encoding="utf-8").splitlines()[0])
    assert header["scenario"]["server"]["aggregator"] != "mean"  # the first run's, intact


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_run_never_writes_a_log_over_the_scenario_or_into_a_bin(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], overwrite: list[str]
) -> None:
    before = scenario.read_bytes()
    rc, _, err = cli(capsys, "run", scenario, *TINY, "--log", scenario, *overwrite)
    assert rc == EXIT_USAGE and err.startswith(f"bgdsim: error: --log {scenario}: ")
    assert ".jsonl" in err and len(err.splitlines()) == 1
    assert scenario.read_bytes() == before
    rc, _, err = cli(capsys, "run", scenario, *TINY, "--log", tmp_path / "out.bin", *overwrite)
    assert rc == EXIT_USAGE and "out.bin" in err and ".jsonl" in err
    assert not (tmp_path / "out.bin").exists()
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"not": "a bgdsim log"}\n', encoding="utf-8")
    rc, _, err = cli(capsys, "run", scenario, *TINY, "--log", foreign, *overwrite)
    assert rc == EXIT_USAGE and "not a bgdsim event log" in err
    assert foreign.read_text(encoding="utf-8") == '{"not": "a bgdsim log"}\n'


def test_replay_set_never_writes_over_its_parent(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = cli(capsys, "run", scenario, *TINY, "--json")
    parent = tmp_path / json.loads(out)["log"]
    before = parent.read_bytes(), parent.with_suffix(".bin").read_bytes()
    rc, out, _ = cli(capsys, "replay", parent, "--set", "server.aggregator=mean", "--json")
    assert rc == EXIT_OK
    assert Path(json.loads(out)["log"]) == Path("logs") / f"{NAME}-seed0-2.jsonl"
    assert (parent.read_bytes(), parent.with_suffix(".bin").read_bytes()) == before
    rc, _, err = cli(capsys, "replay", parent, "--set", "server.aggregator=mean", "--log-out",
                     parent, "--overwrite")  # fmt: skip
    assert rc == EXIT_USAGE and f"--log-out {parent}: is the log being re-run" in err
    child = tmp_path / "logs" / f"{NAME}-seed0-2.jsonl"
    rc, _, err = cli(capsys, "replay", parent, "--set", "server.aggregator=mean", "--log-out",
                     child)  # fmt: skip
    assert rc == EXIT_USAGE and "exists (use --overwrite" in err
    assert (parent.read_bytes(), parent.with_suffix(".bin").read_bytes()) == before


def test_two_runs_on_one_log_path_the_second_exits_2(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "x.jsonl"
    slow = ["--set", "rounds=40", "--set", "problem.samples=2000", "--runtime", "asyncio",
            "--time-scale", "0.05"]  # fmt: skip
    first = subprocess.Popen(
        [sys.executable, "-m", "bgdsim.cli", "run", str(scenario), *slow, "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        for _ in range(600):  # wait until the first run has its log open
            if log.exists() or first.poll() is not None:
                break
            time.sleep(0.05)
        assert log.exists()
        for extra in ([], ["--overwrite"]):
            rc, _, err = cli(capsys, "run", scenario, *TINY, "--log", log, *extra)
            assert rc == EXIT_USAGE and len(err.splitlines()) == 1
            assert "exists" in err or "being written by another run" in err
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == EXIT_OK, err
    from bgdsim.replay import verify

    assert verify(log).ok  # the first run's log, whole


def test_serve_that_cannot_bind_exits_2_and_leaves_its_log(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    log = tmp_path / "s.jsonl"
    assert cli(capsys, "run", scenario, *TINY, "--log", log)[0] == EXIT_OK
    before = log.read_bytes(), log.with_suffix(".bin").read_bytes()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        rc, _, err = cli(capsys, "serve", scenario, *TINY, "--listen", listen, "--keys",
                         tmp_path / "keys", "--log", log, "--overwrite")  # fmt: skip
    assert rc == EXIT_USAGE and f"--listen {listen}: cannot listen" in err
    assert (log.read_bytes(), log.with_suffix(".bin").read_bytes()) == before
    rc, _, err = cli(capsys, "serve", scenario, *TINY, "--listen", "127.0.0.1:0", "--keys",
                     tmp_path / "keys", "--log", log)  # fmt: skip
    assert rc == EXIT_USAGE and f"--log {log}: exists" in err
