"""Replay: reading logs back, verification, tampering, crash safety, export."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import bgdsim
from bgdsim.cli import main
from bgdsim.replay import LogError, export_csv, read_log, timeline, verify
from tests.conftest import ScenarioFactory, make_scenario

BUSY = {  # drops, lateness, rejections, stale memory: every path of the server
    "network__drop": 0.1,
    "network__latency": {"kind": "uniform", "low": 0.0, "high": 1.0},
    "server__round_timeout": 0.9,
    "adversary__attack": "malformed",
    "server__missing": "stale",
}


def logged(sc: Any, path: Path) -> Any:
    return bgdsim.run(sc, log_path=path)


@pytest.fixture
def busy_log(scenario: ScenarioFactory, tmp_path: Path) -> Path:
    path = tmp_path / "busy.jsonl"
    logged(scenario(rounds=6, **BUSY), path)
    return path


def test_read_log_gives_back_every_vector_bit_for_bit(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = tmp_path / "r.jsonl"
    result = logged(scenario(), path)
    events = list(read_log(path, payloads=True))
    thetas = [events[0]["theta"]] + [e["theta"] for e in events if e["event"] == "update"]
    np.testing.assert_array_equal(np.array(thetas), result.thetas)
    assert all(isinstance(e["payload"], np.ndarray) for e in events if e["event"] == "send")
    lines = [e for e in read_log(path) if "seq" in e]  # message events are Arrow records
    assert [e["seq"] for e in lines] == list(range(len(lines)))


@pytest.mark.parametrize(
    "extra",
    [
        {},
        BUSY,
        {"server__aggregator": "krum", "server__missing": "exclude", "network__drop": 0.6},
        {"server__aggregator__rebatch": True, "server__barrier": "quorum"},
        {"problem__size_spread": 0.4, "problem__samples": 4001},
        {"faults": [{"kind": "crash", "workers": [1], "from": 2, "until": 4}],
         "adversary__attack": "timing"},
        {"server__aggregator": "mean", "adversary__attack__scale": 1e300},
        {"server__pre": [{"kind": "nnm"}, {"kind": "bucketing", "s": 2}],
         "server__aggregator__rebatch": True, "problem__size_spread": 0.4,
         "problem__samples": 4001},
        {"server__aggregator": "krum", "server__missing": "exclude", "network__drop": 0.4,
         "server__pre": [{"kind": "bucketing", "s": 1}, "arc"]},
    ],
    ids=["plain", "busy", "skipped-steps", "rebatch-quorum", "unequal-sizes", "faults-timing",
         "diverged", "pre", "pre-skipped-steps"],
)  # fmt: skip
def test_every_kind_of_run_verifies(
    scenario: ScenarioFactory, tmp_path: Path, extra: dict[str, Any]
) -> None:
    path = tmp_path / "v.jsonl"
    result = logged(scenario(rounds=6, **extra), path)
    check = verify(path)
    assert check.ok, check.message()
    assert check.complete and check.rounds == result.rounds
    assert check.message() == f"verified {result.rounds} rounds"


def test_a_pre_chain_is_in_the_header_and_a_rerun_changes_it(
    scenario: ScenarioFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = tmp_path / "p.jsonl"
    pre = [{"kind": "nnm"}, {"kind": "bucketing", "s": 2}]
    logged(scenario(rounds=4, server__pre=pre, adversary__attack__scale=100.0), parent)
    assert next(read_log(parent))["scenario"]["server"]["pre"] == pre
    child = tmp_path / "c.jsonl"
    monkeypatch.setenv("COLUMNS", "200")  # the summary's table on one line per row
    code = main(["replay", str(parent), "--set", 'server.pre=[{kind="adaptive_clipping"}]',
                 "--log-out", str(child)])  # fmt: skip
    assert code == 0
    assert "adaptive_clipping(quantile=0.5) → gmom (k=5)" in capsys.readouterr().out
    header = next(read_log(child))
    assert header["scenario"]["server"]["pre"] == [{"kind": "adaptive_clipping", "quantile": 0.5}]
    assert header["parent"]["log"] == "p.jsonl"
    assert verify(child).ok
    # the chain is part of the recomputation: replayed without it, round 1 differs
    from bgdsim.replay import _header

    real = _header.build

    def without_pre(log: Any) -> Any:
        core, barrier = real(log)
        core.rule.pre = None
        return core, barrier

    monkeypatch.setattr(_header, "build", without_pre)
    check = verify(parent)
    assert not check.ok and "aggregate" in check.message()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _round_of_line(lines: list[bytes], index: int) -> int:
    for raw in reversed(lines[: index + 1]):
        e = orjson.loads(raw)
        if e["event"] == "round_start":
            return int(e["round"])
    return 0


def test_a_flipped_sidecar_byte_is_caught_and_its_round_named(busy_log: Path) -> None:
    events = list(read_log(busy_log))
    ref = next(e["payload"] for e in events if e["event"] == "send" and e["round"] == 4)
    side = busy_log.with_suffix(".bin")
    data = bytearray(side.read_bytes())
    data[ref["offset"] + 3] ^= 0x01
    side.write_bytes(bytes(data))
    check = verify(busy_log)
    assert check.mismatch is not None and check.mismatch[:2] == (4, "integrity")


def test_an_edited_number_is_caught_and_its_round_named(busy_log: Path) -> None:
    lines = _lines(busy_log)
    i = next(i for i, raw in enumerate(lines) if b'"barrier"' in raw and b'"round":3,' in raw)
    e = orjson.loads(lines[i])
    e["time"] = e["time"] * 1.5
    lines[i] = orjson.dumps(e) + b"\n"
    busy_log.write_bytes(b"".join(lines))
    check = verify(busy_log)
    assert check.mismatch is not None and check.mismatch[:2] == (3, "integrity")


def test_an_edited_message_record_is_caught_and_its_round_named(busy_log: Path) -> None:
    seal = next(
        e for e in map(orjson.loads, _lines(busy_log))
        if e["event"] == "round_end" and e["round"] == 3
    )  # fmt: skip
    ref = seal["messages"]
    side = busy_log.with_suffix(".bin")
    data = bytearray(side.read_bytes())
    data[ref["offset"] + ref["bytes"] // 2] ^= 0x01
    side.write_bytes(bytes(data))
    check = verify(busy_log)
    assert check.mismatch is not None and check.mismatch[:2] == (3, "integrity")


def test_an_edited_byzantine_set_is_caught(busy_log: Path) -> None:
    lines = _lines(busy_log)
    i = next(i for i, raw in enumerate(lines)
             if b'"byzantine_set"' in raw and b'"round":2,' in raw)  # fmt: skip
    e = orjson.loads(lines[i])
    e["workers"] = [0, 1]
    lines[i] = orjson.dumps(e) + b"\n"
    busy_log.write_bytes(b"".join(lines))
    check = verify(busy_log)
    assert check.mismatch is not None and check.mismatch[:2] == (2, "integrity")


@pytest.mark.parametrize("edit", ["delete", "swap"])
def test_a_deleted_or_swapped_line_is_caught_and_its_round_named(busy_log: Path, edit: str) -> None:
    lines = _lines(busy_log)
    i = next(
        i for i, raw in enumerate(lines) if b'"event":"barrier"' in raw and b'"round":5' in raw
    )
    if edit == "delete":
        del lines[i]
    else:
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    busy_log.write_bytes(b"".join(lines))
    check = verify(busy_log)
    assert check.mismatch is not None
    assert check.mismatch[0] == _round_of_line(lines, i) == 5
    assert check.mismatch[1] == "sequence"


def test_truncation_anywhere_in_the_last_round_verifies_the_rounds_before(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    # a tiny run keeps "every byte offset" affordable: ~1.5 kB in the last round
    sc = make_scenario(rounds=3, problem__dim=2, problem__samples=40, cluster__workers=2,
                       cluster__byzantine=1, server__aggregator__batches=1)  # fmt: skip
    logged(sc, path)
    full = path.read_bytes()
    last = full.rfind(b'{"event":"round_start"')
    cut = tmp_path / "cut.jsonl"
    (tmp_path / "cut.bin").write_bytes(path.with_suffix(".bin").read_bytes())
    for offset in range(last, len(full)):
        cut.write_bytes(full[:offset])
        check = verify(cut)
        assert check.ok, (offset, check.message())
        assert check.rounds >= 2
        assert not check.complete or offset == len(full)


@pytest.mark.parametrize("delay", [0.6, 1.2, 2.0])
def test_a_killed_run_leaves_a_log_that_verifies_up_to_its_last_complete_round(
    tmp_path: Path, delay: float
) -> None:
    path = tmp_path / "killed.jsonl"
    code = (
        "import sys; from bgdsim.cli import main; sys.exit(main(['run', sys.argv[1], "
        "'--set', 'rounds=100000', '--set', 'problem.samples=10000', '--log', sys.argv[2]]))"
    )
    scenario_file = (
        Path(__file__).resolve().parents[2] / "scenarios" / "paper_linear_regression.toml"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(scenario_file), str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while (not path.exists() or path.stat().st_size < 10_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    check = verify(path)
    assert check.ok, check.message()
    assert check.rounds >= 1 and not check.complete
    assert "verified" in check.message() and "round" in check.message()


def test_verify_reports_progress_per_round(scenario: ScenarioFactory, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    logged(scenario(rounds=4), path)
    calls: list[tuple[int, int]] = []
    assert verify(path, progress=lambda done, total: calls.append((done, total))).ok
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_timeline_lays_out_a_round(busy_log: Path) -> None:
    summary, rows = timeline(busy_log, 3)
    assert summary["round"] == 3 and summary["reason"] in ("all", "timeout")
    assert len(rows) == 20
    byz = [r["worker"] for r in rows if r["byzantine"]]
    assert len(byz) == 2
    assert not any("up_deliver" in rows[j] for j in byz)  # malformed: never accepted
    with pytest.raises(LogError, match="no round 99"):
        timeline(busy_log, 99)


def test_export_csv_writes_one_row_per_event(busy_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    n = export_csv(busy_log, out)
    assert n == len(list(read_log(busy_log)))
    header = out.read_text().splitlines()[0].split(",")
    assert header[:6] == ["seq", "event", "time", "round", "worker", "dir"]
    assert "payload_norm" in header


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_text("hello\n"), "not a bgdsim event log"),
        (lambda p: p.write_bytes(b'{"event":"run_start","seq":0,"time":0.0,"schema":99}\n'),
         "unknown log schema 99"),
        (lambda p: p.write_bytes(b'{"event":"run_start","seq":0,"time":0.0,"schema":2}\n'),
         "sidecar nope.bin is missing"),
        (lambda p: p.write_bytes(b'{"event":"run_start","seq":0,"time":0.0,"schema":1}\n'),
         "log schema 1 (one JSON line per message"),
    ],
    ids=["not-a-log", "unknown-schema", "missing-sidecar", "schema-1"],
)  # fmt: skip
def test_bad_logs_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, fragment: str
) -> None:
    path = tmp_path / "nope.jsonl"
    make(path)
    rc = main(["replay", str(path), "--verify"])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_verify_exits_1_on_a_mismatch(
    busy_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(busy_log), "--verify"]) == 0
    assert "verified 6 rounds" in capsys.readouterr().out
    side = busy_log.with_suffix(".bin")
    data = bytearray(side.read_bytes())
    data[-5] ^= 0xFF
    side.write_bytes(bytes(data))
    assert main(["replay", str(busy_log), "--verify"]) == 1
    assert "mismatch in round" in capsys.readouterr().out


def test_the_python_entry_point(busy_log: Path, tmp_path: Path) -> None:
    assert bgdsim.replay(busy_log).ok
    summary, _ = bgdsim.replay(busy_log, round=2)
    assert summary["round"] == 2
    result = bgdsim.replay(busy_log, overrides={"server.aggregator": "mean"},
                           log_path=tmp_path / "w.jsonl")  # fmt: skip
    assert result.status == "completed" and bgdsim.verify(tmp_path / "w.jsonl").ok
