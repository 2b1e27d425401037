"""Replaying event logs: read them, verify them bit for bit, look into them, re-run them.

* :func:`read_log` yields a log's events as dicts (payload vectors as arrays on request),
  :func:`read_messages` its per-message records as a DataFrame; :class:`Log` is the one
  reader every command uses (:mod:`bgdsim.replay.reader`); :func:`export_parquet` writes
  tables for DuckDB and polars (:mod:`bgdsim.replay.export`).
* :func:`verify` checks the digest chain and recomputes every complete round with the
  round engine (:mod:`bgdsim.replay.checker`).
* :func:`timeline` lays out one round worker by worker; :func:`export_csv` flattens a
  log (:mod:`bgdsim.replay.inspect`); :func:`diff` compares two logs: the scenario keys
  that differ, the first diverging round, event and field, the rounds that differ
  (:mod:`bgdsim.replay.compare`).
* :func:`rerun` re-runs a log's recorded world against another defence
  (:mod:`bgdsim.replay.recording`), once the log verifies (else :class:`ParentMismatch`).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from bgdsim.replay.checker import Verification, verify
from bgdsim.replay.compare import Divergence, LogDiff, diff
from bgdsim.replay.export import export_parquet
from bgdsim.replay.inspect import export_csv, timeline
from bgdsim.replay.reader import SUPPORTED_SCHEMAS, Log, LogError, read_log
from bgdsim.replay.recording import CHANGEABLE, ParentMismatch, read_recording, rerun
from bgdsim.replay.tables import read_messages

__all__ = [
    "CHANGEABLE",
    "SUPPORTED_SCHEMAS",
    "Divergence",
    "Log",
    "LogDiff",
    "LogError",
    "ParentMismatch",
    "Verification",
    "diff",
    "export_csv",
    "export_parquet",
    "read_log",
    "read_messages",
    "read_recording",
    "replay",
    "rerun",
    "timeline",
    "verify",
]


_verify_log = verify  # ``replay``'s ``verify`` flag shadows the function's name


def replay(
    path: str | Path,
    *,
    verify: bool = True,
    round: int | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    sign_key: bytes | str | Path | None = None,
) -> Any:
    """One entry point for a log: ``bgdsim.replay(log)`` verifies it (a
    :class:`Verification`; ``sign_key``: check its signatures); ``round=T`` returns round
    T's timeline; ``overrides=...`` re-runs its recorded world with the server changed (a
    ``RunResult``; ``log_path``, ``overwrite`` and ``sign_key`` as for :func:`rerun`).
    """
    if overrides:
        return rerun(path, overrides, log_path=log_path, overwrite=overwrite, sign_key=sign_key)
    if round is not None:
        return timeline(path, round)
    if not verify:
        raise ValueError("replay: nothing to do (verify=False, no round, no overrides)")
    return _verify_log(path, sign_key=sign_key)


class _CallableModule(types.ModuleType):
    """``bgdsim.replay`` is this package and, as the API promises, a function too."""

    def __call__(self, path: str | Path, **kwargs: Any) -> Any:
        return replay(path, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
