"""Per-message records: what the writer encodes, and every form written before, decode the same."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import ipc

from bgdsim import msglog


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


def zstd_buffers(batch: pa.RecordBatch) -> bytes:
    """A large span as it was written before: an IPC stream with zstd-compressed buffers."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))
    with ipc.new_stream(sink, batch.schema, options=options) as out:
        out.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.parametrize("rows", [600, 25_000])
def test_a_span_decodes_to_what_was_encoded(rows: int) -> None:
    buf = span(rows)
    blob, n = buf.encode()
    assert n == rows and len(buf) == 0
    assert buf.last is not None
    assert plain(msglog.decode(blob).combine_chunks()) == plain(buf.last)


def test_a_large_span_written_with_zstd_buffers_still_decodes() -> None:
    buf = span(25_000)
    new, _ = buf.encode()
    assert buf.last is not None
    old = zstd_buffers(buf.last)
    assert old != new
    assert plain(msglog.decode(old).combine_chunks()) == plain(msglog.decode(new).combine_chunks())


def test_a_large_span_stays_small_on_random_times() -> None:
    blob, n = span(25_000).encode()
    assert len(blob) / n <= 24


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
    order = msglog._canonical_order(rounds, dirs, workers)
    assert np.array_equal(order, np.lexsort((workers, dirs, rounds)))
