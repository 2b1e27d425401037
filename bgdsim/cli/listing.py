"""``bgdsim list``: the registered components, one family or all, each with the first
sentence of its docstring."""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from typing import Any

from bgdsim.cli.exits import EXIT_OK

__all__ = ["LISTABLE", "first_sentence"]

#: words that end in a full stop without ending a sentence
_ABBREVIATIONS = ("al", "eq", "e.g", "i.e", "cf", "vs", "resp", "Fig", "Eq", "Thm", "approx")
_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring, whole: its first paragraph up to the first full
    stop that ends a sentence (not ``et al.`` or ``eq.``), reST literals in single backquotes; a
    paragraph that runs into a formula (ends in ``:``) is given whole."""
    if not doc:
        return ""
    paragraph = " ".join(doc.strip().split("\n\n", 1)[0].split())
    paragraph = paragraph.replace("``", "`")
    for match in _END.finditer(paragraph):
        head = paragraph[: match.start()]
        word = head.rsplit(" ", 1)[-1].rstrip(".").lstrip("(")
        if word not in _ABBREVIATIONS:
            return head
    return paragraph.rstrip(":") + ("…" if paragraph.endswith(":") else "")


LISTABLE = (
    "aggregators",
    "pre",
    "step_schedules",
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
    from bgdsim import adversary, aggregators, attacks, problems, step_schedules
    from bgdsim.network import latencies, losses, topologies

    def first_line(obj: Any) -> str:
        return first_sentence(obj.__doc__)

    missing = [
        ("zero", "a missing report counts as the zero vector (the paper's arbitrary value)"),
        ("exclude", "missing reports are left out of the aggregation"),
        ("stale", "a missing report is replaced by the worker's last accepted one"),
    ]
    return {
        "aggregators": [(n, first_line(aggregators.get(n))) for n in aggregators.names()],
        "pre": [(n, first_line(aggregators.pre.get(n))) for n in aggregators.pre.names()],
        "step_schedules": [(n, first_line(step_schedules.get(n))) for n in step_schedules.names()],
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
    families = [args.what] if args.what else LISTABLE
    width = max(len(name) for family in families for name, _ in listing[family]) + 1
    for family in families:
        print(f"{family}:")
        indent = " " * (2 + width)
        for name, doc in listing[family]:
            text = textwrap.fill(
                f"  {name:<{width}}{doc}",
                width=100,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
            print(text)
    return EXIT_OK
