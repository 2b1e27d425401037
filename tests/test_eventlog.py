"""The event log: key order, seq, payload round trip, flushing, torn lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bgdsim.eventlog import EventLog, load_payload, read_events, sidecar_path


def test_lines_start_with_event_seq_time_round_worker(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    with EventLog(path) as log:
        log.emit("deliver", 0.5, dir="up", worker=3, round=2)
        log.emit("barrier", 1.0, round=2, reason="all")
    lines = path.read_bytes().splitlines()
    assert lines[0] == b'{"event":"deliver","seq":0,"time":0.5,"round":2,"worker":3,"dir":"up"}'
    assert [e["seq"] for e in read_events(path)] == [0, 1]


@settings(max_examples=50, deadline=None)
@given(
    arrays=st.lists(
        hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6)), min_size=1, max_size=5
    )
)
def test_payloads_round_trip_bit_for_bit(
    tmp_path_factory: object, arrays: list[np.ndarray]
) -> None:
    path = Path(tmp_path_factory.mktemp("p")) / "x.jsonl"  # type: ignore[attr-defined]
    with EventLog(path) as log:
        refs = [log.payload(a) for a in arrays]
        for ref in refs:
            log.emit("vec", 0.0, payload=ref)
    events = list(read_events(path))
    for a, e in zip(arrays, events, strict=True):
        b = load_payload(path, e["payload"])
        assert a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # NaN payloads and -0.0 included


def test_everything_is_on_disk_after_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    log = EventLog(path)
    log.emit("a", 0.0, payload=log.payload(np.ones(3)))
    log.flush()
    assert len(path.read_bytes().splitlines()) == 1
    assert len(sidecar_path(path).read_bytes()) == 24
    log.close()


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"event":"a","seq":0,"time":0.0}\n{"event":"b","se')
    assert [e["event"] for e in read_events(path)] == ["a"]


def test_a_disabled_log_records_nothing() -> None:
    log = EventLog(None)
    assert log.payload(np.ones(2)) is None
    log.emit("a", 0.0)
    log.close()


def test_sidecar_sits_beside_the_log() -> None:
    assert sidecar_path("logs/run-seed0.jsonl") == Path("logs/run-seed0.bin")
    assert sidecar_path("logs/run") == Path("logs/run.bin")


def test_message_events_are_one_columnar_record_at_the_seal(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with EventLog(path) as log:
        log.dim = 2
        log.emit("run_start", 0.0, scenario={"problem": {"dim": 2}})
        ref = log.payload(np.array([1.0, 2.0]))
        log.message("send", 0.25, 3, 7, "up", {"latency": 0.1, "byzantine": True, "payload": ref})
        log.message("drop", 0.25, 3, 7, "up", {"reason": "loss"})
        log.message("deliver", 0.2, 3, 1, "down")
        log.seal("round_end", 0.3, round=3)
    lines = [orjson.loads(raw) for raw in path.read_bytes().splitlines()]
    assert [e["event"] for e in lines] == ["run_start", "round_end"]  # no per-message lines
    assert lines[1]["messages"]["rows"] == 3
    events = list(read_events(path))
    assert events[1:4] == [
        {"event": "deliver", "time": 0.2, "round": 3, "worker": 1, "dir": "down"},
        {"event": "send", "time": 0.25, "round": 3, "worker": 7, "dir": "up", "latency": 0.1,
         "byzantine": True, "payload": {"offset": 0, "shape": [2]}},
        {"event": "drop", "time": 0.25, "round": 3, "worker": 7, "dir": "up", "reason": "loss"},
    ]  # fmt: skip


def test_large_payloads_written_on_the_logs_thread_give_the_same_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import bgdsim
    from bgdsim.eventlog import writer
    from tests.conftest import make_scenario

    sc = make_scenario(rounds=4, network__drop=0.2, adversary__attack="malformed")
    inline, threaded = tmp_path / "inline.jsonl", tmp_path / "threaded.jsonl"
    monkeypatch.setattr(writer, "_BACKGROUND_BYTES", 1 << 62)
    bgdsim.run(sc, log_path=inline)
    monkeypatch.setattr(writer, "_BACKGROUND_BYTES", 0)  # every sidecar write, in order
    bgdsim.run(sc, log_path=threaded)
    assert threaded.read_bytes() == inline.read_bytes()
    assert sidecar_path(threaded).read_bytes() == sidecar_path(inline).read_bytes()
    assert bgdsim.verify(threaded).ok
    assert not [t for t in threading.enumerate() if t.name.startswith("bgdsim-log")]


def test_an_error_of_a_write_on_the_logs_thread_surfaces_at_the_seal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgdsim.eventlog import writer

    monkeypatch.setattr(writer, "_BACKGROUND_BYTES", 0)
    log = EventLog(tmp_path / "x.jsonl")

    def full(data: object, hasher: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(log, "_write_side", full)
    log.payload(np.zeros(4))
    with pytest.raises(OSError, match="No space left"):
        log.seal("round_end", 1.0, round=1)
    log.close()
