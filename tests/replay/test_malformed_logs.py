"""Malformed logs meet every reader with a ``LogError`` naming the round and the problem.

A consistent log (every digest recomputed) whose message record says something the
writer never writes — an unknown code, a missing or mistyped column, a worker the run
does not have, a ``spec`` that is not ``DTYPE:SHAPE`` — is refused by ``replay --round``,
``--export csv|parquet``, :func:`bgdsim.read_log` and :func:`bgdsim.read_messages` with one
line (exit 2), and is an ``integrity`` mismatch of its round for ``--verify``; a reference
of more than 32 dimensions is refused by name; closing a log never masks the error on its
way out; the round view and the Parquet export keep their types on unusual logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bgdsim
from bgdsim.cli import main
from bgdsim.replay import Log, LogError, checker, export_csv, export_parquet, timeline
from tests.conftest import make_scenario
from tests.replay.paths import replaced, reseal, rows_where

SMALL = {"rounds": 3, "problem__dim": 4, "problem__samples": 800, "cluster__workers": 8,
         "cluster__byzantine": 2, "server__aggregator__batches": 2}  # fmt: skip
M = SMALL["cluster__workers"]


def logged(path: Path, **overrides: Any) -> Path:
    bgdsim.run(make_scenario(**{**SMALL, **overrides}), log_path=path)
    return path


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return logged(tmp_path_factory.mktemp("plain") / "p.jsonl")


def copied(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    dst.with_suffix(".bin").write_bytes(src.with_suffix(".bin").read_bytes())
    return dst


def set_column(table: pa.Table, name: str, array: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, array)


def first_up_send(table: pa.Table) -> int:
    return rows_where(table, dir="up", event="send")[0]


def one_value(name: str, value: Any, row: Callable[[pa.Table], int] = first_up_send) -> Any:
    """An edit putting ``value`` into one row of column ``name``."""

    def edit(table: pa.Table) -> pa.Table:
        values = table.column(name).to_pylist()
        values[row(table)] = value
        return replaced(table, **{name: values})

    return edit


def deep_spec() -> str:
    return "<f8:" + "[" * 5000 + "]" * 5000


EDITS: dict[str, tuple[Callable[[pa.Table], pa.Table], str]] = {
    "unknown event code": (one_value("event", 9), "unknown event code 9"),
    "unknown direction code": (one_value("dir", 7), "unknown direction code 7"),
    "worker m": (one_value("worker", M), f"no worker {M} \\(the run has workers 0 … {M - 1}\\)"),
    "negative worker": (one_value("worker", -3), "no worker -3"),
    "null worker": (
        lambda t: set_column(
            t, "worker", pa.array([None, *t.column("worker").to_pylist()[1:]], pa.int32())
        ),
        "the 'worker' column has nulls \\(row 0\\)",
    ),
    "no round column": (lambda t: t.drop_columns(["round"]), "no 'round' column"),
    "no spec column": (lambda t: t.drop_columns(["spec"]), "no 'spec' column"),
    "spec without a colon": (
        one_value("spec", "abc"),
        "the 'spec' column: payload spec 'abc' is not DTYPE:SHAPE",
    ),
    "spec nested 5000 deep": (
        one_value("spec", deep_spec()),
        "the 'spec' column: payload spec '<f8:\\[\\[.*…",
    ),
    "spec of a negative size": (
        one_value("spec", "<f8:[-1]"),
        "the 'spec' column: payload spec '<f8:\\[-1\\]' is not",
    ),
    "string byzantine column": (
        lambda t: set_column(t, "byzantine", pa.array(["x"] * t.num_rows)),
        "the 'byzantine' column is string, not bool",
    ),
    "string time column": (
        lambda t: set_column(t, "time", pa.array(["x"] * t.num_rows)),
        "the 'time' column is string, not double",
    ),
    "string wall column": (
        lambda t: t.append_column("wall", pa.array(["x"] * t.num_rows)),
        "the 'wall' column is string, not double",
    ),
}


@pytest.fixture(scope="module", params=list(EDITS), ids=list(EDITS))
def malformed(
    request: pytest.FixtureRequest, plain: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    edit, says = EDITS[request.param]
    path = copied(plain, tmp_path_factory.mktemp("m") / "m.jsonl")
    reseal(path, lambda r, table: edit(table) if r == 2 else None)
    return path, "malformed message records of round 2 \\(byte \\d+\\): (row \\d+: )?" + says


def test_the_python_readers_raise_a_log_error_naming_round_and_problem(
    malformed: tuple[Path, str], tmp_path: Path
) -> None:
    path, says = malformed
    with pytest.raises(LogError, match=says):
        list(bgdsim.read_log(path, payloads=True))
    with pytest.raises(LogError, match=says):
        bgdsim.read_messages(path)
    with pytest.raises(LogError, match=says):
        timeline(path, 2)
    with pytest.raises(LogError, match=says):
        export_csv(path, tmp_path / "x.csv")
    with pytest.raises(LogError, match=says):
        export_parquet(path, tmp_path / "x")


@pytest.mark.parametrize(
    "command", [["--round", "2"], ["--round", "3"], ["--export", "csv"], ["--export", "parquet"]]
)
def test_the_cli_exits_2_with_one_line(
    malformed: tuple[Path, str],
    tmp_path: Path,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = malformed
    out = ["--out", str(tmp_path / "x")] if command[0] == "--export" else []
    assert main(["replay", str(path), *command, *out]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("bgdsim: error: ")
    assert "Traceback" not in err and len(err) < 400


def test_verify_names_the_round_as_an_integrity_mismatch(malformed: tuple[Path, str]) -> None:
    path, says = malformed
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[:2] == (2, "integrity"), check.message()
    assert re.search(says, check.mismatch[2]), check.mismatch[2]


def test_a_plain_string_reason_column_reads_as_the_dictionary_one(
    plain: Path, tmp_path: Path
) -> None:
    path = copied(plain, tmp_path / "r.jsonl")
    reseal(path, lambda r, t: set_column(t, "reason", t.column("reason").cast(pa.string())))
    assert bgdsim.verify(path).ok
    frame, original = bgdsim.read_messages(path), bgdsim.read_messages(plain)
    assert frame.drop(columns="reason").equals(original.drop(columns="reason"))
    assert frame["reason"].astype(object).equals(original["reason"].astype(object))
    messages, _, _, _ = export_parquet(path, tmp_path / "x")
    assert pq.read_schema(messages).field("reason").type == pa.dictionary(pa.int32(), pa.string())


def test_a_worker_out_of_range_no_longer_breaks_the_round_view(plain: Path, tmp_path: Path) -> None:
    # it was an IndexError (worker >= m) or a row silently written for worker m - 3 (-3)
    path = copied(plain, tmp_path / "w.jsonl")
    reseal(path, lambda r, t: one_value("worker", M + 91)(t) if r == 2 else None)
    with pytest.raises(LogError, match=f"no worker {M + 91}"):
        timeline(path, 2)


# ------------------------------------------------------------ payload references
@pytest.mark.parametrize("dims", [33, 40, 70])
def test_a_reference_of_more_than_32_dimensions_is_refused(plain: Path, dims: int) -> None:
    with Log(plain) as log:
        assert log.view({"offset": 0, "shape": [1] * 32}).shape == (1,) * 32
        with pytest.raises(LogError, match="malformed payload reference"):
            log.view({"offset": 0, "shape": [1] * dims})
        with pytest.raises(LogError, match="malformed payload reference"):
            log.payload({"offset": 0, "shape": [1] * dims})


def test_a_sub_array_dtype_is_refused(plain: Path) -> None:
    with Log(plain) as log, pytest.raises(LogError, match="malformed payload reference"):
        log.view({"offset": 0, "shape": [1], "dtype": "(2,)<f8"})


# ------------------------------------------------------------ closing
def test_an_error_leaving_a_with_block_is_not_replaced_by_a_buffer_error(plain: Path) -> None:
    with pytest.raises(RuntimeError, match="the original error"), Log(plain) as log:  # noqa: PT012
        view = log.sidecar_view(0, 16)
        raise RuntimeError("the original error")
    assert view.size == 16  # still mapped: released with its last view


def test_closing_with_a_view_alive_keeps_the_view_readable(plain: Path) -> None:
    log = Log(plain)
    theta = log.view(log.header["theta"])
    expected = theta.copy()
    log.close()
    log.close()  # twice: nothing left to release
    assert np.array_equal(theta, expected)


def test_ctrl_c_during_verify_exits_130(plain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(self: Any) -> None:
        view = self.log.sidecar_view(0, 16)  # alive in the traceback when the log closes
        assert view.size
        raise KeyboardInterrupt

    with mock.patch.object(checker._Verifier, "receive_arrivals", interrupted):
        code = main(["replay", str(plain), "--verify", "-q"])
    assert code == 130
    assert capsys.readouterr().err.strip() == "bgdsim: interrupted"


# ------------------------------------------------------------ the round view
def test_the_honest_mean_is_over_reports_of_the_runs_shape_when_worker_0_is_byzantine(
    tmp_path: Path,
) -> None:
    path = logged(
        tmp_path / "s.jsonl",
        adversary__schedule={"kind": "static", "workers": [0, 3]},
        adversary__attack={"kind": "malformed", "defect": "shape"},
    )
    _, rows = timeline(path, 2)
    sent = [r["worker"] for r in rows if "up_send" in r]
    assert 0 in sent  # worker 0's wrong-shape report is in the round
    distances = {r["worker"]: r.get("dist_to_honest_mean") for r in rows}
    assert all(distances[j] is not None for j in sent if j not in (0, 3))
    assert distances[0] is None and distances[3] is None  # not of the shape (d,)


# ------------------------------------------------------------ Parquet types
EXPORTED = {
    "round": "INTEGER", "worker": "INTEGER", "dir": "VARCHAR", "event": "VARCHAR",
    "time": "DOUBLE", "latency": "DOUBLE", "byzantine": "BOOLEAN", "reason": "VARCHAR",
    "payload": "BIGINT", "spec": "VARCHAR", "span": "INTEGER",
}  # fmt: skip


def exported_types(messages: Path) -> dict[str, str]:
    described = duckdb.sql(f"describe select * from '{messages}'").fetchall()
    return {name: kind for name, kind, *_ in described}


def test_spec_is_text_in_parquet_when_every_payload_is_standard(
    plain: Path, tmp_path: Path
) -> None:
    assert bgdsim.read_messages(plain)["spec"].isna().all()  # no non-standard payload
    messages, _, n, _ = export_parquet(plain, tmp_path / "x")
    assert n > 0 and exported_types(messages) == EXPORTED
    assert pq.read_schema(messages).field("spec").type == pa.dictionary(pa.int32(), pa.string())


def test_a_log_with_no_record_yet_exports_typed_columns(plain: Path, tmp_path: Path) -> None:
    path = tmp_path / "early.jsonl"
    lines = plain.read_bytes().splitlines(keepends=True)
    first_seal = next(i for i, raw in enumerate(lines) if b'"digest"' in raw)
    path.write_bytes(b"".join(lines[:first_seal]))  # round 1 still being written
    path.with_suffix(".bin").write_bytes(plain.with_suffix(".bin").read_bytes())
    frame = bgdsim.read_messages(path)
    assert len(frame) == 0 and list(frame.columns) == list(EXPORTED)
    assert str(frame["round"].dtype) == "int32" and str(frame["time"].dtype) == "float64"
    messages, _, n, _ = export_parquet(path, tmp_path / "x")
    assert n == 0 and exported_types(messages) == EXPORTED
