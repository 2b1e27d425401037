"""The local engine's worker processes: forked or fresh, and when one of them dies."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from bgdsim.sweep import _engines


def _task(index: int, scenario: str, overrides: dict[str, Any], seed: int, log: Any) -> Any:
    """A run that kills its worker process when asked (``overrides["die"]``)."""
    if overrides.get("die"):
        os._exit(3)
    return index, {"seed": seed, "pid": os.getpid()}, None


def tasks(die: set[int] = frozenset(), n: int = 6) -> list[Any]:  # type: ignore[assignment]
    return [(i, "s.toml", {"die": i in die}, i, None) for i in range(n)]


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "loky"])
def test_every_task_runs_once_in_worker_processes(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engines, "can_fork", lambda: fork)
    with _engines._local(_task, tasks(), 2) as outcomes:
        got = list(outcomes)
    assert sorted(i for i, _, _ in got) == list(range(6))
    assert all(tb is None and row["pid"] != os.getpid() for _, row, tb in got)


def test_one_job_runs_in_this_process() -> None:
    with _engines._local(_task, tasks(n=2), 1) as outcomes:
        assert [row["pid"] for _, row, _ in outcomes] == [os.getpid()] * 2


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "loky"])
def test_a_worker_that_dies_fails_the_runs_left_not_the_sweep(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engines, "can_fork", lambda: fork)
    with _engines._local(_task, tasks(die={3}), 2) as outcomes:
        got = {i: (row, tb) for i, row, tb in outcomes}
    assert sorted(got) == list(range(6))  # every run answered, none twice
    failed = {i for i, (row, tb) in got.items() if row is None}
    assert 3 in failed
    assert all(got[i][1].startswith(_engines.DIED) for i in failed)
    assert all(got[i][1] is None for i in set(got) - failed)


def _slow(index: int, scenario: str, overrides: dict[str, Any], seed: int, log: Any) -> Any:
    """Task 0 answers at once; the others take 30 s, then leave a mark in ``scenario``."""
    if index:
        time.sleep(30)
        (Path(scenario) / f"done-{index}").touch()
    return index, {"seed": seed}, None


def test_an_interrupted_sweep_stops_its_workers_at_once(tmp_path: Path) -> None:
    work = [(i, str(tmp_path), {}, i, None) for i in range(5)]
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    stop = pytest.raises(KeyboardInterrupt)
    with stop, _engines._forked(_slow, work, 2) as outcomes:
        assert next(iter(outcomes))[0] == 0
        raise KeyboardInterrupt  # Ctrl-C while the runs handed to the workers go on
    assert not list(tmp_path.iterdir())  # none of them was waited for
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


def test_a_dask_worker_that_dies_fails_its_run_not_the_sweep() -> None:
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")  # its config defaults, before one is changed
    # a dead worker's task is retried on another by default; here it fails at once
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        try:
            with _engines._dask(_task, tasks(die={1}, n=3), 1, None, 10.0) as outcomes:
                got = {i: (row, tb) for i, row, tb in outcomes}
        except OSError as exc:  # pragma: no cover - e.g. no local sockets
            pytest.skip(f"dask LocalCluster cannot start: {exc}")
    assert sorted(got) == [0, 1, 2]  # every run answered, the sweep went on
    failed = {i for i, (row, _) in got.items() if row is None}
    assert 1 in failed  # with the runs queued on the same worker, if any
    assert all(got[i][1].startswith(_engines.DIED) for i in failed)
    assert "KilledWorker" in got[1][1]
    assert all(got[i][1] is None for i in set(got) - failed)
