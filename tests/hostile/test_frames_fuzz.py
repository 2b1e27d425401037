"""Any bytes a TCP worker sends: rejected and counted, never a crash of the server.

Worker 0 joins validly (its own key), then answers its first task with hypothesis'
frames: raw bytes, length prefixes that lie, and frames sealed with its real key whose
header (kind, round, worker, seq, dtype, shape) and payload are anything — so they pass
the MAC and reach the header, array and report checks behind it. Then it closes its end.
The server must finish the run, hear every other worker every round, count what worker 0
sent (accepted, rejected, late, dropped over its budget, or its connection refused or
closed) and leave a log that verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bgdsim
from bgdsim.eventlog import read_events
from bgdsim.live import run_tcp
from bgdsim.live.frames import Channel, FrameError, read_body, to_array
from tests.hostile.conftest import examples
from tests.live.conftest import tiny
from tests.live.test_tcp import SECRET, join

INT64 = st.integers(-(2**63), 2**63 - 1)
DTYPES = ["<f8", "<f4", ">f8", "<i8", "<f2", "|b1", "<c16", "|O", "V8", "S3", "<M8[s]", "f16", "x"]
SHAPES = st.one_of(
    st.lists(st.integers(-2, 2**62), max_size=4),
    st.sampled_from([[3], [], [0], [2**62, 0], [1] * 70, [3, 1]]),
    st.text(max_size=3),
)
SEALED = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["report", "task", "hello", "ready", "end"]) | st.text(max_size=4),
        "round": st.sampled_from([0, 1, 2, 3, -1]) | INT64,
        "fields": st.fixed_dictionaries(
            {"dtype": st.sampled_from(DTYPES) | st.text(max_size=4), "shape": SHAPES},
            optional={
                "worker": st.sampled_from([1, 5, 6, -1]) | INT64,
                "seq": st.sampled_from([0, 1, 99]) | INT64,
                "wait": st.floats(),
            },
        ),
        "payload": st.binary(max_size=64),
    }
)  # fmt: skip
REPORTS = st.builds(  # well-formed (3,) float64 reports with any values, for any round
    lambda t, v: {"kind": "report", "round": t, "fields": {"dtype": "<f8", "shape": [3]},
                  "payload": np.array(v, dtype="<f8").tobytes()},
    # rounds the run has, and rounds past the log's int32 (which once crashed the seal)
    st.sampled_from([0, 1, 2, 3, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1]),
    st.lists(st.floats(width=64), min_size=3, max_size=3),
)  # fmt: skip
RAW = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.builds(lambda n, rest: struct.pack(">I", n) + rest, st.integers(0, 2**32 - 1),
              st.binary(max_size=48)),
)  # fmt: skip
ITEMS = st.lists(st.one_of(RAW, SEALED, REPORTS), min_size=1, max_size=6)


def encode(channel: Channel, item: bytes | dict[str, Any]) -> bytes:
    if isinstance(item, bytes):
        return item
    return channel.seal(item["kind"], item["round"], item["payload"], **item["fields"])


def sender(items: list[Any]) -> Any:
    async def peer(host: str, port: int, j: int, key: bytes) -> None:
        reader, writer, channel, _ = await join(host, port, j, key)
        try:
            await read_body(reader, 1 << 20)  # its first task
            writer.write(b"".join(encode(channel, item) for item in items))
            writer.write_eof()
            await writer.drain()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(), 5.0)  # until the server is done with it
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return peer


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=ITEMS)
def test_any_frames_from_a_worker_are_rejected_and_counted(items: list[Any]) -> None:
    # a round waits for worker 0 until its timeout: 250 ms of wall clock, enough for the
    # honest workers on a busy machine
    sc = tiny(rounds=1, server__round_timeout=12.5)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        result = asyncio.run(
            run_tcp(sc, log_path=path, time_scale=0.02, secret=SECRET, workers={0: sender(items)})
        )
        log = list(read_events(path))
        check = bgdsim.verify(path)
    assert result.status == "completed" and result.rounds == 1
    assert check.ok and check.complete, check.message()
    barriers = [e for e in log if e["event"] == "barrier"]
    assert len(barriers) == 1 and set(barriers[0]["missing"]) <= {0}, barriers
    mine = [e for e in log if e.get("worker") == 0]
    accepted = [e for e in mine if e["event"] == "deliver" and e.get("dir") == "up"]
    assert len(accepted) <= 1  # one report a round
    counted = {
        "accepted": len(accepted),
        "rejected": sum(e["event"] == "rejected" for e in mine),
        "late": sum(e["event"] == "late" for e in mine),
        "refused": log[-1]["frames_rejected"],
        "flood": sum(e.get("dropped", 0) for e in mine if e["event"] == "frame_flood"),
        "closed": sum(e["event"] == "peer_closed" for e in mine),
    }
    assert sum(counted.values()) >= 1, counted
    for what, n in counted.items():
        if n:
            event(f"worker 0: {what}")


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [("<f8", [1] * 70), ("<f8", [2**62, 0]), ("[", [3]), ("(2)f8", [3]), ("<f8", [0] * 9)],
)
def test_a_shape_or_dtype_numpy_cannot_make_is_a_frame_error(dtype: str, shape: Any) -> None:
    # found by the property above: these crashed the connection handler
    with pytest.raises(FrameError, match=r"bad shape|unknown dtype|does not hold|not allowed"):
        to_array({"dtype": dtype, "shape": shape}, b"")
