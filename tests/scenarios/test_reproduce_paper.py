"""scenarios/reproduce_paper.py --quick: every section, figure and verdict, into a tmp dir."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "scenarios" / "reproduce_paper.py"


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(path.as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_quick_reproduction_writes_every_section_into_its_out_dir(tmp_path: Path) -> None:
    docs = _digest(ROOT / "docs")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "elapsed" in proc.stdout  # progress lines
    report = (tmp_path / "reproduction.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"^## (\d+)\.", report, flags=re.MULTILINE)]
    assert numbers == list(range(11))
    for body in re.split(r"^## \d+\.", report, flags=re.MULTILINE)[2:]:
        assert "**Prediction.**" in body
        assert "**Measured.**" in body
        assert "**Verdict.**" in body
    links = re.findall(r"\]\((figures/[\w.]+\.png)\)", report)
    assert len(links) == 10
    for link in links:
        assert (tmp_path / link).stat().st_size > 0
        assert (tmp_path / link).with_suffix(".svg").stat().st_size > 0
    assert re.search(r"\bnan\b", report) is None
    assert _digest(ROOT / "docs") == docs  # tracked docs only with --update-docs


def test_update_docs_does_not_take_an_out_dir(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--update-docs", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--update-docs" in proc.stderr
    assert not any(tmp_path.iterdir())
