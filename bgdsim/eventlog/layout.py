"""The files of an event log: the schema version, the payload dtype, where the sidecar is.

A log is ``<name>.jsonl`` (the lines) and its sidecar ``<name>.bin`` (payload vectors and
per-message records) beside it; payloads are little-endian float64 unless a reference
names another dtype. Writer and readers agree on these through this module.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PAYLOAD_DTYPE", "SCHEMA_VERSION", "sidecar_path"]

SCHEMA_VERSION = 2
PAYLOAD_DTYPE = "<f8"


def sidecar_path(log_path: str | Path) -> Path:
    """The payload sidecar beside a log: ``run.jsonl`` → ``run.bin``."""
    p = Path(log_path)
    return p.with_suffix(".bin") if p.suffix else p.with_name(p.name + ".bin")
