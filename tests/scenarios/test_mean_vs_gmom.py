"""scenarios/mean_vs_gmom.py runs (it once broke on a strict parameter check: the mean
has no batches) and prints its table."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_script_prints_its_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["mean_vs_gmom.py", "--rounds", "3"])
    runpy.run_path(str(ROOT / "scenarios" / "mean_vs_gmom.py"), run_name="__main__")
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| q | mean") and len(rows) == 1 + 7  # the header, 7 q
    assert all(row.count("|") == 5 for row in rows)
