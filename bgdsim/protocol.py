"""Compatibility re-export: the round's rules now live in :mod:`bgdsim.engine`."""

from bgdsim.engine.server import RoundInbox, RoundResult, ServerCore, ServerRule
from bgdsim.engine.validation import Outcome, validate_block, validate_report

__all__ = [
    "Outcome",
    "RoundInbox",
    "RoundResult",
    "ServerCore",
    "ServerRule",
    "validate_block",
    "validate_report",
]
