"""A sweep's ``results.csv``: reading it, its swept keys, its final errors.

The columns are described in :mod:`bgdsim.plots`; these helpers read the file (with a
:class:`ValueError` naming it and the problem), find the swept keys, tell numeric keys
and zipped keys apart and pick out the positive finite final errors that a log-scale
figure can show.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["RESULTS_FILE"]

RESULTS_FILE = "results.csv"


def _as_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _read_results(results_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not results_dir.is_dir():
        raise ValueError(f"{results_dir}: not a directory")
    path = results_dir / RESULTS_FILE
    if not path.is_file():
        raise ValueError(f"{results_dir}: no {RESULTS_FILE} (not a sweep's results directory)")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    if not columns:
        raise ValueError(f"{path}: empty results file (no header)")
    if "final_error" not in columns:
        raise ValueError(f"{path}: missing column 'final_error' (columns: {', '.join(columns)})")
    if not rows:
        raise ValueError(f"{path}: empty results file (a header but no rows)")
    return columns, rows


def _swept_keys(columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    keys: list[str] = []
    if "cell" in columns and "seed" in columns:
        a, b = columns.index("cell"), columns.index("seed")
        keys = columns[a + 1 : b] if a < b else []
    if not keys:
        keys = [c for c in columns if "." in c]
    return [k for k in keys if len({r.get(k, "") for r in rows}) > 1]


def _is_numeric(key: str, rows: list[dict[str, str]]) -> bool:
    return all(_as_float(r.get(key) or "") is not None for r in rows)


def _finals(rows: Iterable[dict[str, str]]) -> np.ndarray:
    vals = [_as_float(r.get("final_error") or "") for r in rows]
    arr = np.array([v for v in vals if v is not None], dtype=float)
    return arr[np.isfinite(arr) & (arr > 0)]


def _follows(key: str, x: str, rows: list[dict[str, str]]) -> bool:
    """Whether ``key`` takes one value per value of ``x`` (a zipped axis, e.g. k = 4q)."""
    pairs = {(r.get(x, ""), r.get(key, "")) for r in rows}
    return len(pairs) == len({xv for xv, _ in pairs})
