"""``bgdsim list``: the registered components, one family or all, with their first doc line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bgdsim.cli.exits import EXIT_OK

__all__ = ["LISTABLE"]

LISTABLE = (
    "aggregators",
    "pre",
    "attacks",
    "schedules",
    "latencies",
    "losses",
    "topologies",
    "faults",
    "problems",
    "missing",
)


def _listing() -> dict[str, list[tuple[str, str]]]:
    from bgdsim import adversary, aggregators, attacks, problems
    from bgdsim.network import latencies, losses, topologies

    def first_line(obj: Any) -> str:
        return (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else ""

    missing = [
        ("zero", "a missing report counts as the zero vector (the paper's arbitrary value)"),
        ("exclude", "missing reports are left out of the aggregation"),
        ("stale", "a missing report is replaced by the worker's last accepted one"),
    ]
    return {
        "aggregators": [(n, first_line(aggregators.get(n))) for n in aggregators.names()],
        "pre": [(n, first_line(aggregators.pre.get(n))) for n in aggregators.pre.names()],
        "attacks": [(n, first_line(attacks.get(n))) for n in attacks.names()],
        "schedules": [(n, first_line(adversary.schedules.get(n))) for n in adversary.schedules],
        "latencies": [(n, first_line(latencies.get(n))) for n in latencies],
        "losses": [(n, first_line(losses.get(n))) for n in losses],
        "topologies": [(n, first_line(topologies.get(n))) for n in topologies],
        "faults": [
            ("crash", "workers (or relays) neither receive nor send, then resume"),
            ("partition", "every message to or from the workers is lost"),
            ("degrade", "the workers' links: latency x factor, loss + drop"),
            ("byzantine", "the workers are Byzantine in those rounds (within q)"),
            ("server_pause", "the server starts no round in the interval (seconds)"),
        ],
        "problems": [
            (n, first_line(sys.modules[problems.registry.get(n).__module__]))
            for n in problems.names()
        ],
        "missing": missing,
    }


def _cmd_list(args: argparse.Namespace) -> int:
    listing = _listing()
    for family in [args.what] if args.what else LISTABLE:
        print(f"{family}:")
        for name, doc in listing[family]:
            print(f"  {name:<20} {doc}")
    return EXIT_OK
