"""The BLAS thread policy of the geometric-median solver: one thread for mid-sized
problems, for the duration of a call (process-wide)."""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Final

from threadpoolctl import ThreadpoolController

_MULTITHREAD_MIN: Final = 1 << 22  # n·d below this: one BLAS thread (see _blas_threads)
_SINGLE_THREAD_MAX: Final = 1 << 12  # n·d below this: BLAS is single-threaded anyway


@functools.cache
def _controller() -> Any:
    return ThreadpoolController()


def _blas_threads(n: int, d: int) -> AbstractContextManager[Any]:
    """One BLAS thread for small problems.

    On a busy 2-core machine a multithreaded BLAS call on a small matrix can wait milliseconds
    for its second thread (measured: a 100 x 1000 solve 1.4 ms on one thread, 5-23 ms on two).
    Large problems keep the default, which is faster for memory-bound passes; tiny ones skip
    the (tens of µs) switch, as OpenBLAS does not split them.
    """
    if n * d >= _MULTITHREAD_MIN or n * d < _SINGLE_THREAD_MAX:
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")
