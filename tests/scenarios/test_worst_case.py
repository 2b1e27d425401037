"""scenarios/worst_case.py: the quick run, the table's format, the README block, the sweep."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scenarios"))
import worst_case
from _worst_table import (
    BEGIN,
    END,
    Cell,
    column,
    format_table,
    parse_table,
    read_block,
    replace_block,
)

SCRIPT = ROOT / "scenarios" / "worst_case.py"


def test_quick_run_prints_and_writes_the_worst_case_table(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_bytes()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--jobs", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[5/5] nnm → gmom at q = 6: done" in proc.stderr  # progress lines
    table = (tmp_path / "table.md").read_text(encoding="utf-8")
    assert table in proc.stdout
    cells = parse_table(table)
    q1, q6 = column(1, 20), column(6, 20)
    assert cells["bulyan", q6] == Cell(None)  # n ≥ 4f + 3 fails: 20 < 27
    assert "bulyan at q = 6: n/a (precondition)" in table
    assert "schedule scripted: refused with its defaults" in table
    mean = cells["mean", q6].ratio
    assert mean is not None
    assert mean > 100  # 6 sign flips ×10 among 20 reports overturn the mean
    for label in ("bulyan", "nnm → gmom"):
        robust = cells[label, q1]
        assert robust.ratio is not None
        assert robust.ratio < 2
        assert robust.attack in {"sign_flip", "alie"}
    with (tmp_path / "runs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # 5 rule × q pairs, each: the fault-free run + 2 attacks × 2 schedules (one seed)
    assert len(rows) == 5 * (1 + 2 * 2)
    again = tmp_path / "again"
    assert worst_case.main(["--quick", "--from-runs", str(tmp_path / "runs.csv"),
                            "--out", str(again)]) == 0  # fmt: skip
    assert (again / "table.md").read_text(encoding="utf-8") == table
    assert (ROOT / "README.md").read_bytes() == readme


def test_table_format_and_parse_agree() -> None:
    plan = worst_case.make_plan(quick=True)
    cells = {
        ("mean", 1): Cell(12.345, "sign_flip", "batch_spread"),
        ("mean", 6): Cell(math.inf, "gm_shift", "random", 3, 84),
        ("bulyan", 1): Cell(0.98765, "alie", "adaptive"),
        ("bulyan", 6): Cell(None),
        ("nnm → gmom", 1): Cell(math.inf, "fault-free"),
        ("nnm → gmom", 6): Cell(2e5, "ipm", "static"),
    }
    text = format_table(plan, 20, cells, {"mean": (1.0, 1.0), "bulyan": (1.234, 1.31)})
    assert "| bulyan | 0.988 (alie, adaptive) | n/a (precondition) | 1.23–1.31 |" in text
    assert text.splitlines()[-1].endswith("| n/a |")  # nnm → gmom: no fault-free cost
    parsed = parse_table(text)
    for (label, q), cell in cells.items():
        back = parsed[label, column(q, 20)]
        assert (back.attack, back.schedule, back.diverged) == (cell.attack, cell.schedule,
                                                               cell.diverged)  # fmt: skip
        if cell.ratio is None or not math.isfinite(cell.ratio):
            assert back.ratio == cell.ratio
        else:
            assert back.ratio == pytest.approx(cell.ratio, rel=1e-2)


def test_the_readme_block_is_the_full_grid_in_the_scripts_format() -> None:
    block = read_block((ROOT / "README.md").read_text(encoding="utf-8"))
    plan = worst_case.make_plan(quick=False)
    cells = parse_table(block)
    columns = [column(q, worst_case.M) for q in plan.qs]
    assert set(cells) == {(r.label, c) for r in plan.rules for c in columns}
    assert cells["bulyan", columns[-1]] == Cell(None)  # 20 < 4·6 + 3


def test_replace_block_rewrites_only_between_the_markers() -> None:
    text = f"head\n{BEGIN}\nold table\n{END}\ntail\n"
    assert replace_block(text, "new\n") == f"head\n{BEGIN}\nnew\n{END}\ntail\n"
    with pytest.raises(ValueError, match="marker"):
        replace_block("head\ntail\n", "new")
    with pytest.raises(ValueError, match="marker"):
        replace_block(f"{END}\n{BEGIN}\n", "new")


def test_the_sweep_file_is_the_scripts_grid() -> None:
    plan = worst_case.make_plan(quick=False)
    text = worst_case.sweep_text(plan, worst_case.screen(plan), worst_case.NOBODY,
                                 worst_case.overrides)  # fmt: skip
    assert worst_case.SWEEP.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("q", "k"), [(0, 1), (1, 4), (2, 10), (3, 20), (4, 20), (6, 20)])
def test_batches_are_the_smallest_divisor_of_m_at_least_4q(q: int, k: int) -> None:
    assert worst_case.batches(20, q) == k
