"""The engines that run a sweep's tasks: joblib's loky processes on one machine, or a
Dask cluster (a new LocalCluster, or a running scheduler).

An engine is a context manager that takes the task function and the tasks and yields
their outcomes in completion order; on exit it stops what it started. The task function
(:func:`bgdsim.sweep._run_task`) is passed in, so that the engines do not import the
driver that uses them. ``joblib`` and ``distributed`` are imported on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bgdsim.sweep.errors import SweepError

#: one run: (its index, the scenario file, the overrides, the seed, the log path or None)
_Task = tuple[int, str, dict[str, Any], int, str | None]
#: its outcome: (the index, the measured columns or None, the traceback or None)
_Outcome = tuple[int, dict[str, Any] | None, str | None]
#: the function an engine runs on each task (:func:`bgdsim.sweep._run_task`)
_TaskFn = Callable[[int, str, dict[str, Any], int, str | None], _Outcome]


@contextlib.contextmanager
def _local(run: _TaskFn, tasks: list[_Task], jobs: int) -> Iterator[Iterator[_Outcome]]:
    """joblib's loky processes; results in completion order. Stops the workers it started."""
    import joblib
    from joblib.externals.loky import reusable_executor

    before = getattr(reusable_executor, "_executor", None)
    parallel = joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    outcomes = parallel(joblib.delayed(run)(*task) for task in tasks)
    try:
        yield outcomes
    finally:
        outcomes.close()  # on an early exit: cancels what is left
        executor = getattr(reusable_executor, "_executor", None)
        if executor is not None and executor is not before:
            executor.shutdown(wait=True)


async def _probe(address: str, timeout: float) -> None:
    comm = await _distributed("comm").connect(address, timeout=timeout)
    await comm.close()


def _distributed(sub: str = "") -> Any:
    """``distributed`` (or a submodule), imported on first use and typed loosely."""
    return importlib.import_module(f"distributed.{sub}" if sub else "distributed")


@contextlib.contextmanager
def _dask(
    run: _TaskFn, tasks: list[_Task], jobs: int, scheduler: str | None, timeout: float
) -> Iterator[Iterator[_Outcome]]:
    """A Dask cluster: a new LocalCluster of ``jobs`` processes, or the one at ``scheduler``.

    Connects (or starts the cluster) on entry; closes the client and the cluster on exit.
    """
    dd = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = dd.LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                # the scheduler's HTTP routes on a free local port: 8787 may be taken (warns)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
            stack.callback(cluster.close)
            client = dd.Client(cluster, set_as_default=False)
            stack.callback(client.close)
        else:
            try:  # a plain connection first: a failed Client leaves its loop thread behind
                with ThreadPoolExecutor(1) as pool:  # its own loop, even inside a running one
                    pool.submit(asyncio.run, _probe(scheduler, timeout)).result()
                client = dd.Client(scheduler, timeout=timeout, set_as_default=False)
            except Exception as exc:
                raise SweepError(
                    f"dask scheduler {scheduler}: no answer within {timeout:g} s ({exc})"
                ) from None
            stack.callback(client.close)
            try:
                client.wait_for_workers(1, timeout=timeout)
            except Exception:
                raise SweepError(
                    f"dask scheduler {scheduler}: no workers within {timeout:g} s"
                ) from None
        futures = [client.submit(run, *task, pure=False) for task in tasks]

        def outcomes() -> Iterator[_Outcome]:
            for future in dd.as_completed(futures, loop=client.loop):
                outcome: _Outcome = future.result()
                future.release()
                yield outcome

        yield outcomes()
