"""Per-message records: what the writer encodes decodes the same, small, in canonical order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import ipc

from bgdsim import msglog
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
