"""The errors of :mod:`bgdsim.sweep`."""

from __future__ import annotations

__all__ = ["SweepError", "SweepRunError"]


class SweepError(ValueError):
    """A sweep that cannot be loaded or run as asked; the message names the field."""


class SweepRunError(RuntimeError):
    """Some runs of a sweep raised; the others' rows are written, a rerun retries these."""
