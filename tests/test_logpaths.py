"""Where logs go, and what is never overwritten (:mod:`bgdsim.logpaths`), through every
entry point that writes one: the runtimes, re-runs, ``serve`` and sweeps."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bgdsim
from bgdsim.eventlog import EventLog
from bgdsim.live import run_asyncio, run_tcp, serve, write_keys
from bgdsim.logpaths import LogPathError, check_log_path, fresh_path
from bgdsim.sweep import run_sweep
from bgdsim.vector import run_vector
from tests.conftest import ROOT, ScenarioFactory


@pytest.fixture
def small(scenario: ScenarioFactory) -> ScenarioFactory:
    def build(**overrides: object) -> bgdsim.Scenario:
        base: dict[str, object] = {
            "rounds": 2,
            "cluster__workers": 8,
            "cluster__byzantine": 1,
            "server__aggregator__batches": 4,
        }
        base.update(overrides)
        return scenario(**base)

    return build


def snapshot(*paths: Path) -> list[bytes | None]:
    return [p.read_bytes() if p.exists() else None for p in paths]


# ------------------------------------------------------------------ the default path


def test_the_default_path_advances_instead_of_overwriting(
    small: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = bgdsim.run(small())
    base = first.log_path
    assert base == Path("logs") / f"{small().name}-seed0.jsonl"
    before = snapshot(base, base.with_suffix(".bin"))
    second = bgdsim.run(small(server__aggregator="mean"))
    third = run_vector(small())
    assert second.log_path == base.with_name(base.stem + "-2.jsonl")
    assert third.log_path == base.with_name(base.stem + "-3.jsonl")
    assert snapshot(base, base.with_suffix(".bin")) == before
    assert bgdsim.verify(second.log_path).ok and bgdsim.verify(third.log_path).ok


def test_fresh_path_skips_a_name_whose_sidecar_is_taken(tmp_path: Path) -> None:
    base = tmp_path / "a-seed0.jsonl"
    assert fresh_path(base) == base
    base.with_suffix(".bin").write_bytes(b"")
    assert fresh_path(base) == tmp_path / "a-seed0-2.jsonl"


# ------------------------------------------------------------------ an explicit path


def test_an_existing_log_is_refused_unless_overwrite(
    small: ScenarioFactory, tmp_path: Path
) -> None:
    log = tmp_path / "x.jsonl"
    bgdsim.run(small(), log_path=log)
    before = snapshot(log, log.with_suffix(".bin"))
    for runner in (bgdsim.run, run_vector, run_asyncio):
        with pytest.raises(LogPathError, match=r"x\.jsonl: exists \(pass overwrite=True"):
            runner(small(server__aggregator="mean"), log_path=log)
    assert snapshot(log, log.with_suffix(".bin")) == before
    result = bgdsim.run(small(server__aggregator="mean"), log_path=log, overwrite=True)
    assert result.log_path == log
    assert next(iter(bgdsim.read_events(log)))["scenario"]["server"]["aggregator"] == {
        "kind": "mean"
    }
    assert bgdsim.verify(log).ok


def test_an_existing_sidecar_is_refused(small: ScenarioFactory, tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.with_suffix(".bin").write_bytes(b"precious")
    with pytest.raises(LogPathError, match=r"sidecar .*x\.bin exists"):
        bgdsim.run(small(), log_path=log)
    assert not log.exists()
    assert log.with_suffix(".bin").read_bytes() == b"precious"


def test_a_scenario_or_any_non_log_file_is_never_overwritten(
    small: ScenarioFactory, tmp_path: Path
) -> None:
    toml = tmp_path / "s.toml"
    toml.write_bytes((ROOT / "scenarios" / "paper_linear_regression.toml").read_bytes())
    other = tmp_path / "notes.jsonl"
    other.write_text('{"event": "mine"}\n', encoding="utf-8")
    for path in (toml, other):
        before = path.read_bytes()
        for overwrite in (False, True):
            with pytest.raises(LogPathError):
                bgdsim.run(small(), log_path=path, overwrite=overwrite)
        assert path.read_bytes() == before
    with pytest.raises(LogPathError, match="not a bgdsim event log"):
        check_log_path(other, overwrite=True)


def test_a_log_path_must_be_jsonl_its_sidecar_never_the_log_itself(
    small: ScenarioFactory, tmp_path: Path
) -> None:
    for name in ("out.bin", "out.log", "out"):
        with pytest.raises(LogPathError, match=r"\.jsonl"):
            bgdsim.run(small(), log_path=tmp_path / name, overwrite=True)
    with pytest.raises(LogPathError, match="sidecar would be the log itself"):
        check_log_path(tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ two writers


def test_two_opens_of_one_path_the_second_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    with EventLog(log) as first:
        first.emit("run_start", 0.0)
        with pytest.raises(LogPathError, match="exists"):
            EventLog(log)
        with pytest.raises(LogPathError, match="being written by another run"):
            EventLog(log, overwrite=True)
        first.emit("round_start", 0.0, round=1)
    lines = log.read_bytes().splitlines()
    assert [line.split(b",")[0] for line in lines] == [
        b'{"event":"run_start"',
        b'{"event":"round_start"',
    ]


def test_a_run_in_another_process_holds_its_log(small: ScenarioFactory, tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    holder = (
        "import sys; from bgdsim.eventlog import EventLog\n"
        "log = EventLog(sys.argv[1]); log.emit('run_start', 0.0); log.flush()\n"
        "print('open', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder, str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"open\n"
        with pytest.raises(LogPathError, match="being written by another run"):
            bgdsim.run(small(), log_path=log, overwrite=True)
        with pytest.raises(LogPathError, match="exists"):
            bgdsim.run(small(), log_path=log)
    finally:
        proc.communicate(b"", timeout=30)
    assert log.read_bytes().startswith(b'{"event":"run_start"')
    assert len(log.read_bytes().splitlines()) == 1  # nobody else wrote into it
    bgdsim.run(small(), log_path=log, overwrite=True)  # released with the process
    assert bgdsim.verify(log).ok


# ------------------------------------------------------------------ re-runs


def test_a_rerun_never_writes_over_its_parent(
    small: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    parent = bgdsim.run(small()).log_path
    assert parent is not None
    before = snapshot(parent, parent.with_suffix(".bin"))
    child = bgdsim.rerun(parent, {"server.aggregator": "mean"})
    via_replay = bgdsim.replay(parent, overrides={"server.aggregator": "mean"})
    assert child.log_path is not None and via_replay.log_path is not None
    assert parent not in (child.log_path, via_replay.log_path)
    assert child.log_path != via_replay.log_path
    assert snapshot(parent, parent.with_suffix(".bin")) == before
    for where in (parent, tmp_path / parent):
        with pytest.raises(LogPathError, match="the log being re-run"):
            bgdsim.rerun(parent, {"server.aggregator": "mean"}, log_path=where, overwrite=True)
    assert snapshot(parent, parent.with_suffix(".bin")) == before
    assert bgdsim.verify(parent).ok
    again = bgdsim.replay(parent, overrides={"name": "x"}, log_path=child.log_path, overwrite=True)
    assert again.log_path == child.log_path and again.name == "x"


# ------------------------------------------------------------------ serve and tcp


@pytest.mark.asyncio
async def test_a_serve_that_cannot_bind_leaves_its_log_alone(
    small: ScenarioFactory, tmp_path: Path
) -> None:
    sc = small()
    keys = tmp_path / "keys"
    write_keys(keys, sc.cluster.workers)
    log = tmp_path / "s.jsonl"
    bgdsim.run(sc, log_path=log)
    before = snapshot(log, log.with_suffix(".bin"))
    fresh = tmp_path / "new.jsonl"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        for path in (log, fresh):
            with pytest.raises(OSError, match=r"(?i)address already in use"):
                await serve(sc, listen, keys, log_path=path, overwrite=True, connect_timeout=0.1)
    assert snapshot(log, log.with_suffix(".bin")) == before
    assert not fresh.exists() and not fresh.with_suffix(".bin").exists()


def test_run_tcp_refuses_an_existing_log(small: ScenarioFactory, tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    bgdsim.run(small(), log_path=log)
    with pytest.raises(LogPathError, match="exists"):
        asyncio.run(run_tcp(small(), log_path=log, time_scale=0.001))


# ------------------------------------------------------------------ sweeps


def test_a_resumed_sweep_rewrites_the_logs_of_the_runs_it_redoes(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    scenario = (ROOT / "scenarios" / "paper_linear_regression.toml").as_posix()
    spec.write_text(
        f'scenario = "{scenario}"\nseeds = 1\n[grid]\n'
        "rounds = [2]\ncluster.byzantine = [0, 1]\nproblem.samples = [2000]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    csv_path = run_sweep(spec, jobs=1, out=out, logs=True, progress=False)
    lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
    csv_path.write_text("".join(lines[:-1]), encoding="utf-8")  # the last run: as if killed
    logs = sorted((out / "logs").glob("*.jsonl"))
    assert len(logs) == 2
    before = {p: p.read_bytes() for p in logs}
    run_sweep(spec, jobs=1, out=out, logs=True, progress=False)  # no refusal: its own logs
    assert len(bgdsim.sweep.read_results(out)) == 2
    assert {p: p.read_bytes() for p in logs} == before  # redone: the same bytes, rewritten
    assert all(bgdsim.verify(p).ok for p in logs)
