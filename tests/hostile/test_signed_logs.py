"""A signed log: a round rewritten and re-chained by someone without the key fails
``--verify --sign-key``, naming the round; the unkeyed chain alone cannot tell."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

import bgdsim
from bgdsim.eventlog.signing import SignKeyError, key_id
from bgdsim.live import run_asyncio, run_tcp
from tests.conftest import make_scenario
from tests.hostile.conftest import KEY, OTHER_KEY, TINY, cli, write
from tests.replay.paths import rechain


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.key"
    path.write_text(KEY.hex() + "\n")
    return path


def rewritten(lines: bytes, side: bytes, t: int, *, strip: bool = False) -> bytes:
    """The log with round t's Byzantine set changed and every digest re-chained, as
    anyone can without the key (``strip``: signatures and the header's ``signed`` gone)."""
    raw = lines.splitlines(keepends=True)
    events = [orjson.loads(r) for r in raw]
    for e in events:
        if e["event"] == "byzantine_set" and e["round"] == t:
            e["workers"] = [0, 1]
        if strip:
            e.pop("signed", None)
            e.pop("signature", None)
    raw = [raw[i] if e["event"] != "byzantine_set" and not strip else orjson.dumps(e) + b"\n"
           for i, e in enumerate(events)]  # fmt: skip
    return rechain(raw, events, side)


def test_a_signed_log_verifies_with_its_key_and_says_so(
    signed: tuple[bytes, bytes], tmp_path: Path, key_file: Path, capsys: Any
) -> None:
    path = write(tmp_path, *signed)
    head = orjson.loads(signed[0].splitlines()[0])
    assert head["signed"] == {"alg": "hmac-sha256", "key_id": key_id(KEY)}
    seals = [orjson.loads(r) for r in signed[0].splitlines() if b'"digest"' in r]
    assert len(seals) == TINY["rounds"] + 1 and all(len(e["signature"]) == 64 for e in seals)
    code, out = cli(capsys, "replay", str(path), "--verify", "--sign-key", str(key_file))
    assert code == 0
    assert f"verified 3 rounds; signatures checked (key id {key_id(KEY)})" in out
    check = bgdsim.verify(path, sign_key=KEY)
    assert check.ok and check.signatures and check.signed == key_id(KEY)


def test_without_the_key_a_signed_log_is_said_signed_but_unchecked(
    signed: tuple[bytes, bytes], tmp_path: Path, capsys: Any
) -> None:
    code, out = cli(capsys, "replay", str(write(tmp_path, *signed)), "--verify")
    assert code == 0
    assert "verified 3 rounds; signed (key id" in out
    assert "signatures not checked: no signing key given" in out


@pytest.mark.parametrize("t", [1, 2, 3])
def test_a_round_rewritten_and_rechained_fails_with_the_key(
    signed: tuple[bytes, bytes], tmp_path: Path, key_file: Path, t: int, capsys: Any
) -> None:
    lines, side = signed
    path = write(tmp_path, rewritten(lines, side, t), side)
    assert bgdsim.verify(path).ok  # the chain alone: consistent again (what a key adds)
    code, out = cli(capsys, "replay", str(path), "--verify", "--sign-key", str(key_file))
    assert code == 1
    assert f"mismatch in round {t}: signature: does not match the signing key" in out


def test_stripped_signatures_fail_with_the_key(
    signed: tuple[bytes, bytes], original: tuple[bytes, bytes], tmp_path: Path
) -> None:
    lines, side = signed
    path = write(tmp_path, rewritten(lines, side, 2, strip=True), side)
    assert bgdsim.verify(path).ok and bgdsim.verify(path).signed is None
    check = bgdsim.verify(path, sign_key=KEY)
    assert check.mismatch == (0, "signature", "the log is not signed (its header names no key)")
    check = bgdsim.verify(write(tmp_path, *original, name="plain"), sign_key=KEY)
    assert check.mismatch is not None and check.mismatch[:2] == (0, "signature")


def test_a_signature_removed_from_one_seal_is_named(
    signed: tuple[bytes, bytes], tmp_path: Path
) -> None:
    lines, side = signed
    raw = lines.splitlines(keepends=True)
    events = [orjson.loads(r) for r in raw]
    i = next(i for i, e in enumerate(events) if e["event"] == "round_end" and e["round"] == 2)
    del events[i]["signature"]
    raw[i] = orjson.dumps(events[i]) + b"\n"
    path = write(tmp_path, rechain(raw, events, side), side)
    check = bgdsim.verify(path, sign_key=KEY)
    assert check.mismatch is not None and check.mismatch[:2] == (2, "signature")
    assert "is not signed" in check.mismatch[2]


def test_another_key_is_named_by_its_id(signed: tuple[bytes, bytes], tmp_path: Path) -> None:
    check = bgdsim.verify(write(tmp_path, *signed), sign_key=OTHER_KEY)
    assert check.mismatch is not None and check.mismatch[:2] == (0, "signature")
    assert key_id(KEY) in check.mismatch[2] and key_id(OTHER_KEY) in check.mismatch[2]


def test_signing_from_python_with_a_key_or_its_file(tmp_path: Path, key_file: Path) -> None:
    sc = make_scenario(**TINY)
    a = bgdsim.run(sc, log_path=tmp_path / "a.jsonl", sign_key=KEY).log_path
    b = bgdsim.run(sc, log_path=tmp_path / "b.jsonl", sign_key=key_file).log_path
    assert a is not None and b is not None
    assert a.read_bytes() == b.read_bytes()  # the same key, the same bytes
    assert bgdsim.replay(a, sign_key=key_file).signatures
    child = bgdsim.rerun(a, {"server.aggregator": "mean"}, log_path=tmp_path / "c.jsonl",
                         sign_key=KEY)  # fmt: skip
    assert child.log_path is not None and bgdsim.verify(child.log_path, sign_key=KEY).ok
    with pytest.raises(SignKeyError, match="must be 16 to 64 bytes, got 3"):
        bgdsim.run(sc, log_path=tmp_path / "d.jsonl", sign_key=b"abc")
    with pytest.raises(SignKeyError, match="must be bytes"):
        bgdsim.verify(a, sign_key=123)  # type: ignore[arg-type]
    assert not (tmp_path / "d.jsonl").exists()


def test_live_runtimes_sign_their_logs(tmp_path: Path) -> None:
    sc = make_scenario(**TINY, network__latency={"kind": "constant", "value": 0.01})
    a = run_asyncio(sc, log_path=tmp_path / "a.jsonl", time_scale=0.01, sign_key=KEY)
    b = asyncio.run(run_tcp(sc, log_path=tmp_path / "b.jsonl", time_scale=0.01, sign_key=KEY))
    for result in (a, b):
        assert result.log_path is not None
        check = bgdsim.verify(result.log_path, sign_key=KEY)
        assert check.ok and check.signatures, check.message()


# ------------------------------------------------------------ the key file
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such key file"),
        ("", "the key file is empty"),
        ("  \n", "the key file is empty"),
        ("not hex\n", "not a hex key"),
        ("abcd\n", "a key must be 16 to 64 bytes, got 2"),
        ("ab" * 65, "a key must be 16 to 64 bytes, got 65"),
    ],
)
@pytest.mark.parametrize("command", ["run", "verify"])
def test_a_bad_key_file_is_exit_2_naming_it(
    tmp_path: Path,
    signed: tuple[bytes, bytes],
    content: str | None,
    message: str,
    command: str,
    capsys: Any,
) -> None:
    key = tmp_path / "k.key"
    if content is not None:
        key.write_text(content)
    if command == "run":
        scenario = tmp_path / "s.toml"
        scenario.write_text("rounds = 2\n")
        argv = ["run", str(scenario), "--log", str(tmp_path / "x.jsonl")]
    else:
        argv = ["replay", str(write(tmp_path, *signed)), "--verify"]
    code, out = cli(capsys, *argv, "--sign-key", str(key))
    assert code == 2
    assert f"bgdsim: error: --sign-key {key}: {message}" in out
    assert "cannot write" not in out
    assert not (tmp_path / "x.jsonl").exists()


def test_a_key_file_that_is_not_a_file(tmp_path: Path, capsys: Any) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("rounds = 2\n")
    code, out = cli(capsys, "run", str(scenario), "--no-log", "--sign-key", str(tmp_path))
    assert code == 2 and "--sign-key: there is no log to sign with --no-log" in out
    code, out = cli(capsys, "run", str(scenario), "--sign-key", str(tmp_path))
    assert code == 2 and f"--sign-key {tmp_path}: the key file is a directory" in out
