"""The TCP runtime: equivalence with SimPy, workers with their own data, signed frames that
cannot be replayed, hostile peers, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import struct
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from cryptography.hazmat.primitives.poly1305 import Poly1305

import bgdsim
from bgdsim.engine import World
from bgdsim.eventlog import read_events
from bgdsim.live import run_tcp, serve, worker, write_keys
from bgdsim.live.frames import (
    GREETING_SIZE,
    MAC_SIZE,
    WORKER_GREETING_SIZE,
    Channel,
    FrameError,
    derive_key,
    greeting,
    peek_header,
    read_body,
    read_greeting,
    worker_greeting,
)
from bgdsim.live.tcp import connect_deadline
from bgdsim.live.tcp_worker import LocalData, handshake, worker_loop
from tests.conftest import ScenarioFactory
from tests.live.conftest import tiny

SECRET = b"s" * 32
Peer = Callable[[str, int, int, bytes], Coroutine[Any, Any, None]]
BadFrame = Callable[[Channel, bytes], bytes]


def events(path: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(path) if e["event"] == kind]


def split(frame: bytes) -> tuple[dict[str, Any], bytes]:
    """A frame's header and payload, unchecked."""
    (hlen,) = struct.unpack_from(">H", frame, 4)
    return peek_header(frame), frame[6 + hlen : -MAC_SIZE]


def report(channel: Channel, t: int, vector: np.ndarray) -> bytes:
    return channel.seal("report", t, vector, dtype=vector.dtype.str, shape=list(vector.shape))


def twin(ch: Channel, key: bytes, **change: Any) -> Channel:
    """A worker-side channel at ``ch``'s position with one binding changed."""
    other = Channel(
        key,
        change.get("worker", ch.worker),
        change.get("run_id", ch.run_id),
        change.get("nonce", ch.nonce),
        server=False,
    )
    other.sent = change.get("sent", ch.sent)
    return other


async def join(
    host: str, port: int, j: int, key: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Channel, bytes]:
    """A valid connection as worker j: greeting, hello, welcome, ready."""
    reader, writer = await asyncio.open_connection(host, port)
    channel, welcome = await handshake(reader, writer, j, key)
    writer.write(channel.seal("ready", 0))
    await writer.drain()
    return reader, writer, channel, welcome


def hostile(send: BadFrame) -> Peer:
    """A peer that joins validly, then answers its first task with ``send(channel, key)``."""

    async def peer(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer, channel, _ = await join(host, port, j, key)
        try:
            header, _ = channel.open(await read_body(reader, 1 << 20))
            writer.write(send(channel, key) if header["kind"] == "task" else b"")
            await writer.drain()
            await reader.read()  # until the server closes the connection
        finally:
            writer.close()

    return peer


class Tap:
    """A man in the middle between the real worker and the server: it records the frames
    going each way and may re-send (replay) the worker's ``replay``-th frame right after it."""

    def __init__(self, replay: int | None = None) -> None:
        self.up: list[bytes] = []
        self.down: list[bytes] = []
        self.greeting = self.nonce = b""
        self.replay = replay

    async def _pump_down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            self.greeting = await reader.readexactly(GREETING_SIZE)
            writer.write(self.greeting)
            while True:
                frame = await read_body(reader, 1 << 24)
                self.down.append(frame)
                writer.write(frame)
                await writer.drain()
        writer.close()

    async def _relay(self, w_reader: asyncio.StreamReader, w_writer: asyncio.StreamWriter) -> None:
        s_reader, s_writer = await asyncio.open_connection(*self.server)
        down = asyncio.ensure_future(self._pump_down(s_reader, w_writer))
        try:
            self.nonce = await w_reader.readexactly(WORKER_GREETING_SIZE)  # magic + nonce
            s_writer.write(self.nonce)
            while True:
                frame = await read_body(w_reader, 1 << 24)
                self.up.append(frame)
                s_writer.write(frame)
                if len(self.up) == self.replay:
                    s_writer.write(frame)
                await s_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            down.cancel()
            await asyncio.gather(down, return_exceptions=True)
            s_writer.close()
            w_writer.close()

    async def peer(self, host: str, port: int, j: int, key: bytes) -> None:
        self.server = (host, port)
        proxy = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        try:
            await worker_loop("127.0.0.1", int(proxy.sockets[0].getsockname()[1]), j, key)
        finally:
            proxy.close()


# --------------------------------------------------------------------- the same run as SimPy
@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["linear_regression", "logistic_regression"])
async def test_theta_trajectory_equals_simpy(
    live_scenario: ScenarioFactory, tmp_path: Path, kind: str
) -> None:
    sc = live_scenario(adversary__attack="sign_flip", problem__kind=kind)
    sim = bgdsim.run(sc, log_path=None)
    path = tmp_path / "tcp.jsonl"
    before = asyncio.all_tasks()
    result = await run_tcp(sc, log_path=path, time_scale=0.001, secret=SECRET)
    assert asyncio.all_tasks() == before  # clean shutdown
    assert np.array_equal(result.thetas, sim.thetas)
    assert result.counts["up_delivered"] == sim.counts["up_delivered"]
    v = bgdsim.verify(path)
    assert v.mismatch is None and v.complete


@pytest.mark.parametrize("kind", ["linear_regression", "logistic_regression"])
def test_honest_workers_get_theta_and_send_their_own_gradient_bit_for_bit(
    live_scenario: ScenarioFactory, kind: str
) -> None:
    sc = live_scenario(adversary__attack="sign_flip", problem__kind=kind, cluster__byzantine=2)
    m = sc.cluster.workers
    taps = [Tap() for _ in range(m)]
    peers: dict[int, Peer] = {j: tap.peer for j, tap in enumerate(taps)}
    result = asyncio.run(run_tcp(sc, log_path=None, time_scale=0.001, secret=SECRET, workers=peers))
    assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)
    problem = World(sc).problem
    roles: dict[str, int] = {"honest": 0, "byzantine": 0}
    for j, tap in enumerate(taps):
        welcome, *rest = map(split, tap.down)
        assert welcome[0]["kind"] == "welcome"
        assert orjson.loads(welcome[1]) == {"scenario": sc.to_dict(), "seed": sc.seed}
        reports = {h["round"]: p for h, p in map(split, tap.up) if h["kind"] == "report"}
        for header, payload in rest:
            if header["kind"] != "task":
                continue
            t, theta = header["round"], result.thetas[header["round"] - 1]
            roles[header["role"]] += 1
            if header["role"] == "honest":  # θ goes down, the worker's own gradient up
                assert payload == theta.tobytes()
                assert reports[t] == problem.gradients(theta)[j].tobytes(), (j, t)
            else:  # the adversary's message: what the worker sends back, verbatim
                assert reports[t] == payload and payload != theta.tobytes()
    assert roles == {"honest": (m - 2) * sc.rounds, "byzantine": 2 * sc.rounds}


@pytest.mark.parametrize(
    "overrides",
    [
        {"problem__kind": "linear_regression"},
        {"problem__kind": "linear_regression", "problem__dim": 200},  # d > n: no statistics
        {"problem__kind": "linear_regression", "problem__size_spread": 0.5},
        {"problem__kind": "logistic_regression"},
        {"problem__kind": "logistic_regression", "problem__size_spread": 0.5},
    ],
    ids=["linear", "linear-d>n", "linear-unequal", "logistic", "logistic-unequal"],
)
@pytest.mark.parametrize("own", [False, True], ids=["shared-build", "own-copy"])
def test_a_worker_derives_its_data_from_the_welcome(
    live_scenario: ScenarioFactory, overrides: dict[str, Any], own: bool
) -> None:
    sc = live_scenario(**overrides)
    welcome = orjson.dumps({"scenario": sc.to_dict(), "seed": sc.seed})
    problem = World(sc).problem
    data = LocalData(own=own)
    rng = np.random.default_rng(5)
    thetas = [rng.standard_normal(problem.dim) for _ in range(3)]
    for j in range(sc.cluster.workers):
        gradient = data.gradient(welcome, j)
        for theta in thetas:
            assert gradient(theta).tobytes() == problem.gradients(theta)[j].tobytes(), j
    with pytest.raises(FrameError):
        data.gradient(b'{"seed": 0}', 0)


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


# --------------------------------------------------------------------- frames and their MACs
def test_the_wire_format_is_the_documented_one() -> None:
    key, run, theirs, mine = derive_key(SECRET, 2), *(os.urandom(16) for _ in range(3))
    assert greeting(run, theirs) == b"BGD4" + run + theirs  # the server's
    assert worker_greeting(mine) == b"BGW4" + mine  # the worker's answer
    nonce = theirs + mine  # the connection's: both ends' nonces
    ch = Channel(key, 2, run, nonce, server=False)
    ch.seal("hello", 0)
    vector = np.arange(3.0)
    frame = report(ch, 4, vector)
    (size,) = struct.unpack(">I", frame[:4])
    (hlen,) = struct.unpack(">H", frame[4:6])
    assert size == len(frame) - 4
    header = orjson.loads(frame[6 : 6 + hlen])
    assert header == {
        "round": 4, "worker": 2, "kind": "report", "seq": 1, "dtype": "<f8", "shape": [3]
    }  # fmt: skip
    payload, tag = frame[6 + hlen : -16], frame[-16:]
    assert payload == vector.tobytes()
    # the frame's one-time key: keyed BLAKE2b of where it is; its tag: Poly1305 of it
    one_time = hashlib.blake2b(
        b"bgdsim-frame-v4" + run + nonce + b"U" + struct.pack(">Q", 1), key=key, digest_size=32
    ).digest()
    assert tag == Poly1305.generate_tag(one_time, frame[:-16])
    # a tag is not reusable: frame 0 of the same connection has another key
    other = hashlib.blake2b(
        b"bgdsim-frame-v4" + run + nonce + b"U" + struct.pack(">Q", 0), key=key, digest_size=32
    ).digest()
    assert tag != Poly1305.generate_tag(other, frame[:-16])


def test_a_frame_opens_once_and_only_in_its_place() -> None:
    key, run, nonce = derive_key(SECRET, 3), os.urandom(16), os.urandom(16)
    frame = report(Channel(key, 3, run, nonce, server=False), 1, np.arange(3.0))

    def server(**change: Any) -> Channel:
        return Channel(
            change.get("key", key),
            3,
            change.get("run_id", run),
            change.get("nonce", nonce),
            server=change.get("server", True),
        )

    ch = server()
    header, payload = ch.open(frame)
    assert header["round"] == 1 and payload == np.arange(3.0).tobytes()
    with pytest.raises(FrameError, match="replayed"):
        ch.open(frame)  # the same frame again: its seq is used
    for other in (
        server(run_id=os.urandom(16)),  # another run
        server(nonce=os.urandom(16)),  # another connection
        server(key=derive_key(SECRET, 4)),  # another worker's key
        server(server=False),  # reflected: the other direction
    ):
        with pytest.raises(FrameError, match="bad MAC"):
            other.open(frame)
    tampered = frame.replace(b'"round":1', b'"round":2')
    with pytest.raises(FrameError, match="bad MAC"):
        server().open(tampered)  # the header (the round) is signed
    flipped = frame[:-40] + bytes([frame[-40] ^ 1]) + frame[-39:]
    with pytest.raises(FrameError, match="bad MAC"):
        server().open(flipped)  # so is the payload


# --------------------------------------------------------------------- hostile peers
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            lambda ch, key: report(twin(ch, derive_key(SECRET, ch.worker + 1)), 1, np.ones(3)),
            id="other-key",
        ),
        pytest.param(lambda ch, key: struct.pack(">I", 1 << 30) + b"x" * 64, id="oversized"),
        pytest.param(lambda ch, key: os.urandom(200), id="random-bytes"),
        pytest.param(lambda ch, key: report(ch, 1, np.ones(3))[:-10], id="truncated"),
        pytest.param(
            lambda ch, key: report(twin(ch, key, worker=ch.worker + 1), 1, np.ones(3)),
            id="claims-other-worker",
        ),
        pytest.param(
            lambda ch, key: report(twin(ch, key, run_id=os.urandom(16)), 1, np.ones(3)),
            id="other-run",
        ),
        pytest.param(
            lambda ch, key: report(twin(ch, key, nonce=os.urandom(16)), 1, np.ones(3)),
            id="other-connection",
        ),
        pytest.param(lambda ch, key: twin(ch, key, sent=0).seal("hello", 0), id="replayed-hello"),
        # the log stores rounds as int32: a round past it is refused as a frame, not a crash
        pytest.param(lambda ch, key: report(ch, 1 << 31, np.ones(3)), id="round-past-int32"),
        pytest.param(lambda ch, key: report(ch, ~(1 << 31), np.ones(3)), id="round-below-int32"),
        pytest.param(
            lambda ch, key: report(twin(ch, key, sent=ch.sent + 1), 1, np.ones(3)), id="skipped-seq"
        ),
    ],
)
def test_bad_frames_are_rejected_without_disturbing_others(
    live_scenario: ScenarioFactory, tmp_path: Path, bad: BadFrame
) -> None:
    sc = live_scenario(rounds=2, server__round_timeout=10.0)  # 200 ms of wall clock
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


def test_a_replayed_report_is_rejected(live_scenario: ScenarioFactory, tmp_path: Path) -> None:
    # a man in the middle re-sends worker 0's first report (its 3rd frame) right after it
    sc = live_scenario(rounds=3, server__round_timeout=10.0)  # 200 ms of wall clock
    tap = Tap(replay=3)
    path = tmp_path / "r.jsonl"
    result = asyncio.run(
        run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers={0: tap.peer})
    )
    assert split(tap.up[2])[0]["kind"] == "report"
    rejected = events(path, "frame_rejected")
    assert len(rejected) == 1 and rejected[0]["worker"] == 0
    assert "replayed" in rejected[0]["reason"]
    delivered = [
        e["round"] for e in events(path, "deliver") if e["dir"] == "up" and e["worker"] == 0
    ]
    assert delivered == [1]  # counted once; the connection is closed after the replay
    assert [b["missing"] for b in events(path, "barrier")] == [[], [0], [0]]
    sim = bgdsim.run(sc, log_path=None)
    assert np.array_equal(result.thetas[:2], sim.thetas[:2])
    assert bgdsim.verify(path).mismatch is None


def test_frames_from_another_run_are_rejected(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # the same keys in two runs (``bgdsim serve --keys`` reused): run A's frames, captured,
    # are worthless in run B, even at the same round and position
    sc = live_scenario(rounds=2, server__round_timeout=10.0)  # 200 ms of wall clock
    tap = Tap()
    asyncio.run(run_tcp(sc, log_path=None, time_scale=0.02, secret=SECRET, workers={0: tap.peer}))
    hello, _, first_report, *_ = tap.up
    assert split(first_report)[0]["round"] == 1

    async def replayer(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, port)  # run A's hello
        await read_greeting(reader)
        writer.write(tap.nonce + hello)
        await reader.read()
        writer.close()
        reader, writer, _, _ = await join(host, port, j, key)  # a valid join, then
        await read_body(reader, 1 << 20)  # its first task, answered with run A's report
        writer.write(first_report)
        await reader.read()
        writer.close()

    path = tmp_path / "b.jsonl"
    asyncio.run(run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers={0: replayer}))
    rejected = events(path, "frame_rejected")
    assert [e["reason"] for e in rejected] == ["bad MAC", "bad MAC"]
    assert "worker" not in rejected[0] and rejected[1]["worker"] == 0
    assert [b["missing"] for b in events(path, "barrier")] == [[0], [0]]
    assert bgdsim.verify(path).mismatch is None


def test_a_worker_refuses_a_recorded_conversation_replayed_to_it(
    live_scenario: ScenarioFactory,
) -> None:
    # a man in the middle records a run, then plays the server's side of it back to the
    # same worker reconnecting: the worker's own nonce keys the connection, so the
    # recorded welcome does not open (and the worker's frames never reuse a one-time key)
    sc = live_scenario(rounds=1, server__round_timeout=10.0)
    tap = Tap()
    asyncio.run(run_tcp(sc, log_path=None, time_scale=0.02, secret=SECRET, workers={0: tap.peer}))
    assert split(tap.down[0])[0]["kind"] == "welcome"

    async def main() -> None:
        async def playback(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                writer.write(tap.greeting)
                await reader.readexactly(WORKER_GREETING_SIZE)  # the worker's new nonce
                await read_body(reader, 1 << 20)  # its hello
                writer.write(tap.down[0])  # the recorded welcome
                await writer.drain()
                await reader.read()
            finally:
                writer.close()

        server = await asyncio.start_server(playback, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            with pytest.raises(FrameError, match="bad MAC"):
                await handshake(reader, writer, 0, derive_key(SECRET, 0))
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    asyncio.run(main())


def test_a_worker_that_stops_reading_is_dropped_not_buffered(tmp_path: Path) -> None:
    # worker 0 joins and then never reads: its θ frames (400 kB) would pile up in the
    # server's memory round after round; once two of them wait, it is dropped
    async def deaf(host: str, port: int, j: int, key: bytes) -> None:
        _, writer, _, _ = await join(host, port, j, key)
        writer.transport.pause_reading()
        try:
            await asyncio.sleep(3600)  # cancelled when the run ends
        finally:
            writer.close()

    sc = tiny(rounds=40, problem__dim=50_000, problem__samples=60, server__round_timeout=0.02)
    path = tmp_path / "r.jsonl"
    result = asyncio.run(run_tcp(sc, log_path=path, secret=SECRET, workers={0: deaf}))
    assert result.status == "completed" and result.rounds == 40
    stalled = [e for e in events(path, "frame_rejected") if "not reading" in e["reason"]]
    assert len(stalled) == 1 and stalled[0]["worker"] == 0
    assert events(path, "run_end")
    assert bgdsim.verify(path).mismatch is None


def test_nan_and_wrong_shape_and_wrong_round_are_rejected_reports(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    bad = {
        0: hostile(lambda ch, key: report(ch, 1, np.array([1.0, np.nan, 0.0]))),
        1: hostile(lambda ch, key: report(ch, 1, np.ones(4))),
        2: hostile(lambda ch, key: report(ch, 7, np.ones(3))),
    }
    sc = live_scenario(rounds=1, server__round_timeout=10.0)  # 200 ms of wall clock
    path = tmp_path / "r.jsonl"
    result = asyncio.run(run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers=bad))
    reasons = {e["worker"]: e["reason"] for e in events(path, "rejected")}
    assert set(reasons) == {0, 1, 2}
    assert "non-finite" in reasons[0] and "shape" in reasons[1] and "round" in reasons[2]
    assert result.counts["up_delivered"] == 3
    assert bgdsim.verify(path).mismatch is None


def test_worker_killed_mid_round_is_missing(live_scenario: ScenarioFactory, tmp_path: Path) -> None:
    async def killed(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer, _, _ = await join(host, port, j, key)
        await read_body(reader, 1 << 20)  # its first task: it dies instead of answering
        writer.transport.abort()

    sc = live_scenario(rounds=2, server__round_timeout=10.0)  # 200 ms of wall clock
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
    # 200 ms of wall time per timeout: the honest reports are in well before it even on a
    # loaded machine (at 40 ms a slow round lost them, and its step)
    result = asyncio.run(run_tcp(sc, log_path=None, time_scale=0.1, secret=SECRET))
    assert time.perf_counter() - t0 < 5.0
    assert result.counts["barrier_timeout"] == 2
    assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)


# --------------------------------------------------------------------- connecting
def test_the_connect_deadline_scales_with_m() -> None:
    assert connect_deadline(6) == 10.0
    assert connect_deadline(5_000) == pytest.approx(50.0)
    assert connect_deadline(100, 60.0) == 60.0


def test_many_workers_all_connect_in_time(live_scenario: ScenarioFactory, tmp_path: Path) -> None:
    # 400 workers connecting at once: a listen backlog of 100 left a third of them out
    m = 400
    sc = live_scenario(
        rounds=1,
        cluster__workers=m,
        problem__samples=2 * m,
        server__aggregator__batches=10,
        server__round_timeout=1e4,  # 10 s of wall clock: every report arrives
    )
    path = tmp_path / "r.jsonl"
    t0 = time.perf_counter()
    result = asyncio.run(run_tcp(sc, log_path=path, time_scale=0.001, secret=SECRET))
    assert time.perf_counter() - t0 < 8.0  # not one connect deadline (10 s) or more
    assert events(path, "run_start")[0]["connected"] == list(range(m))
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
    said: dict[int, list[tuple[str, int]]] = {j: [] for j in range(sc.cluster.workers)}
    clients = [
        worker(
            f"127.0.0.1:{p}", j, keys / f"worker-{j}.key", lambda w, t, j=j: said[j].append((w, t))
        )
        for j in range(sc.cluster.workers)
    ]
    result, *_ = await asyncio.gather(server, *clients)
    assert np.array_equal(result.thetas, bgdsim.run(sc, log_path=None).thetas)
    assert asyncio.all_tasks() == before
    for j in range(sc.cluster.workers):  # every worker gets a task per round (maybe silent)
        assert said[j] == [("joined", 0), ("round", 1), ("round", 2), ("done", 0)]


@pytest.mark.asyncio
async def test_a_worker_whose_server_goes_away_raises(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(rounds=2)
    keys = tmp_path / "keys"
    write_keys(keys, sc.cluster.workers)
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    joined: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.ensure_future(
        serve(
            sc,
            "127.0.0.1:0",
            keys,
            log_path=tmp_path / "s.jsonl",
            connect_timeout=60.0,  # waits for the others, who never come
            on_listen=lambda _h, p: port.set_result(p),
            on_join=lambda j, _peer: joined.set_result(j),
        )
    )
    alone = asyncio.ensure_future(worker(f"127.0.0.1:{await port}", 0, keys / "worker-0.key"))
    assert await joined == 0
    server.cancel()  # the server goes away mid-wait
    with pytest.raises(ConnectionError, match="before the end of the run"):
        await alone
    with pytest.raises(asyncio.CancelledError):
        await server
