"""A ``bgdsim worker`` whose server dies — killed mid-run, or gone during the handshake —
exits 1 with one line saying so (and after which round), never 0, never a traceback."""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from bgdsim.live import write_keys
from bgdsim.live.frames import GREETING_SIZE, ID_SIZE, MAGIC
from tests.hostile.conftest import cli

#: two workers, many short rounds: the run outlives the moment the server is killed
SCENARIO = """\
name = "killed-server"
rounds = 100000
[problem]
dim = 3
samples = 200
[cluster]
workers = 2
byzantine = 0
[server]
aggregator = { kind = "mean" }
round_timeout = 100.0
[network]
latency = { kind = "constant", value = 0.01 }
"""
DEADLINE = 60.0  # generous: a loaded two-core machine starts three interpreters


def bgdsim(*argv: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bgdsim.cli", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(stream: IO[str], pattern: str) -> re.Match[str]:
    """The first line of ``stream`` that matches ``pattern`` (read until it comes)."""
    lines = []
    for line in stream:
        lines.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no {pattern!r} in {''.join(lines)!r}")


def test_workers_exit_1_naming_the_round_when_the_server_is_killed_mid_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "s.toml").write_text(SCENARIO, encoding="utf-8")
    write_keys(tmp_path / "keys", 2)
    server = bgdsim("serve", "s.toml", "--listen", "127.0.0.1:0", "--keys", "keys",
                    "--log", "s.jsonl", "--time-scale", "0.2", cwd=tmp_path)  # fmt: skip
    workers: list[subprocess.Popen[str]] = []
    try:
        assert server.stderr is not None
        port = wait_for(server.stderr, r"listening on 127\.0\.0\.1:(\d+)")[1]
        workers = [bgdsim("worker", "--connect", f"127.0.0.1:{port}", "--id", str(j),
                          "--key-file", f"keys/worker-{j}.key", cwd=tmp_path)
                   for j in range(2)]  # fmt: skip
        assert workers[0].stdout is not None
        wait_for(workers[0].stdout, r"^worker 0: round 3$")
        os.kill(server.pid, signal.SIGKILL)
        for j, proc in enumerate(workers):
            _, err = proc.communicate(timeout=DEADLINE)
            assert proc.returncode == 1, err
            assert len(err.splitlines()) == 1, err
            assert re.match(rf"bgdsim: worker {j}: connection lost \(after round \d+\): ", err)
    finally:
        for proc in [server, *workers]:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def fake_server(listener: socket.socket, *, greet: bool, reset: bool) -> None:
    """Accept one worker, send a greeting (or not), read its hello, and go away: a
    close, or a reset (``SO_LINGER`` 0) as the kernel sends for a killed process."""
    conn, _ = listener.accept()
    with conn:
        if greet:
            conn.sendall(MAGIC + b"r" * ID_SIZE + b"n" * (GREETING_SIZE - 4 - ID_SIZE))
            conn.settimeout(DEADLINE)
            conn.recv(1 << 16)  # the worker's hello
        if reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize(
    ("greet", "reset", "says"),
    [
        (True, False, "the server closed the connection before welcoming it"),
        (True, True, "Connection reset by peer"),
        # the reset may reach the worker while its connect call is still completing
        (False, True, "Connection reset by peer|Connect call failed"),
    ],
    ids=["closed-after-greeting", "reset-after-greeting", "reset-before-greeting"],
)
def test_a_worker_whose_server_goes_away_in_the_handshake_exits_1(
    tmp_path: Path, capsys: Any, greet: bool, reset: bool, says: str
) -> None:
    write_keys(tmp_path, 1)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = threading.Thread(target=fake_server, args=(listener,),
                                  kwargs={"greet": greet, "reset": reset}, daemon=True)  # fmt: skip
        server.start()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        code, out = cli(capsys, "worker", "--connect", address, "--id", "0", "--key-file",
                        str(tmp_path / "worker-0.key"), "--quiet")  # fmt: skip
        server.join(DEADLINE)
    assert time.monotonic() - start < DEADLINE
    assert code == 1
    assert out.startswith("bgdsim: worker 0: connection lost: ") and re.search(says, out), out
    assert len(out.strip().splitlines()) == 1
