"""Where a run's event log goes, and what is never overwritten.

Every runtime, :func:`bgdsim.rerun` and the CLI resolve and open a log through this module:

* The default path (``log_path=True``, no ``--log``) is ``logs/<name>-seed<seed>.jsonl``
  if neither it nor its sidecar exists, else the first free
  ``<name>-seed<seed>-2.jsonl``, ``-3``, … (:func:`fresh_path`): it never overwrites, so
  a re-run's default log is never its parent.
* An explicit path (``log_path=PATH``, ``--log PATH``) must end in ``.jsonl`` (its
  sidecar, ``.bin``, goes beside it). If it or its sidecar exists it is refused unless
  ``overwrite=True`` (``--overwrite``); a path that names something other than a bgdsim
  log (a scenario, a folder, any non-empty file not starting with a ``run_start``
  header) or the log being re-run is refused even then (:func:`check_log_path`).
* The files are opened exclusively (:func:`open_log_files`): without ``overwrite`` with
  ``O_EXCL``, and the ``.jsonl`` is held under an advisory ``flock`` while the run writes
  it, so a second run on the same path is refused instead of interleaving with the first.
* A signing key (``sign_key``, ``--sign-key``) is resolved with the path, before the run
  starts (:func:`bgdsim.eventlog.signing.resolve`): a bad key file is refused up front.

A refusal is a :class:`LogPathError` (a ``ValueError``; the CLI exits 2 with its line).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from bgdsim.eventlog.layout import sidecar_path
from bgdsim.eventlog.signing import resolve

__all__ = [
    "LOG_SUFFIX",
    "LogPathError",
    "LogTarget",
    "check_log_path",
    "clobbers",
    "fresh_path",
    "log_target",
    "looks_like_log",
    "open_log_files",
]

LOG_SUFFIX = ".jsonl"
_HEADER = b'{"event":"run_start"'
_MAX_TRIES = 1000

L = TypeVar("L")


class LogPathError(ValueError):
    """A log path refused: ``path``, the ``problem``, and whether ``overwrite`` would do.

    ``str(error)`` speaks Python (``log_path=…``, ``overwrite=True``);
    :meth:`describe` with a flag speaks CLI (``--log …``, ``--overwrite``).
    """

    def __init__(self, path: Path, problem: str, *, fixable: bool = False) -> None:
        self.path = path
        self.problem = problem
        self.fixable = fixable
        super().__init__(self.describe())

    def describe(self, flag: str | None = None) -> str:
        """One line: ``FLAG PATH: problem (hint)``; no flag: the Python spelling."""
        if flag is None:
            where, how = f"log_path={self.path}", "pass overwrite=True"
        else:
            where, how = f"{flag} {self.path}", "use --overwrite"
        hint = f" ({how} to replace it, or choose another path)" if self.fixable else ""
        return f"{where}: {self.problem}{hint}"


def numbered(base: Path, n: int) -> Path:
    """``base`` for n = 1, else ``<stem>-<n>.jsonl`` beside it."""
    return base if n == 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")


def _taken(path: Path) -> bool:
    return os.path.lexists(path) or os.path.lexists(sidecar_path(path))


def fresh_path(base: Path) -> Path:
    """The first of ``base``, ``<stem>-2.jsonl``, ``-3``, … whose log and sidecar are free."""
    for n in range(1, _MAX_TRIES + 1):
        path = numbered(base, n)
        if not _taken(path):
            return path
    raise LogPathError(base, f"{_MAX_TRIES} logs of that name already exist")


def looks_like_log(path: Path) -> bool:
    """An empty file, or one starting with a bgdsim ``run_start`` header line."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_HEADER))
    except OSError:
        return False
    return head in (b"", _HEADER)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_log_path(path: Path, *, overwrite: bool = False, protect: Iterable[Path] = ()) -> None:
    """Refuse ``path`` as a log to write (see the module doc); return if it may be used.

    Args:
        overwrite: an existing log (and its sidecar) may be replaced.
        protect: logs that must not be written (a re-run's parent).
    """
    if path.name in ("", ".", ".."):  # Path("") is "."
        raise LogPathError(path, "names no file (an empty path?)")
    side = sidecar_path(path)
    if side == path:
        raise LogPathError(
            path, f"its sidecar would be the log itself (a log is a {LOG_SUFFIX} file)"
        )
    if path.suffix != LOG_SUFFIX:
        raise LogPathError(path, f"a log path must end in {LOG_SUFFIX} (its sidecar: {side.name})")
    for other in protect:
        if _same(path, Path(other)):
            raise LogPathError(path, "is the log being re-run (choose another path)")
    if os.path.lexists(path):
        if path.is_dir():
            raise LogPathError(path, "is a folder")
        if not looks_like_log(path):
            raise LogPathError(
                path, "exists and is not a bgdsim event log (never replaced, even with overwrite)"
            )
        if not overwrite:
            raise LogPathError(path, "exists", fixable=True)
    if os.path.lexists(side):
        if side.is_dir():
            raise LogPathError(path, f"its sidecar {side} is a folder")
        if not overwrite:
            raise LogPathError(path, f"its sidecar {side} exists", fixable=True)


def _lock(fd: int, path: Path) -> None:
    """Hold an advisory exclusive lock on the open log until it is closed."""
    if sys.platform == "win32":  # pragma: no cover - O_EXCL still guards a new path
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LogPathError(path, "is being written by another run") from None


def open_log_files(
    path: Path, *, overwrite: bool = False, buffering: int = -1
) -> tuple[IO[bytes], IO[bytes]]:
    """Check ``path``, then open the log and its sidecar for writing, exclusively.

    Without ``overwrite`` both are created with ``O_EXCL`` (an existing one, even one
    created a moment ago by another process, is refused); with it, the log is opened,
    locked, and only then truncated. The log stays locked (``flock``) until closed.

    Returns:
        The ``.jsonl`` and the sidecar, as binary files.
    """
    check_log_path(path, overwrite=overwrite)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    if not overwrite:
        flags |= os.O_EXCL
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        if path.parent.is_dir():
            raise LogPathError(
                path, "exists (another run has just created it)", fixable=True
            ) from None
        raise LogPathError(
            path, f"cannot write the event log: {path.parent} is not a folder"
        ) from None
    except OSError as exc:
        raise LogPathError(path, f"cannot write the event log: {exc.strerror or exc}") from None
    try:
        _lock(fd, path)
        side = sidecar_path(path)
        try:
            side_fd = os.open(side, flags | (os.O_TRUNC if overwrite else 0), 0o666)
        except OSError as exc:
            if not overwrite:
                os.unlink(path)  # ours: created above, empty, still locked
            if isinstance(exc, FileExistsError):
                raise LogPathError(path, f"its sidecar {side} exists", fixable=True) from None
            raise LogPathError(path, f"cannot write its sidecar: {exc.strerror or exc}") from None
        if overwrite:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb", buffering), os.fdopen(side_fd, "wb", buffering)


@dataclass
class LogTarget:
    """A resolved log path (None: no log), ready to open; ``default``: the base it was
    derived from, when it is the default path (a lost race then moves on to the next);
    ``sign_key``: the key to sign the log with (None: unsigned)."""

    path: Path | None
    overwrite: bool = False
    default: Path | None = None
    sign_key: bytes | None = None

    def open(self, opener: Callable[..., L]) -> L:
        """``opener(path)``, with ``overwrite=True`` when overwriting and ``sign_key=KEY``
        when signing."""
        if self.path is None:
            return opener(None)
        kwargs: dict[str, object] = {}
        if self.overwrite:
            kwargs["overwrite"] = True
        if self.sign_key is not None:
            kwargs["sign_key"] = self.sign_key
        for _ in range(_MAX_TRIES):
            try:
                return opener(self.path, **kwargs)
            except LogPathError as exc:
                if self.default is None or not exc.fixable:
                    raise
                self.path = fresh_path(self.default)  # another run took it meanwhile
        raise LogPathError(self.path, "no free default path")


def log_target(
    default: Path,
    log_path: str | Path | bool | None,
    *,
    overwrite: bool = False,
    protect: Iterable[Path] = (),
    sign_key: bytes | str | os.PathLike[str] | None = None,
) -> LogTarget:
    """Resolve ``log_path``: ``True`` → a fresh default path derived from ``default``,
    ``None``/``False`` → no log, else that path, checked (:func:`check_log_path`);
    ``sign_key`` (the key, or a key file's path) is read and checked first.

    Raises:
        LogPathError: the path is refused.
        SignKeyError: the key (or its file) is refused.
    """
    key = resolve(sign_key)
    if log_path is None or log_path is False:
        return LogTarget(None)
    if log_path is True:
        return LogTarget(fresh_path(default), default=default, sign_key=key)
    path = Path(log_path)
    check_log_path(path, overwrite=overwrite, protect=protect)
    return LogTarget(path, overwrite=overwrite, sign_key=key)


def clobbers(out: Path, log: Path) -> bool:
    """Whether writing ``out`` would overwrite the log ``log`` or its sidecar (an output
    file named like its own input)."""
    return _same(out, log) or (log.suffix == LOG_SUFFIX and _same(out, sidecar_path(log)))
