"""The TCP runtime: equivalence with SimPy, signed frames, hostile peers, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.eventlog import read_events
from bgdsim.live import run_tcp, serve, worker, write_keys
from bgdsim.live.frames import derive_key, encode, parse, read_body
from tests.conftest import ScenarioFactory

SECRET = b"s" * 32
Peer = Callable[[str, int, int, bytes], Coroutine[Any, Any, None]]


def events(path: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(path) if e["event"] == kind]


def hostile(send: Callable[[int, bytes], bytes]) -> Peer:
    """A peer that says a valid hello, then answers its first task with ``send(j, key)``."""

    async def peer(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(encode(key, {"round": 0, "worker": j, "kind": "hello"}))
            frame = await read_body(reader, 1 << 20)
            header, _ = parse(frame, key)
            writer.write(send(j, key) if header["kind"] == "task" else b"")
            await writer.drain()
            await reader.read()  # until the server closes the connection
        finally:
            writer.close()

    return peer


def report(t: int, j: int, vector: np.ndarray, key: bytes) -> bytes:
    header = {"round": t, "worker": j, "kind": "report", "dtype": "<f8", "shape": [vector.size]}
    return encode(key, header, vector)


@pytest.mark.asyncio
async def test_theta_trajectory_equals_simpy(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(adversary__attack="sign_flip")
    sim = bgdsim.run(sc, log_path=None)
    path = tmp_path / "tcp.jsonl"
    before = asyncio.all_tasks()
    result = await run_tcp(sc, log_path=path, time_scale=0.001, secret=SECRET)
    assert asyncio.all_tasks() == before  # clean shutdown
    assert np.array_equal(result.thetas, sim.thetas)
    assert result.counts["up_delivered"] == sim.counts["up_delivered"]
    v = bgdsim.verify(path)
    assert v.mismatch is None and v.complete


@pytest.mark.asyncio
async def test_a_report_is_logged_as_sent_when_it_entered_its_up_link(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # 0.25 s each way, simulated: the send time is when the report entered its up-link
    # (its arrival minus the latency), so a same-settings re-run of the log delivers
    # every report when the TCP run did, not one up-link latency later
    sc = live_scenario(rounds=2, network__latency={"kind": "constant", "value": 0.25})
    path = tmp_path / "tcp.jsonl"
    await run_tcp(sc, log_path=path, time_scale=0.05, secret=SECRET)
    child = tmp_path / "rerun.jsonl"
    bgdsim.rerun(path, {"name": "again"}, log_path=child)

    def offsets(log: Path) -> dict[tuple[int, int], float]:
        start = {e["round"]: e["time"] for e in events(log, "round_start")}
        return {
            (e["round"], e["worker"]): e["time"] - start[e["round"]]
            for e in events(log, "deliver")
            if e["dir"] == "up"
        }

    tcp, again = offsets(path), offsets(child)
    assert tcp.keys() == again.keys() and len(tcp) == 2 * sc.cluster.workers
    for key, offset in tcp.items():
        assert again[key] == pytest.approx(offset, abs=1e-9), key


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            lambda j, key: report(1, j, np.ones(3), derive_key(SECRET, j + 1)), id="other-key"
        ),
        pytest.param(lambda j, key: struct.pack(">I", 1 << 30) + b"x" * 64, id="oversized"),
        pytest.param(lambda j, key: os.urandom(200), id="random-bytes"),
        pytest.param(lambda j, key: report(1, j, np.ones(3), key)[:-10], id="truncated"),
        pytest.param(lambda j, key: report(1, j + 1, np.ones(3), key), id="claims-other-worker"),
    ],
)
def test_bad_frames_are_rejected_without_disturbing_others(
    live_scenario: ScenarioFactory, tmp_path: Path, bad: Callable[[int, bytes], bytes]
) -> None:
    sc = live_scenario(rounds=2, server__round_timeout=2.0)
    path = tmp_path / "r.jsonl"
    result = asyncio.run(
        run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers={0: hostile(bad)})
    )
    assert result.rounds == 2
    rejected = events(path, "frame_rejected")
    assert len(rejected) == 1 and rejected[0]["worker"] == 0 and "peer" in rejected[0]
    for b in events(path, "barrier"):
        assert b["missing"] == [0] and b["received"] == 5
    assert bgdsim.verify(path).mismatch is None


def test_nan_and_wrong_shape_and_wrong_round_are_rejected_reports(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    bad = {
        0: hostile(lambda j, key: report(1, j, np.array([1.0, np.nan, 0.0]), key)),
        1: hostile(lambda j, key: report(1, j, np.ones(4), key)),
        2: hostile(lambda j, key: report(7, j, np.ones(3), key)),
    }
    sc = live_scenario(rounds=1, server__round_timeout=2.0)
    path = tmp_path / "r.jsonl"
    result = asyncio.run(run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers=bad))
    reasons = {e["worker"]: e["reason"] for e in events(path, "rejected")}
    assert set(reasons) == {0, 1, 2}
    assert "non-finite" in reasons[0] and "shape" in reasons[1] and "round" in reasons[2]
    assert result.counts["up_delivered"] == 3
    assert bgdsim.verify(path).mismatch is None


def test_worker_killed_mid_round_is_missing(live_scenario: ScenarioFactory, tmp_path: Path) -> None:
    async def killed(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(encode(key, {"round": 0, "worker": j, "kind": "hello"}))
        await read_body(reader, 1 << 20)  # its first task: it dies instead of answering
        writer.transport.abort()

    sc = live_scenario(rounds=2, server__round_timeout=2.0)
    path = tmp_path / "r.jsonl"
    result = asyncio.run(
        run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers={3: killed})
    )
    assert result.rounds == 2 and result.counts["barrier_timeout"] == 2
    assert [b["missing"] for b in events(path, "barrier")] == [[3], [3]]
    assert events(path, "peer_closed")[0]["worker"] == 3
    assert bgdsim.verify(path).mismatch is None


def test_silent_byzantine_cannot_stall_the_server(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(adversary__attack="silent", rounds=2, server__round_timeout=2.0)
    t0 = time.perf_counter()
    result = asyncio.run(run_tcp(sc, log_path=None, time_scale=0.02, secret=SECRET))
    assert time.perf_counter() - t0 < 3.0
    assert result.counts["barrier_timeout"] == 2
    assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)


@pytest.mark.asyncio
async def test_serve_and_worker_entry_points(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(rounds=2)
    keys = tmp_path / "keys"
    write_keys(keys, sc.cluster.workers)
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    before = asyncio.all_tasks()
    server = asyncio.ensure_future(
        serve(
            sc,
            "127.0.0.1:0",
            keys,
            log_path=tmp_path / "s.jsonl",
            time_scale=0.001,
            on_listen=lambda _h, p: port.set_result(p),
        )
    )
    p = await port
    clients = [
        worker(f"127.0.0.1:{p}", j, keys / f"worker-{j}.key") for j in range(sc.cluster.workers)
    ]
    result, *_ = await asyncio.gather(server, *clients)
    assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)
    assert asyncio.all_tasks() == before
