"""The parts of the vectorised verifier, each against what it replaces.

A round's reports received in bulk (:func:`bgdsim.replay._batch.receive`) against one
``ServerCore.receive`` per report; the screening against ``validate_block``; the row
gather against ``Log.view``; the read-ahead thread against reading in line.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bgdsim
from bgdsim.engine import Barrier, ServerCore
from bgdsim.engine.validation import validate_block, validate_report
from bgdsim.msglog import EVENT_CODES, payload_reference
from bgdsim.replay import LogError, _batch, checker
from bgdsim.replay._ahead import Span
from bgdsim.replay._arrivals import Arrivals, Mismatch, Sends
from bgdsim.replay.reader import Log
from tests.conftest import make_scenario

T = 3  # the round being received
TIMES = (0.25, 0.5, 0.75, 1.0, 1.25)  # exact: ties, and reports at the 1.0 s timeout
VECTORS = ("ok", "ok", "ok", "big", "edge", "nan", "inf", "huge", "shape", "ints")


def sidecar_log(tmp: Path, data: bytes) -> Log:
    path = tmp / "x.jsonl"
    path.write_bytes(orjson.dumps({"event": "run_start", "seq": 0, "schema": 2}) + b"\n")
    path.with_suffix(".bin").write_bytes(data)
    return Log(path)


def vector(kind: str, d: int, rng: np.random.Generator) -> np.ndarray:
    v: np.ndarray = rng.uniform(-0.5, 0.5, d) / d
    if kind == "big":
        v = v + 3.0
    elif kind == "edge":  # norm exactly max_norm: accepted
        v = np.zeros(d)
        v[0] = 2.0
    elif kind in ("nan", "inf"):
        v[rng.integers(d)] = np.nan if kind == "nan" else -np.inf
    elif kind == "huge":  # finite, but its sum overflows
        v = np.full(d, 1.5e308)
    elif kind == "shape":
        v = np.zeros(d + 1)
    elif kind == "ints":
        v = np.arange(d, dtype=np.int64)
    return v


@st.composite
def rounds(draw: Any) -> dict[str, Any]:
    m, d = draw(st.integers(1, 7)), draw(st.integers(1, 3))
    quorum = draw(st.one_of(st.none(), st.integers(1, m)))
    reports = []
    for j in range(m):
        for r in (T - 1, T):
            if draw(st.booleans()):
                reports.append((r, j, draw(st.sampled_from(TIMES)), draw(st.sampled_from(VECTORS))))
    order = draw(st.permutations(range(len(reports))))  # the record's order
    return {
        "m": m, "d": d, "quorum": quorum, "reports": [reports[i] for i in order],
        "grace": draw(st.sampled_from([0.0, 0.25])) if quorum else 0.0,
        "max_norm": draw(st.sampled_from([None, 2.0])),
        "wrong": draw(st.sets(st.integers(0, max(len(reports) - 1, 0)), max_size=2)),
        "seed": draw(st.integers(0, 99)),
    }  # fmt: skip


def received(log: Log, spec: dict[str, Any], arrivals: Any) -> tuple[Any, ...]:
    """One round through the verifier: its barrier reason, mismatch and inbox."""
    m, d = spec["m"], spec["d"]
    core = ServerCore(np.zeros(d), lambda v: v.mean(0), step_size=1.0, workers=m,
                      max_norm=spec["max_norm"])  # fmt: skip
    v = checker._Verifier.__new__(checker._Verifier)
    v.log, v.core, v.inbox, v.arrivals = log, core, core.open_round(T), arrivals
    v.barrier = Barrier(m, 1.0, spec["quorum"], spec["grace"])
    v.barrier.open(0.0)
    try:
        reason, bad = v.receive_arrivals(), None
    except Mismatch as exc:
        reason, bad = None, (exc.what, exc.detail)
    if bad is not None:  # verify stops here: the inbox is left half-filled by either path
        return reason, bad
    box = v.inbox
    return (reason, bad, box.heard.tobytes(), box.received.tobytes(), box.reports.tobytes(),
            box.n_heard, box.n_received)  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=rounds())
def test_a_round_received_in_bulk_equals_one_report_at_a_time(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    rng = np.random.default_rng(spec["seed"])
    d, data, rows = spec["d"], bytearray(), []
    for i, (r, j, time, kind) in enumerate(spec["reports"]):
        vec = vector(kind, d, rng)
        ref: dict[str, Any] = {"offset": len(data), "shape": list(vec.shape)}
        if vec.dtype != np.float64:
            ref["dtype"] = vec.dtype.str
        data += vec.tobytes()
        plain = vec.dtype == np.float64 and vec.shape == (d,)
        if r < T:
            outcome, reason = "late", None
        else:
            reason = validate_report(vec, dim=d, max_norm=spec["max_norm"])
            outcome = "deliver" if reason is None else "rejected"
        if i in spec["wrong"]:  # recorded otherwise
            outcome, reason = ("rejected", "forged") if outcome != "rejected" else ("deliver", None)
        rows.append((time, i, outcome, r, j, ref["offset"] if plain else -1, ref, reason))
    rows.sort(key=lambda row: row[:2])  # time order, the record's order within a tie
    words = sorted({row[7] for row in rows if row[7] is not None})
    arrivals = Arrivals(
        np.array([EVENT_CODES[row[2]] for row in rows], dtype=np.int64),
        np.array([row[3] for row in rows], dtype=np.int64),
        np.array([row[4] for row in rows], dtype=np.int64),
        np.array([row[0] for row in rows], dtype=np.float64),
        np.array([row[5] for row in rows], dtype=np.int64),
        {i: row[6] for i, row in enumerate(rows) if row[5] < 0},
        np.array([len(words) if row[7] is None else words.index(row[7]) for row in rows]),
        [*words, None],
    )
    with sidecar_log(tmp_path, bytes(data)) as log:
        one_by_one = received(log, spec, arrivals.tuples(d))
        taken = []
        real = _batch.receive

        def spy(*args: Any) -> bool:
            taken.append(real(*args))
            return taken[-1]

        _batch.receive = spy  # type: ignore[assignment]
        try:
            in_bulk = received(log, spec, arrivals)
        finally:
            _batch.receive = real
    # a report of the round after the barrier fired (the 1.0 s timeout, or earlier) can
    # only be late: the bulk path leaves such a round to the one-at-a-time path
    when, kept = np.full(spec["m"], np.inf), np.zeros(spec["m"], dtype=bool)
    for r, j, time, kind in spec["reports"]:
        if r == T:
            when[j] = time
            verdict = validate_report(vector(kind, d, rng), dim=d, max_norm=spec["max_norm"])
            kept[j] = verdict is None
    barrier = Barrier(spec["m"], 1.0, spec["quorum"], spec["grace"])
    barrier.open(0.0)
    fire, _ = barrier.resolve(when, kept)
    straggler = bool((when[np.isfinite(when)] > fire).any())
    assert taken == [False] if straggler else taken in ([True], [])  # []: a mismatch first
    assert in_bulk == one_by_one


@pytest.mark.parametrize(
    ("worker", "round_"), [(5, T), (99, T), (-1, T), (1, T + 1)],
    ids=["duplicate", "unknown", "negative", "future"],
)  # fmt: skip
def test_an_unusual_round_is_left_to_the_sequential_path(
    tmp_path: Path, worker: int, round_: int
) -> None:
    with sidecar_log(tmp_path, np.ones((8, 2)).tobytes()) as log:
        arrivals = Arrivals(
            np.array([1, 1]), np.array([T, round_]), np.array([5, worker]),
            np.array([0.5, 0.6]), np.array([0, 16]), {}, np.array([0, 0]), [None],
        )  # fmt: skip
        core = ServerCore(np.zeros(2), lambda v: v.mean(0), step_size=1.0, workers=8)
        inbox, barrier = core.open_round(T), Barrier(8, 1.0)
        barrier.open(0.0)
        assert not _batch.receive(log, core, inbox, barrier, arrivals)
        assert inbox.n_heard == 0 and not inbox.heard.any() and barrier.reason is None


@pytest.fixture(scope="module")
def busy_records(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A log with drops, late and rejected reports; its seals."""
    path = tmp_path_factory.mktemp("busy") / "b.jsonl"
    sc = make_scenario(rounds=5, problem__dim=3, problem__samples=1200, cluster__workers=12,
                       cluster__byzantine=2, server__aggregator__batches=3, network__drop=0.15,
                       network__latency={"kind": "uniform", "low": 0.0, "high": 1.0},
                       server__round_timeout=0.7, adversary__attack="malformed")  # fmt: skip
    bgdsim.run(sc, log_path=path)
    with Log(path) as log:
        return path, [e for _, e in log.lines() if "messages" in e]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_pairing_in_bulk_equals_pairing_one_by_one(
    busy_records: tuple[Path, list[Any]], seed: int
) -> None:
    path, seals = busy_records
    rng = np.random.default_rng(seed)
    with Log(path) as log:
        d = log.dim
        paths = []
        for _ in ("bulk", "one by one"):
            v = checker._Verifier.__new__(checker._Verifier)
            v.log, v.core, v.sends = log, mock.Mock(dim=d), Sends(d)
            paths.append(v)
        for seal in seals:
            table = log.messages(seal)
            assert table is not None
            times = rng.choice([0.1, 0.2, 0.3], table.num_rows)  # ties, across rounds too
            table = table.set_column(4, "time", pa.array(times))
            for v in paths:
                off = v is paths[1]
                with mock.patch.object(_batch, "pair", return_value=None) if off else nullcontext():
                    v.messages(seal, Span(0, 0, None, table, None))
            bulk, one = (v.arrivals for v in paths)
            assert isinstance(bulk, Arrivals) and isinstance(one, list)
            assert bulk.tuples(d) == one
            assert waiting(paths[0].sends) == waiting(paths[1].sends)


def waiting(sends: Sends) -> dict[tuple[int, int], list[Any]]:
    """The sends still waiting, as references."""
    out = {}
    for r, workers in sends.rounds.items():
        for j, refs in workers.items():
            if refs:
                out[(r, j)] = [
                    payload_reference(*x, sends.dim) if isinstance(x, tuple) else x for x in refs
                ]
    return out


# ------------------------------------------------------------------ screening, gathering
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(
    block=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                     elements=st.one_of(finite, st.sampled_from([np.nan, np.inf, -np.inf]))),
    max_norm=st.one_of(st.none(), st.floats(1e-300, 1e300)),
    at_the_limit=st.booleans(),
)  # fmt: skip
def test_screening_equals_validate_block(
    block: np.ndarray, max_norm: float | None, at_the_limit: bool
) -> None:
    if at_the_limit and max_norm is not None and block.shape[0]:  # a row right at the limit
        block[0] = 0.0
        if block.shape[1]:
            block[0, 0] = max_norm
    ok, reasons = _batch.screen(block, max_norm)
    want = validate_block(block, max_norm=max_norm)
    assert ok.tolist() == [v is None for v in want]
    assert reasons == {i: v for i, v in enumerate(want) if v is not None}


def test_a_norm_a_rounding_error_over_max_norm_is_still_refused() -> None:
    # the vectorised norm may come out an ulp under validate_report's: a limit in between
    rng = np.random.default_rng(7)
    for _ in range(10_000):
        row = rng.normal(size=(1, 100))
        scale = np.abs(row).max(axis=1)
        exact = float(scale[0]) * float(np.linalg.norm(row[0] / scale[0]))
        fast = float((scale * np.sqrt(np.einsum("ij,ij->i", row / scale, row / scale)))[0])
        if fast < exact:
            break
    else:
        pytest.skip("no vector with a norm an ulp apart")
    ok, reasons = _batch.screen(row, fast)
    assert not ok[0] and reasons[0] == validate_block(row, max_norm=fast)[0]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(d=st.integers(1, 4), data=st.data())
def test_rows_are_the_payloads_views_give(tmp_path: Path, d: int, data: Any) -> None:
    raw = np.random.default_rng(d).bytes(8 * d * 12 + 7)
    with sidecar_log(tmp_path, raw) as log:
        block = data.draw(st.booleans())
        if block:  # rows of one block, at any alignment
            base = data.draw(st.integers(0, 7))
            picks = data.draw(st.lists(st.integers(0, 10), max_size=12))
            offsets = [base + 8 * d * k for k in picks]
        else:
            offsets = data.draw(st.lists(st.integers(0, len(raw) - 8 * d), max_size=12))
        got = log.rows(np.array(offsets, dtype=np.int64), d)
        want = b"".join(log.view({"offset": o, "shape": [d]}).tobytes() for o in offsets)
        assert got.shape == (len(offsets), d)
        assert got.tobytes() == want
        with pytest.raises(LogError, match="past the sidecar's end"):
            log.rows(np.array([len(raw) - 8 * d + 1]), d)


# ------------------------------------------------------------------ the read-ahead
def small_log(tmp_path: Path) -> Path:
    path = tmp_path / "s.jsonl"
    sc = make_scenario(rounds=4, problem__dim=3, problem__samples=420, cluster__workers=6,
                       cluster__byzantine=1, server__aggregator__batches=2)  # fmt: skip
    bgdsim.run(sc, log_path=path)
    return path


def test_a_line_that_is_not_json_is_met_where_it_is(tmp_path: Path) -> None:
    path = small_log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    at = next(i for i, raw in enumerate(lines) if b'"round_start"' in raw and b'"round":3' in raw)
    bad = [*lines[:at], b"{not json\n", *lines[at:]]
    path.write_bytes(b"".join(bad))
    check = bgdsim.verify(path)  # named by its line, in the round it follows
    assert check.mismatch == (2, "integrity", f"line {at + 1} is not valid JSON")
    # after a mismatch, verify stops before it: the mismatch is what it reports
    i = next(i for i, raw in enumerate(bad) if b'"barrier"' in raw and b'"round":2,' in raw)
    e = orjson.loads(bad[i])
    e["reason"] = "quorum"
    bad[i] = orjson.dumps(e) + b"\n"
    path.write_bytes(b"".join(bad))
    check = bgdsim.verify(path)
    assert check.mismatch is not None and check.mismatch[:2] == (2, "integrity")


def test_no_thread_outlives_verify(tmp_path: Path) -> None:
    path = small_log(tmp_path)
    before = threading.active_count()
    assert bgdsim.verify(path).ok
    side = path.with_suffix(".bin")
    side.write_bytes(side.read_bytes()[:-9])  # cut: a mismatch at the end
    assert not bgdsim.verify(path).ok
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:5], b"{not json\n", *lines[5:]]))
    check = bgdsim.verify(path)  # met while reading ahead
    assert check.mismatch is not None and "line 6 is not valid JSON" in check.mismatch[2]
    assert threading.active_count() == before
