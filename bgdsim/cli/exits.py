"""Exit codes and the one-line error every command reports bad input with.

0 success; 1 the run or check failed; 2 bad input, printed as ``bgdsim: error: …`` on
stderr by :func:`_fail`.
"""

from __future__ import annotations

import sys

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> int:
    print(f"bgdsim: error: {message}", file=sys.stderr)
    return EXIT_USAGE
