"""Sweeps: expansion of grid × zip × seeds, results.csv, resuming, engines, bad input."""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

import bgdsim
from bgdsim import sweep
from bgdsim.sweep import COLUMNS, SweepError, SweepRunError, load_sweep, read_results, run_sweep
from tests.conftest import ROOT

SCENARIO = """\
name = "tiny"
rounds = 3
[problem]
dim = 5
samples = 2000
[cluster]
workers = 20
byzantine = 2
[server]
aggregator = { kind = "gmom", batches = 5 }
"""


def write_sweep(tmp_path: Path, body: str, scenario: str = SCENARIO) -> Path:
    """A sweep file ``sweeps/s.toml`` whose scenario is ``../tiny.toml``."""
    (tmp_path / "tiny.toml").write_text(scenario, encoding="utf-8")
    path = tmp_path / "sweeps" / "s.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'scenario = "../tiny.toml"\n{body}', encoding="utf-8")
    return path


SMALL = """\
seeds = [3, 1]
[grid]
cluster.byzantine = [0, 4]
"""


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_grid_and_zip_expand_in_order(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        """\
seeds = 2
[grid]
cluster.byzantine = [0, 1, 2]
"server.missing" = ["zero", "exclude"]
[[zip]]
"server.aggregator.batches" = [4, 5]
server.step_size = [0.25, 0.5]
""",
    )
    spec = load_sweep(path)
    assert spec.keys == [
        "cluster.byzantine",
        "server.missing",
        "server.aggregator.batches",
        "server.step_size",
    ]
    cells = spec.cells()
    assert len(cells) == 3 * 2 * 2
    assert [c.index for c in cells] == list(range(12))
    assert cells[0].overrides == {
        "cluster.byzantine": 0,
        "server.missing": "zero",
        "server.aggregator.batches": 4,
        "server.step_size": 0.25,
    }
    assert cells[1].overrides["server.aggregator.batches"] == 5  # the zip group varies fastest
    assert cells[1].overrides["server.step_size"] == 0.5  # ... its lists together
    assert cells[2].overrides["server.missing"] == "exclude"
    assert cells[4].overrides["cluster.byzantine"] == 1
    combos = {tuple(c.overrides.values()) for c in cells}
    assert len(combos) == 12
    assert all((b, s) in {(4, 0.25), (5, 0.5)} for *_, b, s in combos)
    assert spec.seeds == [0, 1]
    assert spec.scenario_file == (tmp_path / "tiny.toml").resolve()


def test_seeds_as_list_or_count_and_no_grid(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, "seeds = [7, 0, 3]\n"))
    assert spec.seeds == [7, 0, 3]
    assert [c.overrides for c in spec.cells()] == [{}]
    assert load_sweep(write_sweep(tmp_path, "seeds = 4\n")).seeds == [0, 1, 2, 3]


def test_cell_ids_are_stable_and_distinct(tmp_path: Path) -> None:
    body = '[grid]\ncluster.byzantine = [0, 1]\n"server.aggregator.batches" = [4, 5]\n'
    ids = [c.id for c in load_sweep(write_sweep(tmp_path, "seeds = 1\n" + body)).cells()]
    assert len(set(ids)) == 4
    # the seeds, quoting and key order do not change a cell's id
    body2 = '[grid]\nserver.aggregator.batches = [4, 5]\n"cluster.byzantine" = [0, 1]\n'
    again = load_sweep(write_sweep(tmp_path, "seeds = [5, 6]\n" + body2)).cells()
    assert {c.id: c.overrides for c in again}.keys() == set(ids)
    assert all(len(i) == 12 and int(i, 16) >= 0 for i in ids)


def test_results_equal_direct_runs(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SMALL + '"server.aggregator" = ["gmom", "mean"]\n')
    out = tmp_path / "out"
    csv_path = run_sweep(path, jobs=1, out=out, progress=False)
    assert csv_path == out / "results.csv"
    header = rows_of(csv_path)[0]
    assert header == ["cell", "cluster.byzantine", "server.aggregator", "seed", *COLUMNS]
    rows = read_results(out)
    spec = load_sweep(path)
    expected = [(c, s) for c in spec.cells() for s in spec.seeds]
    assert [(r["cell"], r["seed"]) for r in rows] == [(c.id, s) for c, s in expected]
    for row, (cell, seed) in zip(rows, expected, strict=True):
        assert row["cluster.byzantine"] == cell.overrides["cluster.byzantine"]
        assert row["server.aggregator"] == cell.overrides["server.aggregator"]
        sc = bgdsim.load_scenario(tmp_path / "tiny.toml", cell.overrides, seed=seed)
        res = bgdsim.run(sc, log_path=None)
        assert row["final_error"] == res.final_error  # exact: repr round-trips
        assert row["min_error"] == float(res.errors.min())
        hits = [t for t, e in enumerate(res.errors) if e <= 2 * res.floor]
        assert row["rounds_to_floor"] == (hits[0] if hits else None)
        assert row["rounds_done"] == res.rounds == 3
        assert (row["floor"], row["k"]) == (res.floor, res.k)
        assert row["k"] == (1 if row["server.aggregator"] == "mean" else sc.server.batches)
        assert row["sim_time"] == res.sim_time > 0
        assert row["status"] == res.status
        for key in ("up_sent", "up_delivered", "up_dropped", "up_late", "up_rejected"):
            assert row[key] == res.counts[key]
        assert row["down_dropped"] == res.counts["down_dropped"]
        assert row["wall_seconds"] > 0
    assert not (out / "logs").exists()


def test_logs_are_written_per_cell_and_seed(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, "seeds = 1\n[grid]\ncluster.byzantine = [0, 1]\n")
    out = tmp_path / "out"
    run_sweep(path, jobs=1, out=out, logs=True, progress=False)
    names = sorted(p.name for p in (out / "logs").glob("*.jsonl"))
    assert names == sorted(f"{c.id}-seed0.jsonl" for c in load_sweep(path).cells())
    events = bgdsim.read_events(out / "logs" / names[0])
    assert {e["event"] for e in events} >= {"run_start", "run_end"}


def counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, int]]:
    """Make the (in-process, jobs=1) worker record each call."""
    calls: list[tuple[Any, int]] = []
    real = sweep.runner.run_cell

    def run_cell(scenario: Any, overrides: Any, seed: int, log_path: Any = None) -> Any:
        calls.append((dict(overrides), seed))
        return real(scenario, overrides, seed, log_path)

    monkeypatch.setattr(sweep.runner, "run_cell", run_cell)
    return calls


def test_resume_skips_finished_runs_and_repairs_a_torn_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "out"
    calls = counting(monkeypatch)
    csv_path = run_sweep(path, jobs=1, out=out, progress=False)
    assert len(calls) == 4
    lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
    # drop the 2nd run's row; cut the last row mid-line, as a kill would
    kept, dropped, torn = lines[:2] + lines[3:4], lines[2], lines[4]
    csv_path.write_text("".join(kept) + torn[: len(torn) // 2], encoding="utf-8")
    calls.clear()
    run_sweep(path, jobs=1, out=out, progress=False)
    redone = {(c["cluster.byzantine"], s) for c, s in calls}
    lost = {(int(r[1]), int(r[2])) for r in csv.reader([dropped, torn])}
    assert redone == lost
    final = rows_of(csv_path)
    assert len(final) == 5
    assert sorted((r[0], r[2]) for r in final[1:]) == sorted(
        (c.id, str(s)) for c in load_sweep(path).cells() for s in (3, 1)
    )
    for line in kept[1:]:  # rows kept from the first run are untouched
        assert line in csv_path.read_text(encoding="utf-8")
    calls.clear()
    run_sweep(path, jobs=1, out=out, progress=False)  # all done: nothing runs
    assert calls == []
    assert len(rows_of(csv_path)) == 5


def test_resume_after_a_torn_header(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("cell,clus", encoding="utf-8")
    run_sweep(path, jobs=1, out=out, progress=False)
    assert len(read_results(out)) == 4


def test_a_grown_sweep_runs_only_the_new_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, SMALL), jobs=1, out=out, progress=False)
    calls = counting(monkeypatch)
    grown = "seeds = [3, 1, 2]\n[grid]\ncluster.byzantine = [0, 4, 5]\n"
    plans: list[tuple[int, int]] = []
    path = write_sweep(tmp_path, grown)
    run_sweep(path, jobs=1, out=out, progress=False, plan=lambda *p: plans.append(p))
    assert len(calls) == 9 - 4
    assert plans == [(4, 9 - 4)]
    run_sweep(path, jobs=1, out=out, progress=False, plan=lambda *p: plans.append(p))
    assert plans[1:] == [(9, 0)] and len(calls) == 9 - 4
    rows = read_results(out)
    assert [(r["cluster.byzantine"], r["seed"]) for r in rows] == [
        (q, s) for q in (0, 4, 5) for s in (3, 1, 2)
    ]


def test_results_of_another_sweep_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, SMALL), jobs=1, out=out, progress=False)
    other_keys = write_sweep(tmp_path, "seeds = 1\n[grid]\nserver.aggregator.batches = [4]\n")
    with pytest.raises(SweepError, match="has columns"):
        run_sweep(other_keys, jobs=1, out=out, progress=False)
    other_base = write_sweep(tmp_path, SMALL, SCENARIO.replace("rounds = 3", "rounds = 4"))
    with pytest.raises(SweepError, match="different base scenario"):
        run_sweep(other_base, jobs=1, out=out, progress=False)


def test_a_failing_run_is_reported_and_the_others_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sweep.runner.run_cell

    def run_cell(scenario: Any, overrides: Any, seed: int, log_path: Any = None) -> Any:
        if overrides["cluster.byzantine"] == 4 and seed == 1:
            raise RuntimeError("boom")
        return real(scenario, overrides, seed, log_path)

    monkeypatch.setattr(sweep.runner, "run_cell", run_cell)
    out = tmp_path / "out"
    with pytest.raises(SweepRunError, match=r"1 of 4 runs failed(?s:.*)RuntimeError: boom"):
        run_sweep(write_sweep(tmp_path, SMALL), jobs=1, out=out, progress=False)
    assert len(read_results(out)) == 3


def numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows]


def children() -> set[int]:
    """Child processes, but the resource trackers (one per process, started once)."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if not any("resource_tracker" in part for part in p.cmdline()):
                out.add(p.pid)
    return out


def test_local_and_dask_engines_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path, SMALL)
    serial = numbers(read_results(run_sweep(path, jobs=1, out=tmp_path / "a", progress=False)))
    before, threads = children(), set(threading.enumerate())
    run_sweep(path, engine="local", jobs=2, out=tmp_path / "b", progress=True)
    assert "sweep s" in capsys.readouterr().err
    assert numbers(read_results(tmp_path / "b")) == serial
    try:
        run_sweep(path, engine="dask", jobs=2, out=tmp_path / "c", progress=False)
    except OSError as exc:  # pragma: no cover - e.g. no local sockets
        pytest.skip(f"dask LocalCluster cannot start: {exc}")
    assert numbers(read_results(tmp_path / "c")) == serial

    def stray() -> set[str]:  # threads left, but distributed's global offload thread
        left = set(threading.enumerate()) - threads
        return {t.name for t in left if not t.name.startswith("Dask-Offload")}

    deadline = time.monotonic() + 10  # distributed's profiler thread may take a moment
    while (children() - before or stray()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children() <= before  # every worker process stopped
    assert not stray()


def test_local_engine_forks_or_starts_fresh_workers_with_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgdsim.sweep import _engines

    path = write_sweep(tmp_path, SMALL)
    serial = numbers(read_results(run_sweep(path, jobs=1, out=tmp_path / "a", progress=False)))
    used: list[str] = []
    for name in ("_forked", "_loky"):
        real = getattr(_engines, name)
        monkeypatch.setattr(_engines, name, lambda *a, _r=real, _n=name: used.append(_n) or _r(*a))
    for forks in (True, False):
        monkeypatch.setattr(_engines, "can_fork", lambda _f=forks: _f)
        run_sweep(path, engine="local", jobs=2, out=tmp_path / f"{forks}", progress=False)
        assert numbers(read_results(tmp_path / f"{forks}")) == serial
    assert used == ["_forked", "_loky"]


def test_workers_are_not_forked_while_another_thread_runs() -> None:
    from bgdsim.sweep import _engines

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # it might hold a lock across the fork, held forever in the child
        assert not _engines.can_fork()
    finally:
        stop.set()
        other.join()


def test_a_dask_scheduler_that_does_not_answer(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SMALL)
    t0 = time.monotonic()
    with pytest.raises(SweepError, match=r"dask scheduler tcp://127.0.0.1:1: no answer within 2 s"):
        run_sweep(
            path,
            engine="dask",
            scheduler="tcp://127.0.0.1:1",
            out=tmp_path / "out",
            progress=False,
            timeout=2,
        )
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "seeds = 1\n[grid]\ncluster.byzantne = [1]\n",
            r"s\.toml: grid\.cluster\.byzantne = 1: .*tiny\.toml: cluster\.byzantne: "
            r"unknown key \(did you mean 'byzantine'\?\)",
        ),
        (
            'seeds = 1\n[grid]\ncluster.byzantine = [1, "x"]\n',
            r"grid\.cluster\.byzantine = x: .*cluster\.byzantine: Input should be a valid integer",
        ),
        (
            "seeds = 1\n[[zip]]\ncluster.workers = [20, 40]\ncluster.byzantine = [3, 50]\n",
            r"zip\[0\]\.cluster\.byzantine = 50: .*must be <= cluster\.workers \(40\)",
        ),
        (
            "seeds = 1\n[grid]\nserver.round_timeout = []\n",
            r"grid\.server\.round_timeout: empty list",
        ),
        (
            "seeds = 1\n[grid]\nserver.round_timeout = 4\n",
            r"grid\.server\.round_timeout: must be a list",
        ),
        ("seeds = []\n", r"seeds: empty list"),
        ("seeds = 0\n", r"seeds: a count must be >= 1"),
        ("seeds = [1, -2]\n", r"seeds\[1\]: Input should be greater than or equal to 0"),
        ("seeds = [1, 1]\n", r"seeds: seed 1 is given twice"),
        ("[grid]\nrounds = [3]\n", r"seeds: Field required"),
        ("seeds = 1\ngird = {}\n", r"gird: unknown key \(did you mean 'grid'\?\)"),
        ("seeds = 1\n[grid]\nseed = [1, 2]\n", r"grid\.seed: .*result column \(use seeds"),
        ("seeds = 1\n[grid]\nrounds = [3, 3]\n", r"grid\.rounds: rounds = 3 is given twice"),
        (
            "seeds = 1\n[[zip]]\nserver.aggregator.batches = [4, 5]\nrounds = [1, 2, 3]\n",
            r"zip\[0\]: lists of unequal length \(server\.aggregator\.batches has 2, "
            r"rounds has 3\)",
        ),
        (
            "seeds = 1\n[grid]\nrounds = [1]\n[[zip]]\nrounds = [2]\n",
            r"zip\[0\]\.rounds: also in grid",
        ),
        (
            "seeds = 1\n[grid]\nnetwork.latency = [{kind = 'constant', value = 0.1}]\n"
            "[[zip]]\nnetwork.latency.value = [0.2]\n",
            r"zip\[0\]\.network\.latency\.value: overlaps grid\.network\.latency",
        ),
        ("seeds = 1\n[grid\n", r"s\.toml: not valid TOML"),
    ],
)
def test_bad_sweep_files(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        load_sweep(write_sweep(tmp_path, body))


def test_missing_files_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="no such sweep file"):
        load_sweep(tmp_path / "nope.toml")
    path = write_sweep(tmp_path, "seeds = 1\n")
    path.write_text('scenario = "missing.toml"\nseeds = 1\n', encoding="utf-8")
    with pytest.raises(SweepError, match=r"scenario: no such file 'missing.toml'"):
        load_sweep(path)
    good = write_sweep(tmp_path, SMALL)
    with pytest.raises(SweepError, match="engine"):
        run_sweep(good, engine="spark", out=tmp_path / "o")  # type: ignore[arg-type]
    with pytest.raises(SweepError, match="scheduler: only with engine 'dask'"):
        run_sweep(good, scheduler="tcp://127.0.0.1:1", out=tmp_path / "o")
    with pytest.raises(SweepError, match="jobs"):
        run_sweep(good, jobs=0, out=tmp_path / "o")


def test_table_and_float_values_round_trip(tmp_path: Path) -> None:
    body = """\
seeds = 1
[grid]
network.latency = [{kind = "constant", value = 0.01}, {kind = "exponential", mean = 0.02}]
server.step_size = [0.5]
"""
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, body), jobs=1, out=out, progress=False)
    rows = read_results(out)
    assert [r["network.latency"] for r in rows] == [
        {"kind": "constant", "value": 0.01},
        {"kind": "exponential", "mean": 0.02},
    ]
    assert rows[0]["server.step_size"] == 0.5
    assert rows_of(out / "results.csv")[1][1] == '{"kind":"constant","value":0.01}'


def test_the_example_sweep_loads() -> None:
    spec = load_sweep(ROOT / "scenarios" / "sweeps" / "q_and_k.toml")
    assert spec.scenario_file == (ROOT / "scenarios" / "paper_linear_regression.toml").resolve()
    assert len(spec.cells()) == 9
    assert spec.seeds == [0, 1]
    assert spec.keys == ["cluster.byzantine", "server.aggregator.batches", "rounds"]


MAIN_SCRIPT = """\
import sys
import numpy as np
import bgdsim
from bgdsim import aggregators
from bgdsim.sweep import _engines

@aggregators.register("my_mean")
def my_mean(vectors):
    return np.asarray(vectors).mean(axis=0)

def main():
    spec = {"scenario": "tiny.toml", "seeds": 1,
            "grid": {"server.aggregator": ["my_mean", "mean"]}}
    for engine, fork in (("local", True), ("local", False), ("dask", None)):
        if fork is not None:
            _engines.can_fork = lambda f=fork: f
        df = bgdsim.sweep(spec, engine=engine, jobs=2, progress=False)
        errors = dict(zip(df["server.aggregator"], df["final_error"]))
        assert errors["my_mean"] == errors["mean"], errors
        print(engine, fork, "ok")

if __name__ == "__main__":
    main()
"""


def test_a_component_registered_in_the_script_reaches_every_engines_workers(
    tmp_path: Path,
) -> None:
    """Forked workers inherit it; fresh loky interpreters and Dask workers get it with
    each task (a notebook's own aggregator used to fail there as 'unknown')."""
    import subprocess
    import sys

    (tmp_path / "tiny.toml").write_text(SCENARIO, encoding="utf-8")
    (tmp_path / "script.py").write_text(MAIN_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "script.py"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:3] == ["local True ok", "local False ok", "dask None ok"]


def test_a_component_that_cannot_be_shipped_is_named_and_forks_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers (and one job) use this process's registrations as they are, so
    nothing is pickled for them; fresh interpreters would need it pickled, and a component
    that cannot be (here: it holds a lock) is refused by name before any run, instead of
    the sweep ending in a pickling traceback with no rows."""
    from bgdsim import aggregators
    from bgdsim.sweep import _engines

    lock = threading.Lock()

    def locked_mean(vectors: Any, **_: Any) -> Any:
        with lock:
            return vectors.mean(axis=0)

    grid = SMALL.replace("[grid]", '[grid]\nserver.aggregator = ["locked_mean"]')
    path = write_sweep(tmp_path, grid)
    aggregators.register("locked_mean")(locked_mean)
    try:
        monkeypatch.setattr(_engines, "can_fork", lambda: False)
        with pytest.raises(SweepError, match="aggregator 'locked_mean', registered in this"):
            run_sweep(path, jobs=2, out=tmp_path / "loky", progress=False)
        assert (
            not (tmp_path / "loky" / "results.csv").exists()
            or len(rows_of(tmp_path / "loky" / "results.csv")) <= 1
        )
        monkeypatch.setattr(_engines, "can_fork", lambda: True)
        forked = read_results(run_sweep(path, jobs=2, out=tmp_path / "fork", progress=False))
        one = read_results(run_sweep(path, jobs=1, out=tmp_path / "one", progress=False))
        assert len(forked) == len(one) == 4 and numbers(forked) == numbers(one)
    finally:
        aggregators.registry.unregister("locked_mean")
