"""Plugins: the example package's aggregator and attack, found through its entry points.

The package is made importable the way an installed one is: its sources and a
``.dist-info`` folder holding the entry points its ``pyproject.toml`` declares, on the
``PYTHONPATH`` of a fresh interpreter (the running one is left as it is).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "bgdsim-example-plugin"
SCENARIO = EXAMPLE / "scenario.toml"


def _site(folder: Path, name: str, groups: dict[str, dict[str, str]]) -> Path:
    """A folder holding the ``.dist-info`` of distribution ``name`` with ``groups``."""
    dist = folder / f"{name.replace('-', '_')}-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = []
    for group, eps in groups.items():
        lines += [f"[{group}]", *(f"{n} = {v}" for n, v in eps.items()), ""]
    (dist / "entry_points.txt").write_text("\n".join(lines))
    return folder


def _env(*paths: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (*paths, ROOT))
    env["COLUMNS"] = "200"
    return env


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of an interpreter with the example plugin installed."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    site = _site(tmp_path_factory.mktemp("site"), project["name"], project["entry-points"])
    return _env(site, EXAMPLE / "src")


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgdsim.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_example_plugin_runs_and_its_log_verifies_from_the_cli(
    plugin: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "plugin.jsonl"
    run = _cli(plugin, tmp_path, "run", str(SCENARIO), "--log", str(log), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["rounds"] == 10 and result["final_error"] < 0.5 * result["errors"][0]
    header = json.loads(log.read_text().splitlines()[0])
    assert header["scenario"]["server"]["aggregator"] == {"kind": "cge", "slack": 1}
    assert header["scenario"]["adversary"]["attack"] == {"kind": "constant_drift", "shift": 20.0}
    check = _cli(plugin, tmp_path, "replay", str(log), "--verify")
    assert (check.returncode, check.stdout) == (0, "verified 10 rounds\n"), check.stderr
    # without the plugin the log's rule is unknown: bad input, named
    bare = _cli(_env(), tmp_path, "replay", str(log), "--verify")
    assert bare.returncode == 2
    assert "server.aggregator: unknown aggregator 'cge'" in bare.stderr


DRIVER = """
import sys
import bgdsim

bgdsim.load_scenario()  # built-ins only: no plugin is imported
assert not any(m.startswith("bgdsim_example_plugin") for m in sys.modules), "eager"
from bgdsim.cli import main

for argv in ARGVS:
    print("$", *argv, flush=True)
    print("rc", main(argv), flush=True)
"""


def test_list_validate_rerun_and_sweep_know_the_plugin(
    plugin: dict[str, str], tmp_path: Path
) -> None:
    log, child = tmp_path / "p.jsonl", tmp_path / "c.jsonl"
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'scenario = "{SCENARIO.as_posix()}"\nseeds = [0]\n'
                     '[grid]\n"server.aggregator.slack" = [0, 1]\n')  # fmt: skip
    argvs = [
        ["list", "aggregators"],
        ["list", "attacks"],
        ["validate", str(SCENARIO), "--set", "server.aggregator.slak=1"],
        ["validate", str(SCENARIO), "--set", 'server.aggregator="cgee"'],
        ["validate", str(SCENARIO), "--set", "adversary.attack.shift=inf"],
        ["run", str(SCENARIO), "--set", "rounds=3", "--log", str(log), "--json"],
        # the recorded world, another defence; the plugin's attack is asked again
        ["replay", str(log), "--set", "server.aggregator=geomed",
         "--log-out", str(child), "--json"],
        ["replay", str(child), "--verify"],
        ["sweep", str(sweep), "--out", str(tmp_path / "out"), "--jobs", "1"],
    ]  # fmt: skip
    script = DRIVER.replace("ARGVS", repr(argvs))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=plugin,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out, err = done.stdout, done.stderr
    codes = [int(line.split()[1]) for line in out.splitlines() if line.startswith("rc ")]
    assert codes == [0, 0, 2, 2, 2, 0, 0, 0, 0], out + err
    assert "  cge " in out and "  constant_drift " in out
    assert (
        "server.aggregator.slak: the aggregator 'cge' has no parameter 'slak' "
        "(did you mean 'slack'?); its parameters: slack" in err
    )
    assert "server.aggregator: unknown aggregator 'cgee' (did you mean 'cge'?)" in err
    assert "adversary.attack.shift: Input should be a finite number" in err
    assert "verified 3 rounds" in out
    rows = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].split(",")[1] == "server.aggregator.slack"


def test_a_plugin_that_fails_to_import_is_one_error_naming_its_entry_point(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path / "site", "broken-plugin",
                 {"bgdsim.aggregators": {"broken": "no_such_module_y.rules:broken"}})  # fmt: skip
    paper = ROOT / "scenarios" / "paper_linear_regression.toml"
    done = _cli(_env(site), tmp_path, "validate", str(paper), "--set",
                'server.aggregator="broken"')  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"bgdsim: error: {paper}: server.aggregator: plugin entry point 'broken = "
        "no_such_module_y.rules:broken' in group bgdsim.aggregators of broken-plugin failed "
        "to load: ModuleNotFoundError: No module named 'no_such_module_y'"
    ]
