"""A sweep's ``results.csv``: reading it, its swept keys, its final errors.

The columns are described in :mod:`bgdsim.plots`; these helpers read the file (with a
:class:`ValueError` naming it and the problem), find the swept keys, tell numeric keys
and zipped keys apart and pick out the positive finite final errors that a log-scale
figure can show.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RESULTS_FILE", "Setting", "kind_of", "read_table"]

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


def read_table(results_dir: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """A sweep's ``results.csv`` as its columns and its rows of text.

    Raises:
        ValueError: not a directory, no ``results.csv``, unreadable, empty, or without
            ``final_error``.
    """
    return _read_results(Path(results_dir))


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


def _lookup(data: Any, key: str) -> Any:
    """A dotted key in nested tables (None if absent): ``server.aggregator.batches``."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def kind_of(value: Any) -> str:
    """A component's kind, whether given as a name, a table or a table's JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return str(value.get("kind", ""))
    return str(value)


class Setting:
    """A sweep's base scenario (``sweep.json``, resolved with its defaults where it
    validates) and its rows: :meth:`value` is a row's value of any scenario key."""

    def __init__(self, folder: Path, rows: list[dict[str, str]]) -> None:
        self.base: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            raw = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))["scenario"]
            self.base = raw if isinstance(raw, dict) else {}
        if self.base:
            from bgdsim.config import ScenarioError, validate_scenario

            with contextlib.suppress(ScenarioError):  # e.g. a trace named relative to it
                self.base = validate_scenario(self.base).to_dict()
        self.seeds = len({r.get("seed", "") for r in rows})
        self.rows = rows

    def fixed(self, key: str) -> Any:
        """``key``'s value in every row when the rows hold one value for it (a grid entry
        of a single value), else the base scenario's."""
        values = {r.get(key) for r in self.rows}
        if len(values) == 1 and (got := values.pop()) not in (None, ""):
            try:
                return json.loads(got)  # results.csv holds numbers and tables as JSON
            except (TypeError, ValueError):
                return got
        return _lookup(self.base, key)

    def value(self, row: dict[str, str], key: str) -> Any:
        """The row's value of ``key`` if it has one, else the base scenario's."""
        got = row.get(key)
        return got if got not in (None, "") else _lookup(self.base, key)

    def describe(self, swept: Iterable[str]) -> str:
        """The attack, the schedule and q of m, each unless swept (a key with one value in
        every row shows that value): ``sign_flip(scale=10), random sets, $q$ = 5 of $m$ = 100``."""
        from bgdsim.plots.style import value_text

        swept = set(swept)
        parts = []
        for key, fmt in (("adversary.attack", "{}"), ("adversary.schedule", "{} sets")):
            value = self.fixed(key)
            if key not in swept and value is not None:
                parts.append(fmt.format(value_text(value)))
        q, m = self.fixed("cluster.byzantine"), self.fixed("cluster.workers")
        if "cluster.byzantine" not in swept and q is not None:
            of_m = f" of $m$ = {m}" if "cluster.workers" not in swept else ""
            parts.append(f"$q$ = {q}{of_m}")
        elif "cluster.workers" not in swept and m is not None:
            parts.append(f"$m$ = {m}")
        return ", ".join(parts)
