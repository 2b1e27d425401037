"""The event log: structlog → JSON lines, vectors in a lossless binary sidecar.

Events go through one structlog processor chain — :meth:`EventLog._stamp` (adds ``seq``
and orders the keys ``event, seq, time, round, worker, …``) then a JSON renderer on
orjson — into an in-memory buffer that is written out once per round
(:meth:`EventLog.flush`), so a run killed mid-way leaves every complete round on disk.
The per-message events (``send``, ``deliver``, ``drop``, ``late``, ``rejected``: the bulk
of a log, O(m) per round) are not lines: :meth:`EventLog.message` buffers them as columns,
and each seal writes the span's rows as one Arrow record into the sidecar
(:mod:`bgdsim.msglog`, log schema 2). Vectors (θ, reports, aggregates)
are never written as JSON floats: :meth:`EventLog.payload` appends their raw
little-endian float64 bytes to the sidecar ``<log stem>.bin`` and returns a reference
``{"offset": bytes, "shape": [...]}`` that the line carries. The sidecar is written
before the lines that reference it.

Integrity: every ``round_end`` (and the ``run_end``) is a *seal* carrying ``digest``, a
BLAKE2b hash chained over the previous digest, the bytes of every line since the last
seal, the seal's own line up to its digest, and the sidecar bytes written since it (up
to ``payload_end``). Editing a number in a line, deleting or swapping lines, or flipping
a payload byte breaks the chain at the round where it happened (``bgdsim replay LOG
--verify`` names it). With a signing key every seal also carries ``signature``, an
HMAC-SHA256 of its digest (:mod:`bgdsim.eventlog.signing`).

A simulated run records no wall-clock time, so the same scenario and seed give
byte-identical logs. The first line (``run_start``) is the header: schema version,
bgdsim and numpy versions, the resolved scenario, the seed, θ* and θ₀. The format is
documented in ``docs/log-format.md``.

The package re-exports its modules' public names:

* :mod:`bgdsim.eventlog.layout` — the schema version, the payload dtype, the sidecar path;
* :mod:`bgdsim.eventlog.digest` — the seals' digest chain (:func:`chain_digest`);
* :mod:`bgdsim.eventlog.signing` — the optional signing key over the chain;
* :mod:`bgdsim.eventlog.writer` — :class:`EventLog`, which writes a run's log;
* :mod:`bgdsim.eventlog.memory` — :class:`MemorySink`, which keeps events as dicts;
* :mod:`bgdsim.eventlog.reading` — :func:`read_events` and :func:`load_payload`.
"""

from __future__ import annotations

from bgdsim.eventlog.digest import DIGEST_SIZE as DIGEST_SIZE
from bgdsim.eventlog.digest import chain_digest as chain_digest
from bgdsim.eventlog.digest import span_hasher as span_hasher
from bgdsim.eventlog.layout import PAYLOAD_DTYPE as PAYLOAD_DTYPE
from bgdsim.eventlog.layout import SCHEMA_VERSION, sidecar_path
from bgdsim.eventlog.memory import MemorySink
from bgdsim.eventlog.reading import load_payload, read_events
from bgdsim.eventlog.writer import EventLog

__all__ = [
    "SCHEMA_VERSION",
    "EventLog",
    "MemorySink",
    "load_payload",
    "read_events",
    "sidecar_path",
]
