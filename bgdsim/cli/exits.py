"""Exit codes and the one-line error every command reports bad input with.

0 success; 1 the run or check failed; 2 bad input, printed as ``bgdsim: error: …`` on
stderr by :func:`_fail`, always on one line (:func:`one_line`).
"""

from __future__ import annotations

import sys

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "one_line"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def one_line(text: str) -> str:
    """``text`` with every unprintable character (a newline, a NUL, U+2028, ...) escaped
    as in a Python string, so that input echoed in a message cannot break its line."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode()
        for ch in text
    )


def _fail(message: str) -> int:
    print(f"bgdsim: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE
