"""Shared by the hostile suite: a tiny logged run, writing edited copies of it, and the
command line called in-process (exit code and output, never a traceback)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import bgdsim
from bgdsim.cli import main
from tests.conftest import ScenarioFactory, make_scenario
from tests.live.conftest import tiny

#: 3 rounds, m = 20 (the default k = 20 batches: one report each), d = 3: a log of a
#: few kilobytes, with the default rule and attack
TINY: dict[str, Any] = {
    "rounds": 3,
    "problem__dim": 3,
    "problem__samples": 1400,
    "cluster__workers": 20,
    "cluster__byzantine": 2,
}


def examples(default: int) -> int:
    """A property test's ``max_examples``: ``default`` (kept small: the suite runs by
    default), or ``$BGDSIM_HOSTILE_EXAMPLES`` for a deeper search."""
    return int(os.environ.get("BGDSIM_HOSTILE_EXAMPLES", default))


#: a signing key (32 bytes) and another one
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def tiny_log(folder: Path, **kwargs: Any) -> tuple[bytes, bytes]:
    """The lines and sidecar of a tiny run logged in ``folder`` (``kwargs`` to ``run``)."""
    path = folder / "tiny.jsonl"
    bgdsim.run(make_scenario(**TINY), log_path=path, **kwargs)
    return path.read_bytes(), path.with_suffix(".bin").read_bytes()


@pytest.fixture(scope="session")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """An unsigned tiny log: (lines, sidecar)."""
    return tiny_log(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The same run, signed with :data:`KEY`: (lines, sidecar)."""
    return tiny_log(tmp_path_factory.mktemp("signed"), sign_key=KEY)


@pytest.fixture
def live_scenario() -> ScenarioFactory:
    """Tiny scenarios for wall-clock runs (as in tests/live)."""
    return tiny


def write(tmp: Path, lines: bytes, side: bytes, name: str = "log") -> Path:
    """A log of these bytes (and its sidecar) in ``tmp``."""
    path = tmp / f"{name}.jsonl"
    path.write_bytes(lines)
    path.with_suffix(".bin").write_bytes(side)
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``bgdsim ARGV`` in this process: (exit code, stdout + stderr). Bad input is one
    line on stderr, and nothing is ever a traceback."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
    return code, out + err
