"""A line on stderr per finished step of a long scenario script."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable


def steps(results: Iterable[float], labels: list[str], quiet: bool) -> list[float]:
    """The results in order, with ``[k/n] LABEL: done (T s)`` on stderr as the last run
    of each label is done (none if ``quiet``)."""
    left = Counter(labels)
    n_steps, done, start = len(left), 0, time.perf_counter()
    finals = []
    for label, err in zip(labels, results, strict=True):
        finals.append(err)
        left[label] -= 1
        if left[label] == 0 and not quiet:
            done += 1
            took = time.perf_counter() - start
            print(f"[{done}/{n_steps}] {label}: done ({took:.0f} s)", file=sys.stderr, flush=True)
    return finals
