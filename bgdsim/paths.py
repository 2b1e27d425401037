"""Reading an input file safely: a regular file of bounded size, or a one-line refusal.

Every file the user names as input (a scenario, a sweep, a latency trace, a GraphML
topology, a key file) is opened
without blocking (a FIFO does not wait for a writer), checked to be a regular file (not
a directory, ``/dev/zero``, a FIFO or a socket) and read up to a size limit, so bad
input costs bounded time and memory. :func:`read_key` reads a key file (a worker's, or
a log's signing key): hex text of 16 to 64 bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = [
    "KEY_BYTES",
    "MAX_GRAPH_BYTES",
    "MAX_INPUT_BYTES",
    "MAX_TRACE_BYTES",
    "InputFileError",
    "not_a_file",
    "read_bounded",
    "read_input",
    "read_key",
]

#: the largest scenario (or other small input file) read: 1 MiB
MAX_INPUT_BYTES = 1 << 20
#: the largest latency trace read: 16 MiB (about a million measurements)
MAX_TRACE_BYTES = 16 << 20
#: the largest GraphML topology read: 16 MiB (about a hundred thousand nodes)
MAX_GRAPH_BYTES = 16 << 20
#: the smallest and largest key a key file may hold, in bytes
KEY_BYTES = (16, 64)


class InputFileError(ValueError):
    """An input file that is refused; the message says why (without the path)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_a_file(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is when it is not a regular file (``"a FIFO (named pipe)"``, …), or
    None when it is one (or does not exist: opening it says so)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.3g} MiB" if n >= 1 << 20 else f"{n} bytes"


def read_bounded(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises:
        FileNotFoundError: no such file.
        InputFileError: not a regular file, or larger than ``limit`` bytes.
        OSError: any other failure to open or read it.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(Path(path), flags)
    except IsADirectoryError:  # some platforms refuse to open a directory at all
        raise InputFileError("is a directory, not a file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(f"is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise InputFileError(
                f"is too large ({_size(st.st_size)}; at most {_size(limit)} is read)"
            )
        chunks: list[bytes] = []
        total = 0
        while total <= limit:  # the size may be a lie (/proc) or the file may grow
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise InputFileError(f"is too large (more than {_size(limit)})")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_input(
    path: str | os.PathLike[str],
    limit: int,
    *,
    source: str,
    what: str,
    error: type[Exception] = ValueError,
) -> bytes:
    """:func:`read_bounded`, each failure one ``error`` whose message starts ``source:``.

    ``{source}: no such {what}`` (with the path looked at when ``source`` is not it),
    ``{source}: the {what} {why it is refused}``, ``{source}: cannot read the {what}:
    {reason}``.
    """
    try:
        return read_bounded(path, limit)
    except FileNotFoundError:
        looked = "" if str(path) == source else f" (looked for {path})"
        raise error(f"{source}: no such {what}{looked}") from None
    except InputFileError as exc:
        raise error(f"{source}: the {what} {exc}") from None
    except OSError as exc:
        raise error(f"{source}: cannot read the {what}: {exc.strerror or exc}") from None


def read_key(path: str | os.PathLike[str]) -> bytes:
    """A key file's bytes: hex text (surrounding whitespace ignored) of 16 to 64 bytes.

    Raises:
        ValueError: naming the path: no such file, not a regular file, unreadable,
            empty, not hex, or a key of the wrong length.
    """
    raw = read_input(path, 4096, source=str(path), what="key file")
    if not raw.strip():
        raise ValueError(f"{path}: the key file is empty (it holds a key as hex text)")
    try:
        key = bytes.fromhex(raw.decode("ascii").strip())
    except ValueError:  # UnicodeDecodeError is one
        raise ValueError(f"{path}: not a hex key") from None
    low, high = KEY_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"{path}: a key must be {low} to {high} bytes, got {len(key)}")
    return key
