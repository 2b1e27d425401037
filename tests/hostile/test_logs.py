"""Hostile logs: ``replay --verify`` names the round of every tampering, never prints a
traceback or hangs, and tells a run still being written from a tampered one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bgdsim
from bgdsim import msglog
from bgdsim.replay import LogError
from tests.hostile.conftest import KEY, cli, examples, write
from tests.replay.paths import replaced, reseal, rows_where


def exit_code(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return cli(capsys, "replay", str(path), "--verify")


def events(lines: bytes) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in lines.splitlines()]


# ------------------------------------------------------------ after run_end, nothing
@pytest.mark.parametrize(
    "tail", [b"garbage", b"garbage\n", b'{"event":"fault_start","seq":23,"time":1.0}\n']
)
def test_anything_after_run_end_is_named_in_the_last_round(
    original: tuple[bytes, bytes], tmp_path: Path, tail: bytes, capsys: Any
) -> None:
    lines, side = original
    check = bgdsim.verify(write(tmp_path, lines + tail, side))
    assert check.mismatch is not None and check.mismatch[:2] == (3, "integrity"), check.message()
    assert exit_code(tmp_path / "log.jsonl", capsys)[0] == 1


def test_sidecar_bytes_after_the_last_seal_of_a_finished_run_are_named(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    lines, side = original
    check = bgdsim.verify(write(tmp_path, lines, side + b"\0" * 16))
    assert check.mismatch is not None and check.mismatch[:2] == (3, "integrity")
    assert "16 sidecar bytes" in check.mismatch[2]


def test_a_run_in_progress_is_incomplete_not_tampered(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    lines, side = original
    raw = lines.splitlines(keepends=True)
    seal = [i for i, e in enumerate(events(lines)) if e["event"] == "round_end"][1]
    path = write(tmp_path, b"".join(raw[: seal + 3]) + raw[seal + 3][:5], side + b"\0" * 24)
    check = bgdsim.verify(path)
    assert check.ok and not check.complete and check.rounds == 2, check.message()
    assert "sidecar bytes after the last seal" in check.message()


# ------------------------------------------------------------ the header
def header_edited(lines: bytes, edit: Any) -> bytes:
    raw = lines.splitlines(keepends=True)
    head = json.loads(raw[0])
    edit(head)
    return json.dumps(head).encode() + b"\n" + b"".join(raw[1:])


def workers(h: dict[str, Any]) -> None:
    h["scenario"]["cluster"]["workers"] = 10_000_000
    h["scenario"]["problem"]["samples"] = 70 * 10_000_000


def dim(h: dict[str, Any]) -> None:
    h["scenario"]["problem"]["dim"] = 10**9


def iters(h: dict[str, Any]) -> None:
    h["scenario"]["server"].update(aggregator={"kind": "centered_clipping", "iters": 10**9})


@pytest.mark.parametrize("edit", [workers, dim, iters], ids=["workers", "dim", "iters"])
def test_a_huge_header_value_is_refused_by_name(
    original: tuple[bytes, bytes], tmp_path: Path, edit: Any
) -> None:
    lines, side = original
    path = write(tmp_path, header_edited(lines, edit), side)
    check = bgdsim.verify(path)  # the digest first: the header is in round 1's span
    assert check.mismatch is not None and check.mismatch[:2] == (1, "integrity")
    reseal(path, lambda r, t: None)  # a consistent log: the bounds refuse it
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[:2] == (0, "scenario"), check.message()


@pytest.mark.parametrize(
    "ref",
    [
        {"dtype": "|O"},
        {"offset": -5},
        {"offset": 10**30},
        {"shape": [2, -1]},
        {"shape": "x"},
    ],
)
def test_a_malformed_header_payload_is_refused_without_a_traceback(
    original: tuple[bytes, bytes], tmp_path: Path, ref: dict[str, Any], capsys: Any
) -> None:
    lines, side = original
    path = write(tmp_path, header_edited(lines, lambda h: h["theta"].update(ref)), side)
    assert exit_code(path, capsys)[0] == 1  # round 1's digest
    reseal(path, lambda r, t: None)
    with pytest.raises(LogError, match="cannot be replayed"):
        bgdsim.verify(path)
    assert exit_code(path, capsys)[0] == 2


# ------------------------------------------------------------ records and references
@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ({"offset": 0, "shape": [2**40]}, "past the sidecar's end"),  # was a MemoryError
        ({"offset": 0, "shape": [2**62, 0]}, "past the sidecar's end"),
        ({"offset": 2**70, "shape": [3]}, "past the sidecar's end"),
        ({"offset": 0, "shape": [2, -1]}, "malformed payload reference"),
        ({"offset": -8, "shape": [3]}, "malformed payload reference"),  # was an OSError
        ({"offset": 0, "shape": [3], "dtype": "|O"}, "malformed payload reference"),
        ({"offset": 0, "shape": [3], "dtype": "nonsense"}, "malformed payload reference"),
        ({"offset": 0, "shape": [0] * 70}, "malformed payload reference"),
        ({"offset": True, "shape": [3]}, "malformed payload reference"),
        ({"shape": [3]}, "malformed payload reference"),  # was a KeyError
        (None, "malformed payload reference"),  # was an AttributeError
    ],
)
def test_load_payload_checks_a_reference_before_reading(
    original: tuple[bytes, bytes], tmp_path: Path, ref: Any, says: str
) -> None:
    """The unchecked reader's one vector: bounds first, a ValueError naming the reference."""
    path = write(tmp_path, *original)
    theta = json.loads(original[0].splitlines()[0])["theta"]
    assert bgdsim.load_payload(path, theta).shape == (3,)
    with pytest.raises(ValueError, match=says):
        bgdsim.load_payload(path, ref)


def test_a_spec_of_a_negative_shape_is_a_mismatch(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    path = write(tmp_path, *original)

    def spec(r: int, t: Any) -> Any:
        if r != 1:
            return None
        col = t.column("spec").to_pylist()
        col[rows_where(t, event="send", dir="up")[0]] = "<f8:[2, -1]"
        return replaced(t, spec=col)

    reseal(path, spec)
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[0] == 1


def test_nan_bytes_in_a_report_are_a_mismatch(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    lines, side = original
    ref = next(e for e in events(lines) if e["event"] == "round_end")["messages"]
    table = msglog.decode(side[ref["offset"] : ref["offset"] + ref["bytes"]])
    offset = table.column("payload").to_pylist()[rows_where(table, event="send", dir="up")[1]]
    data = bytearray(side)
    data[offset : offset + 8] = np.array([np.nan]).tobytes()
    path = write(tmp_path, lines, bytes(data))
    assert bgdsim.verify(path).mismatch[:2] == (1, "integrity")  # type: ignore[index]
    reseal(path, lambda r, t: None)
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[0] == 1
    assert "recomputed rejected" in check.mismatch[2]


@pytest.mark.parametrize(
    "ref",
    [
        "abc",
        [1, 2],
        {"offset": -1, "bytes": 5},
        {"offset": 10**30, "bytes": 5},
        {"offset": 1.5e300, "bytes": 5},
        {"offset": 0, "bytes": "x"},
    ],
)
def test_a_malformed_message_reference_is_a_mismatch(
    original: tuple[bytes, bytes], tmp_path: Path, ref: Any, capsys: Any
) -> None:
    lines, side = original
    raw = lines.splitlines(keepends=True)
    i = next(i for i, e in enumerate(events(lines)) if e["event"] == "round_end")
    e = json.loads(raw[i])
    e["messages"] = ref
    raw[i] = json.dumps(e).encode() + b"\n"
    path = write(tmp_path, b"".join(raw), side)
    code, out = exit_code(path, capsys)
    assert code == 1 and "round 1" in out


def test_a_record_claiming_an_impossible_size_is_refused(
    original: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    lines, side = original
    ref = next(e for e in events(lines) if e["event"] == "round_end")["messages"]
    data = bytearray(side)
    assert data[ref["offset"] : ref["offset"] + 4] == b"BGZ1"
    data[ref["offset"] + 4 : ref["offset"] + 12] = (2**62).to_bytes(8, "little")
    code, out = exit_code(write(tmp_path, lines, bytes(data)), capsys)
    assert code == 1 and "round 1" in out


# ------------------------------------------------------------ run_end's own line
@pytest.mark.parametrize(
    ("old", "new"),
    [(b'"status":"completed"', b'"status":"diverged"'), (b'"up_late":0', b'"up_late":9')],
)
def test_an_edit_of_run_end_itself_is_an_integrity_mismatch(
    original: tuple[bytes, bytes], tmp_path: Path, old: bytes, new: bytes, capsys: Any
) -> None:
    lines, side = original
    last = lines.splitlines(keepends=True)[-1]
    assert old in last
    path = write(tmp_path, lines[: -len(last)] + last.replace(old, new, 1), side)
    code, out = exit_code(path, capsys)
    assert code == 1 and "mismatch in round 3: integrity: digest differs" in out, out


def test_a_seal_line_must_end_with_its_digest(
    original: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    lines, side = original
    raw = lines.splitlines(keepends=True)
    i = next(i for i, e in enumerate(events(lines)) if e["event"] == "round_end")
    head, _, tail = raw[i].rpartition(b',"digest":')
    raw[i] = b'{"digest":' + tail[:-2] + b"," + head[1:] + b"}\n"  # the same fields, reordered
    assert json.loads(raw[i]) == events(lines)[i]
    code, out = exit_code(write(tmp_path, b"".join(raw), side), capsys)
    assert (
        code == 1 and "round 1: integrity: the round_end line does not end with its digest" in out
    )


# ------------------------------------------------------------ any single edit
EDITS = ("flip", "delete", "insert", "truncate")


def edited(blob: bytes, op: str, at: int, byte: int) -> bytes:
    """``blob`` with one byte flipped (xor ``byte``, 1..255), deleted or inserted at
    ``at``, or cut there."""
    if op == "flip":
        return blob[:at] + bytes([blob[at] ^ byte]) + blob[at + 1 :]
    if op == "delete":
        return blob[:at] + blob[at + 1 :]
    if op == "insert":
        return blob[:at] + bytes([byte]) + blob[at:]
    return blob[:at]


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    key=st.sampled_from([None, KEY]),
    which=st.sampled_from(["jsonl", "bin"]),
    op=st.sampled_from(EDITS),
    byte=st.integers(1, 255),
)
def test_any_single_byte_edit_is_named_or_harmless(
    original: tuple[bytes, bytes],
    signed: tuple[bytes, bytes],
    tmp_path: Path,
    data: Any,
    key: bytes | None,
    which: str,
    op: str,
    byte: int,
) -> None:
    # every byte of both files, run_end's line included; the signed log checked with its key
    lines, side = original if key is None else signed
    blob = lines if which == "jsonl" else side
    at = data.draw(st.integers(0, len(blob) - 1))
    new = edited(blob, op, at, byte)
    assert new != blob
    path = write(tmp_path, new, side) if which == "jsonl" else write(tmp_path, lines, new)
    try:
        check = bgdsim.verify(path, sign_key=key)
    except LogError:
        event("exit 2: not a readable log")
        return
    if check.ok:
        # never "verified" in full: a cut (or a last newline lost) reads as a run still
        # being written, verified up to its last seal
        torn = op == "truncate" or (which == "jsonl" and at == len(blob) - 1)
        assert torn and not check.complete, check.message()
        event("exit 0: incomplete, verified up to the last seal")
    else:
        assert check.mismatch is not None and check.mismatch[0] >= 0
        event(f"exit 1: {check.mismatch[1]} mismatch named")
