"""bgdsim.sweep(dict): the notebook API returns results.csv as a DataFrame."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

import bgdsim
from bgdsim.sweep import SweepError, run_sweep
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TINY = {
    "name": "tiny",
    "rounds": 3,
    "problem": {"dim": 5, "samples": 2000},
    "cluster": {"workers": 20, "byzantine": 2},
    "server": {"aggregator": {"kind": "gmom", "batches": 5}},
}
GRID = {"cluster.byzantine": [0, 2], "server.aggregator.batches": [4, 5]}


def test_a_dict_gives_the_rows_and_columns_of_results_csv(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('name = "tiny"\nrounds = 3\n[problem]\ndim = 5\nsamples = 2000\n'
                        "[cluster]\nworkers = 20\nbyzantine = 2\n", encoding="utf-8")  # fmt: skip
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('scenario = "tiny.toml"\nseeds = 2\n[grid]\n'
                          'cluster.byzantine = [0, 2]\n"server.aggregator.batches" = [4, 5]\n',
                          encoding="utf-8")  # fmt: skip
    csv_path = run_sweep(sweep_file, jobs=1, out=tmp_path / "file", progress=False)
    with open(csv_path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))

    df = bgdsim.sweep({"scenario": str(scenario), "seeds": 2, "grid": GRID}, jobs=1)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == header
    assert len(df) == 8
    expected = pd.read_csv(csv_path)
    assert list(df["final_error"]) == list(expected["final_error"])
    assert list(df["cluster.byzantine"]) == [0, 0, 0, 0, 2, 2, 2, 2]
    assert bgdsim.sweep.run_sweep is run_sweep  # the file-based API is still there


def test_a_scenario_table_is_kept_in_out_and_a_rerun_runs_nothing(tmp_path: Path) -> None:
    pairs = {"cluster.byzantine": [1, 2], "server.aggregator.batches": [4, 5]}
    spec = {"scenario": TINY, "seeds": [3], "zip": [pairs]}
    out = tmp_path / "out"
    first = bgdsim.sweep(spec, out=out, jobs=1)
    assert list(first["seed"]) == [3, 3]
    assert list(first["k"]) == [4, 5]
    kept = tomllib.loads((out / "scenario.toml").read_text(encoding="utf-8"))
    assert kept["server"]["aggregator"] == {"kind": "gmom", "batches": 5}
    plans: list[tuple[int, int]] = []
    again = bgdsim.sweep(spec, out=out, jobs=1, plan=lambda done, left: plans.append((done, left)))
    assert plans == [(2, 0)]
    pd.testing.assert_frame_equal(first, again)


def test_bad_specs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match=r"grid\.cluster\.byzantin"):
        bgdsim.sweep({"scenario": TINY, "seeds": 1, "grid": {"cluster.byzantin": [1]}})
    with pytest.raises(SweepError, match="seeds"):
        bgdsim.sweep({"scenario": TINY})
    with pytest.raises(SweepError, match="no such file"):
        bgdsim.sweep({"scenario": str(tmp_path / "missing.toml"), "seeds": 1})
    with pytest.raises(SweepError, match="out="):
        bgdsim.sweep({"scenario": TINY, "seeds": 1}, logs=True)
    with pytest.raises(SweepError, match="expected a dict"):
        bgdsim.sweep([1, 2])  # type: ignore[arg-type]


def test_the_readme_notebook_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## In a notebook\n.*?```python\n(.*?)```", readme, re.S)
    assert block is not None, "the README's notebook example moved"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "paper_linear_regression.toml", tmp_path / "scenarios")
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README", "exec"), namespace)
    df = namespace["df"]
    assert isinstance(df, pd.DataFrame)
    assert sorted(set(df["server.aggregator"])) == ["gmom", "krum"]
    assert len(df) == 10
    shown = capsys.readouterr().out
    assert re.search(r"gmom +0\.0\d+ +0\.0\d+ +0\.0\d+\n", shown), shown
    fig = namespace["fig"]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["krum", "gmom ($k$ = 20)"]
    assert (tmp_path / "krum_vs_gmom.svg").stat().st_size > 1000
