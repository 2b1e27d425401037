"""Per-message records: what the writer encodes decodes the same, small, in canonical order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import ipc

from bgdsim import msglog
from bgdsim.msglog.reading import check
from bgdsim.vector import run_vector


def span(rows: int, seed: int = 0) -> msglog.MessageBuffer:
    """A span of ``rows`` events with random times and latencies, some with reasons."""
    rng = np.random.default_rng(seed)
    buf = msglog.MessageBuffer(3)
    reason = np.where(rng.random(rows) < 0.05, "loss", None).tolist()
    buf.add_columns(
        round=np.full(rows, 4),
        worker=rng.permutation(rows),
        dir=rng.integers(0, 2, rows),
        event=rng.integers(0, 5, rows),
        time=rng.exponential(0.02, rows),
        latency=np.where(rng.random(rows) < 0.3, rng.exponential(0.02, rows), np.nan),
        byzantine=rng.random(rows) < 0.05,
        payload=np.arange(rows) * 24,
        reason=reason,
    )
    return buf


def plain(table: pa.Table | pa.RecordBatch) -> bytes:
    """An uncompressed stream of the records: equal bytes, equal content (NaNs included)."""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as out:
        out.write(table)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.parametrize("rows", [600, 25_000])
def test_a_span_decodes_to_what_was_encoded(rows: int) -> None:
    buf = span(rows)
    blob, n = buf.encode()
    assert n == rows and len(buf) == 0
    assert buf.last is not None
    assert plain(msglog.decode(blob).combine_chunks()) == plain(buf.last)


def test_a_large_span_stays_small_on_random_times() -> None:
    blob, n = span(25_000).encode()
    assert len(blob) / n <= 24


def test_a_real_runs_large_records_take_at_most_24_bytes_a_message(tmp_path: Path) -> None:
    """Lognormal latencies and bursty loss, m = 7 000: 21 000 rows a round, past the
    small-record form (the scale benchmark's setting at a size a test can afford)."""
    import bgdsim

    m = 7000
    sc = bgdsim.load_scenario(
        overrides={
            "rounds": 2, "problem.dim": 10, "problem.samples": 100 * m,
            "cluster.workers": m, "cluster.byzantine": m // 20,
            "network.latency": {"kind": "lognormal", "mu": -4.6, "sigma": 0.5},
            "network.loss": {"kind": "gilbert_elliott", "loss_rate": 0.01, "burst": 5},
        }
    )  # fmt: skip
    res = run_vector(sc, log_path=tmp_path / "r.jsonl")
    spans = [e["messages"] for e in bgdsim.read_events(tmp_path / "r.jsonl") if "messages" in e]
    assert max(s["rows"] for s in spans) >= 20_000
    messages = res.counts["down_sent"] + res.counts["up_sent"]
    assert sum(s["bytes"] for s in spans) / messages <= 24


@pytest.mark.parametrize("seed", range(20))
def test_the_canonical_order_is_a_stable_sort_by_round_direction_and_worker(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    high = [4, 2**30 + 1, 2**31 - 1][seed % 3]  # rounds past 2**30 take the general sort
    rounds = rng.integers(0, high, n).astype(np.int32)
    dirs = rng.integers(0, 2, n).astype(np.uint8)
    workers = rng.integers(0, [6, 2**31 - 1][seed % 2], n).astype(np.int32)
    if n and seed % 4 == 0:
        workers[0] = -1  # a hostile live log's unknown worker
    order = msglog.canonical_order(rounds, dirs, workers)
    assert np.array_equal(order, np.lexsort((workers, dirs, rounds)))


# ------------------------------------------------------------ reading a record back
@pytest.mark.parametrize(
    "shape",
    [[4], [], [0], [2, 3], [1] * 32, [10**18]],
    ids=["d", "0-d", "empty", "2-d", "32", "big"],
)
@pytest.mark.parametrize("dtype", ["<f8", "<f4", "<i8", "|b1", ">f8", "<c16", "<f16", "<M8[ns]"])
def test_a_spec_reads_back_as_the_reference_it_was_written_from(
    shape: list[int], dtype: str
) -> None:
    ref: dict[str, object] = {"offset": 24, "shape": shape}
    if dtype != "<f8":
        ref["dtype"] = dtype
    spec = msglog.payload_spec(ref, 4)
    assert msglog.payload_reference(24, spec, 4) == (ref if spec else {"offset": 24, "shape": [4]})


@pytest.mark.parametrize(
    "spec",
    [
        "abc",  # no colon: was a ValueError from unpacking
        "<f8:" + "[" * 5000 + "]" * 5000,  # was a RecursionError in json.loads
        "<f8:[[4]]",
        "<f8:[-1]",
        "<f8:[2, 3]",
        "<f8:[04]",
        "<f8:[4.0]",
        '<f8:{"a":1}',
        "<f8:[1" + ",1" * 32 + "]",  # 33 dimensions
        "<f8:[\u0663]",  # a digit, but not an ASCII one
        "<f8:[4]\n",
        "(2,)<f8:[1]",  # a sub-array dtype
        ":[4]",
        "<f8:",
    ],
)
def test_a_malformed_spec_is_a_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match="is not DTYPE:SHAPE"):
        msglog.payload_reference(0, spec, 4)


def record(**columns: object) -> pa.Table:
    """A two-row record as the writer makes it, some columns replaced."""
    buf = msglog.MessageBuffer(3)
    buf.add("send", 0.5, 1, 0, "up", {"latency": 0.1, "payload": {"offset": 8, "shape": [3]}})
    buf.add("drop", 0.75, 1, 1, "down", {"reason": "loss"})
    table = msglog.decode(buf.encode()[0])
    for name, values in columns.items():
        array = values if isinstance(values, pa.Array) else pa.array(values)
        table = table.set_column(table.column_names.index(name), name, array)
    return table


def test_a_record_as_written_passes_the_check_unchanged() -> None:
    table = record()
    assert check(table, 2) is table
    assert table.schema.equals(msglog.codes.SCHEMA)


def test_other_encodings_of_the_same_values_are_cast_to_the_schema() -> None:
    original = record()
    values = original.to_pydict()
    table = record(
        reason=pa.array(values["reason"], pa.large_string()),
        spec=pa.nulls(2),
        worker=pa.array(values["worker"], pa.int64()),
        time=pa.array(values["time"], pa.float32()),  # 0.5 and 0.75: exact in float32
    )
    out = check(table, 2)
    assert out.schema.equals(msglog.codes.SCHEMA)
    assert out.drop_columns(["latency"]).equals(original.drop_columns(["latency"]))
    np.testing.assert_array_equal(out.column("latency"), original.column("latency"))  # NaNs
    assert list(msglog.expand(out, 3)) == list(msglog.expand(original, 3))


@pytest.mark.parametrize(
    ("columns", "says"),
    [
        ({"event": pa.array([0, 9], pa.uint8())}, "row 1: unknown event code 9"),
        ({"dir": pa.array([1, 2], pa.uint8())}, "row 1: unknown direction code 2"),
        (
            {"worker": pa.array([0, 2], pa.int32())},
            "row 1: no worker 2 \\(the run has workers 0 … 1\\)",
        ),
        ({"worker": pa.array([-1, 0], pa.int32())}, "row 0: no worker -1"),
        ({"worker": pa.array([None, 0], pa.int32())}, "'worker' column has nulls \\(row 0\\)"),
        ({"byzantine": pa.array(["x", "y"])}, "'byzantine' column is string, not bool"),
        ({"time": pa.array(["x", "y"])}, "'time' column is string, not double"),
        ({"reason": pa.array([1, 2])}, "'reason' column is int64"),
        ({"round": pa.array([2**40, 1])}, "'round' column does not fit int32"),
        ({"spec": pa.array(["abc", None])}, "the 'spec' column: payload spec 'abc'"),
    ],
)
def test_a_malformed_record_is_named(columns: dict[str, pa.Array], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check(record(**columns), 2)


def test_a_record_without_a_column_is_named() -> None:
    with pytest.raises(ValueError, match="no 'spec' column"):
        check(record().drop_columns(["spec"]))


def test_to_frame_of_no_record_has_typed_columns() -> None:
    frame = msglog.to_frame([])
    assert list(frame.columns) == msglog.codes.SCHEMA.names and len(frame) == 0
    assert [str(t) for t in frame.dtypes[:2]] == ["int32", "int32"]
    assert str(frame["event"].dtype) == "category"
