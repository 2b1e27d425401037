"""Bad input: exit 2 and one line naming the field, in bounded time and memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgdsim import aggregators
from bgdsim.cli import main
from bgdsim.config import ScenarioError, load_scenario
from bgdsim.config.limits import nesting_depth
from bgdsim.live import worker, write_keys
from bgdsim.live.frames import read_key
from bgdsim.live.tcp import split_address
from bgdsim.paths import InputFileError, read_bounded
from bgdsim.registry import UnknownNameError
from bgdsim.sim import run
from bgdsim.sweep import SweepError, check_sweep

SMALL = [
    "cluster.workers=4",
    "cluster.byzantine=0",
    "problem.samples=40",
    "server.aggregator.batches=2",
]


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    p = tmp_path / "s.toml"
    p.write_text("")
    return p


# ------------------------------------------------------------------ 1. files that are not files
def _limits() -> None:  # in the child: a bug allocates or writes at most this much
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))


def _bgdsim(*argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """The command in a child process, where a hang or a runaway allocation is the bug."""
    done = subprocess.run(
        [sys.executable, "-m", "bgdsim.cli", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limits if sys.platform != "win32" else None,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_scenario_dev_zero_is_refused_before_reading(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, "validate", "/dev/zero")
    assert "/dev/zero: the scenario file is a character device, not a regular file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_scenario_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    done = _bgdsim("validate", str(fifo))  # blocked forever before the fix
    assert done.returncode == 2
    assert "is a FIFO (named pipe), not a regular file" in done.stderr


def test_scenario_directory_and_huge_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "is a directory, not a regular file" in _error(capsys, "validate", str(tmp_path))
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate((1 << 20) + 1)  # sparse: costs no disk
    assert "is too large (1 MiB; at most 1 MiB is read)" in _error(capsys, "validate", str(big))


def test_read_bounded_stops_at_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"x" * 11)
    assert read_bounded(p, 11) == b"x" * 11
    with pytest.raises(InputFileError, match="too large"):
        read_bounded(p, 10)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_latency_trace_dev_zero_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = tmp_path / "s.toml"
    s.write_text('[network.latency]\nkind = "empirical"\npath = "/dev/zero"\n')
    err = _error(capsys, "validate", str(s))
    assert "network.latency: trace /dev/zero: is a character device, not a regular file" in err


# ------------------------------------------------------------------ 2. sizes that cannot fit
@pytest.mark.parametrize(
    ("override", "field"),
    [
        (["cluster.workers=100000000", "problem.samples=100000000"], "cluster.workers"),
        (["problem.dim=1000000000"], "problem.dim"),
        (["problem.samples=1000000000000000"], "problem.samples"),
        (["rounds=100000000000000"], "rounds"),
    ],
)
def test_sizes_that_cannot_fit_are_refused(empty: Path, override: list[str], field: str) -> None:
    sets = [a for o in override for a in ("--set", o)]
    done = _bgdsim("validate", str(empty), *sets)
    assert done.returncode == 2
    assert f"{field}: the run needs at least" in done.stderr
    assert "more than this machine's" in done.stderr


def test_log_that_cannot_fit_the_disk_is_refused(empty: Path, tmp_path: Path) -> None:
    sets = [a for o in [*SMALL, "rounds=1000000", "problem.dim=1000000"] for a in ("--set", o)]
    # 4 workers x 1e6 x 8 bytes x 1e6 rounds: 32 TB of log, but only ~100 MB of memory
    done = _bgdsim("run", str(empty), *sets, "--log", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2
    assert "rounds: the log needs at least" in done.stderr and "free in" in done.stderr


@pytest.mark.parametrize(
    ("override", "where"),
    [
        (
            ['server.aggregator={kind="centered_clipping", iters=1000000000000}'],
            "server.aggregator.iters: must be an iteration count from 1 to 10000",
        ),
        (["server.aggregator.tol=1e-300"], "server.aggregator.tol: must be >= 1e-15"),
        (
            ['adversary.schedule={kind="adaptive", candidates=100000000}'],
            "adversary.schedule.candidates: must be an iteration count",
        ),
    ],
)
def test_iteration_parameters_are_bounded(override: list[str], where: str) -> None:
    with pytest.raises(ScenarioError, match=where):
        load_scenario(None, [*SMALL, *override])


# ------------------------------------------------------------------ 3. tracebacks
def test_toml_nested_too_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = tmp_path / "s.toml"
    s.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    err = _error(capsys, "validate", str(s))
    assert "nested 5000 levels deep; at most 32 are allowed" in err


def test_set_nested_too_deep(empty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, "validate", str(empty), "--set", "name=" + "[" * 3000 + "]" * 3000)
    assert "bad --set 'name=…': arrays and tables are nested 3000 levels deep" in err


def test_nesting_depth_ignores_strings_and_comments() -> None:
    assert nesting_depth("a = \"[[[[\" # [[[[\nb = [[1], {c = '{{'}]\n[t]\n") == 2
    assert nesting_depth('s = """\n[[[\n"""') == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\x00b", r"name: must not contain control characters \(found U\+0000\)"),
        ("a\nb", r"name: must not contain control characters \(found U\+000A\)"),
        ("../../x", "name: must be a plain file name"),
        ("a/b", "name: must be a plain file name"),
        ("..", "name: must be a plain file name"),
        ("", "name: must not be empty"),
    ],
)
def test_bad_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario(None, {"name": name})


def test_good_names_still_pass() -> None:
    assert load_scenario(None, {"name": "paper-run v2 (θ)"}).name == "paper-run v2 (θ)"


@pytest.mark.parametrize("runtime", ["asyncio", "tcp"])
def test_time_scale_inf_does_not_hang(empty: Path, runtime: str) -> None:
    done = _bgdsim("run", str(empty), "--runtime", runtime, "--time-scale", "inf", "--no-log")
    assert done.returncode == 2
    assert "--time-scale: must be a finite number > 0, got inf" in done.stderr


@pytest.mark.parametrize("runtime", ["asyncio", "tcp"])
@pytest.mark.parametrize("scale", ["nan", "0", "-1"])
def test_time_scale_must_be_finite(
    empty: Path, capsys: pytest.CaptureFixture[str], runtime: str, scale: str
) -> None:
    err = _error(capsys, "run", str(empty), "--runtime", runtime, "--time-scale", scale, "--no-log")
    assert "--time-scale: must be a finite number > 0" in err


def test_serve_port_out_of_range(
    empty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = str(tmp_path / "keys")
    err = _error(capsys, "serve", str(empty), "--listen", "127.0.0.1:99999", "--keys", keys)
    assert "--listen 127.0.0.1:99999: the port must be 0 to 65535, got 99999" in err
    err = _error(capsys, "worker", "--connect", "localhost:70000", "--id", "0", "--key-file", keys)
    assert "worker 0: --connect localhost:70000: the port must be 0 to 65535" in err
    err = _error(capsys, "worker", "--connect", "nowhere", "--id", "0", "--key-file", keys)
    assert "--connect nowhere: expected HOST:PORT" in err


def test_run_none_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"run\(\): scenario must be a bgdsim.config.Scenario"):
        run(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [None, 3, ["mean"]])
def test_registry_get_non_string(name: object) -> None:
    with pytest.raises(UnknownNameError, match=r"aggregator name must be a string.*allowed: .*"):
        aggregators.get(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_theta_star_must_be_finite(value: str) -> None:
    with pytest.raises(ScenarioError, match=r"problem.theta_star\[1\]: Input should be a finite"):
        load_scenario(None, ["problem.dim=2", f"problem.theta_star=[1.0, {value}]"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["cluster.byzantine=-1"], "cluster.byzantine: Input should be greater than or equal to 0"),
        (
            ["server.aggregator.batches=5"],
            r"server.aggregator.batches \(5\) must be <= cluster.workers \(4\)",
        ),
        (
            ["server.aggregator.batches=0"],
            "server.aggregator.batches: Input should be greater than or equal to 1",
        ),
        (["server.aggregator.f=-1"], "server.aggregator.f: supplied by the simulator"),
    ],
)
def test_f_and_batches_ranges(override: list[str], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario(None, [*SMALL, *override])


# ------------------------------------------------------------------ 4. misleading messages
def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    s = tmp_path / "s.toml"
    s.write_bytes(b'\xef\xbb\xbfname = "bom"\nrounds = 3\n')
    sc = load_scenario(s)
    assert (sc.name, sc.rounds) == ("bom", 3)


def test_missing_key_file_says_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nokey"
    err = _error(
        capsys, "worker", "--connect", "127.0.0.1:7000", "--id", "0", "--key-file", str(missing)
    )
    assert f"worker 0: {missing}: no such key file" in err
    assert "cannot write" not in err


def test_serve_with_a_partial_key_folder_or_a_file_for_one_names_it(
    empty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Never "cannot write": the key that is missing, or the --keys that is no folder."""
    keys, log = tmp_path / "keys", tmp_path / "s.jsonl"
    write_keys(keys, 2)  # the scenario has 4 workers
    serve = ("serve", str(empty), *(a for o in SMALL for a in ("--set", o)),
             "--listen", "127.0.0.1:0", "--log", str(log))  # fmt: skip
    err = _error(capsys, *serve, "--keys", str(keys))
    assert f"--keys {keys}: {keys / 'worker-2.key'}: no such key file" in err
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("")
    err = _error(capsys, *serve, "--keys", str(keys_file))
    assert f"--keys {keys_file}: {keys_file} is not a folder" in err  # was "cannot write"
    assert not log.exists()


def test_key_file_not_regular(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the key file is a directory"):
        read_key(tmp_path)
    (tmp_path / "k").write_text("zz\n")
    with pytest.raises(ValueError, match="not a hex key"):
        read_key(tmp_path / "k")


# ------------------------------------------------------------------ 5. other input files
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_sweep_file_dev_zero_and_directory_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(capsys, "sweep", "/dev/zero", "--out", str(tmp_path / "out"))
    assert "/dev/zero: the sweep file is a character device, not a regular file" in err
    err = _error(capsys, "sweep", str(tmp_path), "--out", str(tmp_path / "out"))
    assert "is a directory" in err


def test_sweep_file_nested_too_deep_or_huge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text('scenario = "s.toml"\nseeds = ' + "[" * 3000 + "]" * 3000 + "\n")
    err = _error(capsys, "sweep", str(deep), "--out", str(tmp_path / "out"))
    assert "nested 3000 levels deep; at most 32 are allowed" in err
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate((1 << 20) + 1)
    err = _error(capsys, "sweep", str(big), "--out", str(tmp_path / "out"))
    assert "is too large" in err


SWEEP_BASE = 'name = "x"\nrounds = 2\n[cluster]\nworkers = 4\nbyzantine = 0\n'


def sweep_file(folder: Path, body: str) -> Path:
    (folder / "base.toml").write_text(SWEEP_BASE, encoding="utf-8")
    path = folder / "sweep.toml"
    path.write_text('scenario = "base.toml"\n' + body, encoding="utf-8")
    return path


def numbers(n: int) -> str:
    return ", ".join(map(str, range(n)))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (  # 2e7 cells: checked one by one before, for hours
            f'seeds = 1\n[grid]\n"problem.noise" = [{numbers(300)}]\n'
            f'"server.step_size" = [{numbers(300)}]\nrounds = [{numbers(223)}]\n',
            "grid: 20070000 cells (grid.problem.noise (300) × grid.server.step_size (300) × "
            "grid.rounds (223)); at most 100000 are allowed: split the sweep",
        ),
        (  # duplicates were looked for in quadratic time: minutes for a file under 1 MiB
            f"seeds = [{numbers(120_000)}, 7]\n",
            "seeds: seed 7 is given twice",
        ),
        (
            f'seeds = 1\n[grid]\n"problem.noise" = [{numbers(90_000)}, 7]\n',
            "grid.problem.noise: problem.noise = 7 is given twice",
        ),
    ],
    ids=["cells-2e7", "seeds-list-dup", "grid-dup"],
)
def test_sweeps_too_large_are_refused_in_bounded_time(
    tmp_path: Path, body: str, message: str
) -> None:
    done = _bgdsim("sweep", str(sweep_file(tmp_path, body)), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("seeds", "grid", "message"),
    [
        (10**12, {}, r"seeds: a count must be at most 1000000 \(runs\), got 1000000000000"),
        (10**7, {}, r"seeds: a count must be at most 1000000 \(runs\), got 10000000"),
        (
            4000,
            {"problem.noise": list(range(5000))},
            "seeds: 5000 cells × 4000 seeds = 20000000 runs; at most 1000000 are allowed",
        ),
    ],
    ids=["seeds-1e12", "seeds-1e7", "runs-2e7"],
)
def test_sweeps_of_too_many_runs_are_refused(
    tmp_path: Path, seeds: int, grid: dict[str, list[int]], message: str
) -> None:
    """Before anything is built: 1e12 seeds were a MemoryError, 2e7 runs were accepted."""
    sweep_file(tmp_path, "")
    with pytest.raises(SweepError, match=message):
        check_sweep({"scenario": "base.toml", "seeds": seeds, "grid": grid}, tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_graphml_topology_that_is_not_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "net.graphml"
    os.mkfifo(fifo)
    s = tmp_path / "s.toml"
    s.write_text('[network.topology]\nkind = "graphml"\npath = "net.graphml"\n')
    err = _error(capsys, "validate", str(s))
    assert "graphml topology 'net.graphml': the file is a FIFO (named pipe)" in err


def test_worker_port_out_of_range_from_python(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the port must be 0 to 65535, got 99999"):
        asyncio.run(worker("127.0.0.1:99999", 0, tmp_path / "k"))
    with pytest.raises(ValueError, match="the port must be 0 to 65535, got 70000"):
        split_address("localhost:70000")


# ------------------------------------------------------------------ from a hostile new user
def _small_log(tmp_path: Path) -> Path:
    log = tmp_path / "r.jsonl"
    sets = [arg for kv in SMALL for arg in ("--set", kv)]
    assert main(["run", str(empty_scenario(tmp_path)), *sets, "--set", "rounds=2", "-q",
                 "--log", str(log)]) == 0  # fmt: skip
    return log


def empty_scenario(tmp_path: Path) -> Path:
    p = tmp_path / "base.toml"
    p.write_text("")
    return p


@pytest.mark.parametrize("target", ["log", "sidecar"])
def test_an_export_or_report_never_writes_over_the_log_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    log = _small_log(tmp_path)
    out = log if target == "log" else log.with_suffix(".bin")
    before = (log.read_bytes(), log.with_suffix(".bin").read_bytes())
    capsys.readouterr()
    for argv in (["replay", str(log), "--export", "csv", "--out", str(out)],
                 ["report", str(log), "--out", str(out)]):  # fmt: skip
        err = _error(capsys, *argv)
        assert err == f"bgdsim: error: --out {out}: is the log being read or its sidecar"
    assert (log.read_bytes(), log.with_suffix(".bin").read_bytes()) == before


def test_a_seed_past_64_bits_and_an_empty_log_path_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(empty_scenario(tmp_path))
    err = _error(capsys, "run", base, "--seed", str(2**64), "--no-log")
    assert "seed" in err and "18446744073709551615" in err
    err = _error(capsys, "run", base, "--log", "")
    assert "names no file" in err
    assert not list(tmp_path.glob("*.jsonl")) and not list(tmp_path.glob("*.bin"))


def test_live_apis_refuse_a_time_scale_or_log_they_cannot_use_before_writing(
    tmp_path: Path,
) -> None:
    from bgdsim.live import run_asyncio, stream

    small = {"cluster.workers": 4, "cluster.byzantine": 0, "problem.samples": 40,
             "server.aggregator.batches": 2}  # fmt: skip
    sc = load_scenario(overrides={"rounds": 1, **small})
    for bad in (float("inf"), 0, -1.0, "0.01", True):
        with pytest.raises(ValueError, match="time_scale must be a finite number > 0"):
            run_asyncio(sc, log_path=tmp_path / "a.jsonl", time_scale=bad)
    assert not list(tmp_path.iterdir())  # no empty log left behind

    async def first(**kwargs: object) -> None:
        async for _ in stream(sc, **kwargs):  # type: ignore[arg-type]
            break

    with pytest.raises(ValueError, match="log_path cannot be None"):
        asyncio.run(first(log_path=None))
    with pytest.raises(ValueError, match="maxsize must be an integer"):
        asyncio.run(first(log_path=tmp_path / "s.jsonl", maxsize="5"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_log_that_is_a_fifo_or_a_device_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    for argv, name in ((["replay", str(fifo)], fifo), (["replay", "/dev/zero"], "/dev/zero"),
                       (["diff", str(fifo), str(fifo)], fifo)):  # fmt: skip
        done = _bgdsim(*argv)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"bgdsim: error: {name}: is a ")
        assert "not a log file" in done.stderr and "Traceback" not in done.stderr


def test_flags_that_would_be_ignored_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _small_log(tmp_path)
    base = str(empty_scenario(tmp_path))
    cases = {
        ("run", base, "--time-scale", "0.5", "--no-log"): "--time-scale: only with --runtime",
        ("run", base, "--no-log", "--log", "x.jsonl"): "--log: there is no log to write",
        ("replay", str(log), "--json"): "--json: only with --set",
        ("replay", str(log), "--out", "x.csv"): "--out: only with --export",
        ("replay", str(log), "--log-out", "y.jsonl"): "--log-out: only with --set",
        ("replay", str(log), "--set", "server.aggregatr=mean"): "did you mean 'server.aggregator'",
    }
    for argv, says in cases.items():
        assert says in _error(capsys, *argv), argv


def test_an_unknown_host_or_a_negative_worker_id_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(empty_scenario(tmp_path))
    keys = tmp_path / "keys"
    write_keys(keys, 4)
    sets = [arg for kv in SMALL for arg in ("--set", kv)]
    err = _error(capsys, "serve", base, *sets, "--listen", "no-such-host.invalid:7000",
                 "--keys", str(keys), "--log", str(tmp_path / "s.jsonl"))  # fmt: skip
    assert err.startswith("bgdsim: error: --listen no-such-host.invalid:7000: unknown host")
    key = str(keys / "worker-0.key")
    err = _error(capsys, "worker", "--connect", "127.0.0.1:7000", "--id", "-1", "--key-file", key)
    assert err == "bgdsim: error: --id -1: a worker id is 0 to m - 1"
    err = _error(capsys, "worker", "--connect", "no-such-host.invalid:7000", "--id", "0",
                 "--key-file", key)  # fmt: skip
    assert "--connect no-such-host.invalid:7000: unknown host" in err


def test_the_python_api_names_what_it_was_given_wrongly() -> None:
    import numpy as np

    from bgdsim.live import run_asyncio, stream

    for bad in ("rounds=3", [("rounds", 3)], {5: 3}, {"a..b": 3}, 3):
        with pytest.raises(ScenarioError, match=r"overrides|not a dotted key"):
            load_scenario(overrides=bad)  # type: ignore[arg-type]
    assert load_scenario(overrides={"rounds": np.int64(3)}).rounds == 3  # numpy scalars too
    with pytest.raises(TypeError, match=r"run_asyncio\(\): scenario must be a bgdsim"):
        run_asyncio({})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"stream\(\): scenario must be a bgdsim"):
        asyncio.run(stream("s.toml").__anext__())  # type: ignore[arg-type]


def test_latencies_near_the_largest_float_never_arrive_and_warn_nothing(
    tmp_path: Path,
) -> None:
    import warnings

    from bgdsim.vector import run_vector

    small = {key: int(value) for key, value in (kv.split("=") for kv in SMALL)}
    latency = {"kind": "constant", "value": 1e308}
    sc = load_scenario(overrides={"rounds": 2, "network.latency": latency, **small})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        vec = run_vector(sc, log_path=tmp_path / "v.jsonl")
    sim = run(sc, log_path=tmp_path / "s.jsonl")
    assert vec.counts["barrier_timeout"] == sim.counts["barrier_timeout"] == 2
    assert (tmp_path / "v.jsonl").read_bytes() == (tmp_path / "s.jsonl").read_bytes()


def test_byzantine_faults_forcing_more_than_q_together_are_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # each within q = 2, but rounds 2.. force workers 0, 1 and 2: the run used to end in
    # round 2 with "schedule returned [0, 1, 2]: more than q=2"
    p = tmp_path / "byz.toml"
    p.write_text(
        "[cluster]\nworkers = 10\nbyzantine = 2\n"
        '[server.aggregator]\nkind = "gmom"\nbatches = 5\n'
        '[[faults]]\nkind = "byzantine"\nworkers = [0, 1]\nfrom = 2\n'
        '[[faults]]\nkind = "byzantine"\nworkers = [2]\nfrom = 2\nuntil = 4\n',
        encoding="utf-8",
    )
    err = _error(capsys, "validate", str(p))
    assert "with faults[0], faults[1] it forces 3 workers Byzantine from round 2" in err
    p.write_text(
        "[cluster]\nworkers = 10\nbyzantine = 2\n"
        '[server.aggregator]\nkind = "gmom"\nbatches = 5\n'
        '[[faults]]\nkind = "byzantine"\nworkers = [0, 1]\nfrom = 2\nuntil = 4\n'
        '[[faults]]\nkind = "byzantine"\nworkers = [2]\nfrom = 4\nuntil = 6\n',
        encoding="utf-8",
    )
    assert main(["validate", str(p)]) == 0  # one after the other: fine


def test_the_adaptive_schedule_with_nobody_byzantine_runs(tmp_path: Path) -> None:
    sc = load_scenario(overrides={"rounds": 2, "cluster.workers": 4, "cluster.byzantine": 0,
                                  "problem.samples": 40, "server.aggregator.batches": 2,
                                  "adversary.schedule": "adaptive"})  # fmt: skip
    assert run(sc, log_path=None).status == "completed"
