"""The engines that run a sweep's tasks: worker processes on one machine, or a Dask
cluster (a new LocalCluster, or a running scheduler).

An engine is a context manager that takes the task function and the tasks and yields
their outcomes in completion order; on exit it stops what it started. The task function
(:func:`bgdsim.sweep._run_task`) is passed in, so that the engines do not import the
driver that uses them. ``joblib`` and ``distributed`` are imported on first use.

On one machine the workers are *forked* from the sweep's own process where that is safe
(a POSIX system, and no other Python thread alive to hold a lock across the fork): they
start with everything a run needs already imported, in milliseconds, where a fresh
interpreter spends ~0.6 s importing numpy, pyarrow, pydantic and bgdsim before its first
run — a fixed cost that was a tenth of a 9 s sweep on 2 cores. Elsewhere joblib's loky
processes run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bgdsim.sweep.errors import SweepError

#: one run: (its index, the scenario file, the overrides, the seed, the log path or None,
#: the components registered in the sweep's process: :func:`bgdsim.registry.local_components`)
_Task = tuple[int, str, dict[str, Any], int, str | None, list[tuple[str, str, str, Any]]]
#: its outcome: (the index, the measured columns or None, the traceback or None)
_Outcome = tuple[int, dict[str, Any] | None, str | None]
#: the function an engine runs on each task (:func:`bgdsim.sweep._run_task`)
_TaskFn = Callable[..., _Outcome]


@contextlib.contextmanager
def _local(run: _TaskFn, tasks: list[_Task], jobs: int) -> Iterator[Iterator[_Outcome]]:
    """``jobs`` processes on this machine, forked where safe (:func:`can_fork`), else
    joblib's loky processes; results in completion order. Stops the workers it started.
    One job runs the tasks in this process, one after the other."""
    if jobs == 1:
        yield (run(*task) for task in _at_home(tasks))
        return
    if can_fork():  # the children have this process's components already
        with _forked(run, _at_home(tasks), jobs) as outcomes:
            yield _survive(outcomes, tasks)
        return
    _check_shippable(tasks)
    with _loky(run, tasks, jobs) as outcomes:
        yield _survive(outcomes, tasks)


_SHIPPED = 5  # where a task carries the components to ship (see _Task)


def _at_home(tasks: list[_Task]) -> list[_Task]:
    """The tasks without the components to ship: for this process and its forks."""
    return [
        (*task[:_SHIPPED], []) if len(task) > _SHIPPED else task  # type: ignore[misc]
        for task in tasks
    ]


def _check_shippable(tasks: list[_Task]) -> None:
    """Refuse, naming it, a component registered in this process that cannot be sent to
    a worker started afresh (a function defined inside another, one holding a lock, …):
    pickled as loky and Dask pickle it."""
    if not tasks or len(tasks[0]) <= _SHIPPED or not tasks[0][_SHIPPED]:
        return
    import cloudpickle

    shipped: list[tuple[str, str, str, Any]] = tasks[0][_SHIPPED]  # type: ignore[assignment]
    for _, kind, name, obj in shipped:
        try:
            cloudpickle.dumps(obj)
        except Exception as exc:
            raise SweepError(
                f"{kind} '{name}', registered in this process, cannot be sent to the "
                f"sweep's worker processes ({type(exc).__name__}: {exc}); define it at the "
                "top level of a module, or run the sweep with jobs = 1"
            ) from None


#: why a run has no row when its worker process died under it
DIED = (
    "a worker process died while this run was queued or running (killed, out of memory, "
    "or exited): not written; a rerun retries it"
)


def _survive(outcomes: Iterator[_Outcome], tasks: list[_Task]) -> Iterator[_Outcome]:
    """``outcomes`` until the pool breaks (a worker process died: the pool can run
    nothing more); then every run not done yet, as failed with :data:`DIED`, so the
    sweep keeps the rows it has and reports the others instead of a traceback."""
    done: set[int] = set()
    try:
        for outcome in outcomes:
            done.add(outcome[0])
            yield outcome
    except BrokenProcessPool as exc:
        for task in tasks:
            if task[0] not in done:
                yield task[0], None, f"{DIED} ({exc})"


def can_fork() -> bool:
    """Whether workers may be forked from this process: the ``fork`` start method exists
    and this is the only Python thread (a lock held by another thread at the fork would
    stay held in the child forever)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


#: what Python >= 3.12 warns when it forks a process with more than one thread
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks"


def _one_blas_thread() -> None:
    """A worker's initializer: one BLAS thread per process (as loky gives its workers), so
    that ``jobs`` workers do not oversubscribe the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


@contextlib.contextmanager
def _forked(run: _TaskFn, tasks: list[_Task], jobs: int) -> Iterator[Iterator[_Outcome]]:
    """A process pool forked from this process (all its workers start before the pool's
    own management thread does); every task is queued at once and handed to whichever
    worker is free. On exit, tasks not yet started are cancelled."""
    executor = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_one_blas_thread,
    )
    try:
        with warnings.catch_warnings():  # Python >= 3.12 counts native threads too:
            # BLAS's, whose libraries fork safely (pthread_atfork); Python's were counted
            warnings.filterwarnings("ignore", _FORK_WARNING, DeprecationWarning)
            futures = [executor.submit(run, *task) for task in tasks]  # the first forks
        yield (future.result() for future in as_completed(futures))
    except BaseException:  # interrupted, or the caller failed: no run more, none waited for
        _stop_workers(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes (a run's own work is lost with them: it has no row
    and a rerun retries it), so that an interrupted sweep stops now, not after the runs
    already handed to its workers."""
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list(getattr(executor, "_processes", {}).values()):
        process.terminate()


@contextlib.contextmanager
def _loky(run: _TaskFn, tasks: list[_Task], jobs: int) -> Iterator[Iterator[_Outcome]]:
    """joblib's loky processes (fresh interpreters); results in completion order."""
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
    _check_shippable(tasks)  # before a cluster is started or reached
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
        futures = {client.submit(run, *task, pure=False): task[0] for task in tasks}

        def outcomes() -> Iterator[_Outcome]:
            for future in dd.as_completed(list(futures), loop=client.loop):
                try:
                    outcome: _Outcome = future.result()
                except Exception as exc:  # the run raises nothing: its worker died (or
                    # the cluster lost it) — the run fails, the sweep goes on
                    outcome = (futures[future], None, f"{DIED} ({type(exc).__name__}: {exc})")
                future.release()
                yield outcome

        yield outcomes()
