"""The TCP server against flooding peers: what one peer can make the server log is bounded
(a budget of extra frames per peer and round, then one ``frame_flood`` summary), and an
honest run logs exactly what it logged before the budget existed."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.eventlog import read_events
from bgdsim.live import run_tcp, tcp_server
from bgdsim.live.budget import FLOOD_BUDGET, FRAME_FLOOD, TASK_ROUNDS, FrameBudget
from bgdsim.live.frames import read_body
from bgdsim.live.tcp_worker import worker_loop
from tests.conftest import ScenarioFactory
from tests.live.test_tcp import SECRET, Peer, join, report

FLOOD = 500


def records(path: Path) -> list[dict[str, Any]]:
    return list(read_events(path))


def per_round(log: list[dict[str, Any]], j: int) -> Counter[int]:
    """How many records name worker j, per round (its flood summaries left out)."""
    return Counter(e["round"] for e in log if e.get("worker") == j and e["event"] != FRAME_FLOOD)


def flooder(rounds: set[int], n: int = FLOOD) -> Peer:
    """Worker j, joined validly: on the tasks of ``rounds`` it first sends ``n`` well-formed
    wrong-round reports (its own key, increasing sequence numbers), then, like an honest
    worker, answers every non-silent task with one report of the task's round."""

    async def peer(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer, channel, _ = await join(host, port, j, key)
        try:
            while True:
                header, _ = channel.open(await read_body(reader, 1 << 20))
                if header["kind"] != "task":
                    return
                t = header["round"]
                if t in rounds:
                    writer.write(
                        b"".join(report(channel, 10_000 + i, np.ones(3)) for i in range(n))
                    )
                if not header.get("silent"):
                    writer.write(report(channel, t, np.ones(3)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return peer


def test_a_wrong_round_flood_is_dropped_and_summarised_once(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(rounds=3)  # a round waits for the flooder's own report, after its flood
    path = tmp_path / "flood.jsonl"
    result = asyncio.run(
        run_tcp(sc, log_path=path, time_scale=0.01, secret=SECRET, workers={0: flooder({1, 2})})
    )
    assert result.rounds == 3
    log = records(path)
    floods = [e for e in log if e["event"] == FRAME_FLOOD]
    assert [(e["worker"], e["round"], e["dropped"]) for e in floods] == [
        (0, 1, FLOOD - FLOOD_BUDGET),
        (0, 2, FLOOD - FLOOD_BUDGET),
    ]
    assert all(e["reason"] for e in floods)
    # per round: θ down (send, deliver), its own report (send, deliver) and, within the
    # budget, FLOOD_BUDGET logged extras (send, rejected): a constant, not the flood
    for t, n in per_round(log, 0).items():
        assert n <= 4 + 2 * FLOOD_BUDGET, (t, n)
    rejected = [e for e in log if e["event"] == "rejected"]
    assert len(rejected) == 2 * FLOOD_BUDGET and all("wrong round" in e["reason"] for e in rejected)
    # the flooder's own reports still count, and every other worker's are unaffected
    assert [b["missing"] for b in log if b["event"] == "barrier"] == [[], [], []]
    delivered = Counter(e["worker"] for e in log if e["event"] == "deliver" and e["dir"] == "up")
    assert delivered == dict.fromkeys(range(sc.cluster.workers), 3)
    assert bgdsim.verify(path).ok


def test_a_flood_before_the_first_round_is_logged_after_the_header(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # worker 0 reconnects and floods again and again while worker 5 is still connecting:
    # each connection is refused at its first report (there is no round yet), and what is
    # logged of it is bounded and written after run_start
    done = asyncio.Event()

    async def early(host: str, port: int, j: int, key: bytes) -> None:
        for i in range(60):
            reader, writer, channel, _ = await join(host, port, j, key)
            writer.write(b"".join(report(channel, 1 + i, np.ones(3)) for _ in range(20)))
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await writer.drain()
                await reader.read()  # until the server refuses the connection
            writer.close()
        done.set()

    async def late(host: str, port: int, j: int, key: bytes) -> None:
        await done.wait()  # the run starts at the connect deadline: worker 0 is not there
        await worker_loop(host, port, j, key)

    sc = live_scenario(rounds=2, server__round_timeout=10.0)
    path = tmp_path / "early.jsonl"
    result = asyncio.run(
        run_tcp(
            sc,
            log_path=path,
            time_scale=0.01,
            secret=SECRET,
            workers={0: early, 5: late},
            connect_timeout=1.0,
        )
    )
    assert result.rounds == 2
    log = records(path)
    assert log[0]["event"] == "run_start"
    assert 0 not in log[0]["connected"]
    refused = [e for e in log if e["event"] == "frame_rejected"]
    assert 1 <= len(refused) <= FLOOD_BUDGET
    assert all(e["worker"] == 0 and e["round"] == 0 for e in refused)
    floods = [e for e in log if e["event"] == FRAME_FLOOD]
    assert [(e["worker"], e["round"]) for e in floods] == [(0, 0)]
    assert len(refused) + floods[0]["dropped"] == 60
    assert [b["missing"] for b in log if b["event"] == "barrier"] == [[0], [0]]
    assert bgdsim.verify(path).ok


@pytest.mark.parametrize(
    "overrides",
    [
        {"adversary__attack": "sign_flip"},
        # the Byzantine reports land past their barrier: late, in the next round
        {
            "adversary__attack": {"kind": "timing", "when": "after", "margin": 0.3},
            "server__round_timeout": 1.0,
            "rounds": 4,
        },
    ],
    ids=["sign-flip", "late-reports"],
)
def test_nothing_an_honest_worker_sends_is_an_extra(
    live_scenario: ScenarioFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, Any],
) -> None:
    # with no budget at all, any frame counted as an extra would be dropped (and summarised):
    # an honest run, late reports included, logs every report as it did before the budget
    monkeypatch.setattr(tcp_server, "FLOOD_BUDGET", 0)
    sc = live_scenario(**overrides)
    m = sc.cluster.workers
    path = tmp_path / "tcp.jsonl"
    result = asyncio.run(run_tcp(sc, log_path=path, time_scale=0.01, secret=SECRET))
    log = records(path)
    assert not [e for e in log if e["event"] in (FRAME_FLOOD, "frame_rejected")]
    sent = Counter((e["round"], e["worker"]) for e in log if e["event"] == "send")
    arrived = Counter(
        (e["round"], e["worker"])
        for e in log
        if e["event"] in ("deliver", "late", "rejected") and e["dir"] == "up"
    )
    assert sent == arrived and set(sent.values()) == {1}
    # every round's reports (the last Byzantine one may still be on its way at the end)
    assert {(t, j) for t in range(1, sc.rounds) for j in range(m)} <= set(sent)
    if sc.adversary.attack.kind == "timing":
        assert [e["event"] for e in log].count("late") >= sc.rounds - 1
    else:
        assert len(sent) == sc.rounds * m
        assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)
    assert bgdsim.verify(path).ok


def test_the_budget_counts_extras_per_peer_and_round() -> None:
    budget = FrameBudget(2, 6)
    budget.task(1, 0)
    assert budget.answers(0, 1) and not budget.answers(0, 1)  # the first answer only
    assert not budget.answers(0, 2)  # no task of round 2 for worker 0
    assert [budget.admit(0, 1, f"r{i}") for i in range(5)] == [True, True, False, False, False]
    assert [budget.admit(None, 1, "bad MAC") for _ in range(7)] == [True] * 6 + [False]
    assert budget.admit(0, 2, "x") and budget.admit(3, 1, "y")  # another round, another peer
    assert budget.close(2) == [(0, 1, 3, "r2"), (None, 1, 1, "bad MAC")]
    assert budget.close(2) == [] and budget.admit(0, 2, "x") and not budget.admit(0, 2, "z")
    assert budget.close() == [(0, 2, 1, "z")]
    for t in range(1, 100):
        budget.task(t, 1)
    budget.close(100)
    assert min(budget.tasks) == 100 - TASK_ROUNDS + 1 and budget.answers(1, 99)


def test_strangers_bytes_before_the_run_are_refused_and_logged_after_the_header(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # anyone, no key: ten zero bytes, a short length, an HTTP request, while the server
    # still waits for its workers; it used to log the refusals before run_start, which
    # left a log replay --verify could not read
    strangers = [b"\0" * 10, b"\0" * 4, b"GET / HTTP/1.0\r\n\r\n"]

    async def first(host: str, port: int, j: int, key: bytes) -> None:
        for payload in strangers:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(payload)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
                await asyncio.wait_for(reader.read(), 30.0)  # until the server closes it
            writer.close()
        await worker_loop(host, port, j, key)

    path = tmp_path / "strangers.jsonl"
    sc = live_scenario(rounds=2)
    result = asyncio.run(
        run_tcp(sc, log_path=path, time_scale=0.01, secret=SECRET, workers={0: first})
    )
    assert (result.status, result.rounds) == ("completed", 2)
    log = records(path)
    assert log[0]["event"] == "run_start" and log[0]["connected"] == list(range(6))
    refused = [e for e in log if e["event"] == "frame_rejected"]
    assert len(refused) == len(strangers) == log[-1]["frames_rejected"]
    assert all("worker" not in e and e["round"] == 0 for e in refused)
    assert bgdsim.verify(path).ok
