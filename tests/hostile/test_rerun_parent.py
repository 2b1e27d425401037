"""A re-run verifies its parent first: a tampered log is refused (round named, nothing
written), a log still being written is re-run over the rounds that verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import bgdsim
from bgdsim.config import ScenarioError
from bgdsim.replay import ParentMismatch, read_log
from tests.hostile.conftest import KEY, OTHER_KEY, cli, write
from tests.hostile.test_signed_logs import rewritten
from tests.replay.paths import rechain

MEAN = {"server.aggregator": "mean"}


def edited(lines: bytes, side: bytes, t: int, event: str, **fields: Any) -> bytes:
    """The log with round t's ``event`` line given ``fields`` (not re-chained)."""
    raw = lines.splitlines(keepends=True)
    for i, line in enumerate(raw):
        e = orjson.loads(line)
        if e["event"] == event and e.get("round") == t:
            raw[i] = orjson.dumps({**e, **fields}) + b"\n"
            return b"".join(raw)
    raise AssertionError(f"no {event} in round {t}")


def rechained(lines: bytes, side: bytes) -> bytes:
    raw = lines.splitlines(keepends=True)
    return rechain(raw, [orjson.loads(r) for r in raw], side)


def refused(parent: Path, child: Path, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ParentMismatch) as caught:
        bgdsim.rerun(parent, MEAN, log_path=child, **kwargs)
    assert not child.exists() and not child.with_suffix(".bin").exists()
    mismatch = caught.value.verification.mismatch
    assert mismatch is not None
    assert (f"round {mismatch[0]}" if mismatch[0] else "the header") in str(caught.value)
    return mismatch


def test_a_parent_whose_bytes_were_changed_is_refused(
    original: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    lines, side = original
    parent = write(tmp_path, edited(lines, side, 2, "byzantine_set", workers=[0, 1]), side)
    assert refused(parent, tmp_path / "child.jsonl")[:2] == (2, "integrity")
    code, out = cli(capsys, "replay", str(parent), "--set", "server.aggregator=mean",
                    "--log-out", str(tmp_path / "cli.jsonl"))  # fmt: skip
    assert code == 1 and not (tmp_path / "cli.jsonl").exists()
    assert "does not verify, nothing was re-run: mismatch in round 2: integrity" in out
    assert len(out.strip().splitlines()) == 1


def test_a_parent_rechained_after_an_edit_is_refused_by_the_recomputation(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """The digests agree again: only recomputing round 2 finds the edit."""
    lines, side = original
    parent = write(tmp_path, rechained(edited(lines, side, 2, "update", error=0.5), side), side)
    assert refused(parent, tmp_path / "child.jsonl")[:2] == (2, "error")


def test_a_header_rechained_with_a_huge_size_is_named_as_the_parents_fault(
    original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """Not an invalid ``cluster.workers`` of the re-run: the parent's header is damaged."""
    lines, side = original
    raw = lines.splitlines(keepends=True)
    head = orjson.loads(raw[0])
    head["scenario"]["cluster"]["workers"] = 10_000_000
    raw[0] = orjson.dumps(head) + b"\n"
    parent = write(tmp_path, rechained(b"".join(raw), side), side)
    assert refused(parent, tmp_path / "child.jsonl")[:2] == (0, "scenario")


def test_a_signed_parent_rewritten_and_rechained_is_refused_with_its_key(
    signed: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """The key that signs the re-run checks the parent's signatures when it signed it."""
    lines, side = signed
    parent = write(tmp_path, rewritten(lines, side, 2), side)
    assert refused(parent, tmp_path / "child.jsonl", sign_key=KEY)[:2] == (2, "signature")
    other = bgdsim.rerun(parent, MEAN, log_path=tmp_path / "other.jsonl", sign_key=OTHER_KEY)
    assert other.rounds == 3  # another key cannot check it: the unkeyed chain holds


def test_a_parent_still_being_written_is_rerun_over_its_verified_rounds(
    original: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    lines, side = original
    raw = lines.splitlines(keepends=True)
    seal = [i for i, r in enumerate(raw) if b'"event":"round_end"' in r][1]
    cut = b"".join(raw[: seal + 3]) + raw[seal + 3][:5]
    parent = write(tmp_path, cut, side + b"\0" * 24)  # round 3 half written
    result = bgdsim.rerun(parent, MEAN, log_path=tmp_path / "child.jsonl")
    assert (result.status, result.rounds) == ("completed", 2)
    header = next(read_log(tmp_path / "child.jsonl"))
    assert header["parent"]["digest"] == orjson.loads(raw[seal])["digest"]  # round 2's seal
    assert bgdsim.verify(tmp_path / "child.jsonl").ok
    with pytest.raises(ScenarioError, match="the parent log has 2 complete rounds"):
        bgdsim.rerun(parent, {**MEAN, "rounds": 3}, log_path=tmp_path / "more.jsonl")
    code, out = cli(capsys, "replay", str(parent), "--set", "server.aggregator=mean",
                    "--log-out", str(tmp_path / "cli.jsonl"))  # fmt: skip
    assert code == 0
    assert "the parent log has 2 verified complete rounds of the 3" in out


def test_a_parent_with_no_complete_round_is_bad_input(
    original: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    lines, side = original
    raw = lines.splitlines(keepends=True)
    parent = write(tmp_path, b"".join(raw[:3]), side)
    code, out = cli(capsys, "replay", str(parent), "--set", "server.aggregator=mean",
                    "--log-out", str(tmp_path / "cli.jsonl"))  # fmt: skip
    assert code == 2 and "no complete round to re-run" in out
    assert not (tmp_path / "cli.jsonl").exists()
