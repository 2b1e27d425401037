"""Latency models: each against its distribution (KS), validation of parameters.

Statistical checks use fixed seeds, so they are deterministic; the thresholds say how
unlikely a failure would be for a correct sampler under a random seed (p > 1e-3: one run
in a thousand), while a wrong distribution at these sample sizes gives p-values ≪ 1e-10.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from bgdsim.network import latencies, parse_latency
from bgdsim.network.latency import (
    EmpiricalLatency,
    GammaLatency,
    LatencyModel,
    ParetoLatency,
    latency_base_dir,
    message_bytes,
    resolve_trace_path,
    transmission_time,
)
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("spec", "dist"),
    [
        ({"kind": "uniform", "low": 0.1, "high": 0.3}, stats.uniform(0.1, 0.2)),
        ({"kind": "exponential", "mean": 0.05, "shift": 0.01}, stats.expon(0.01, 0.05)),
        (
            {"kind": "lognormal", "mu": -3.0, "sigma": 0.7, "shift": 0.002},
            stats.lognorm(0.7, loc=0.002, scale=np.exp(-3.0)),
        ),
        (
            {"kind": "pareto", "scale": 0.02, "shape": 2.5, "shift": 0.005},
            stats.pareto(b=2.5, scale=0.02, loc=0.005),
        ),
        (
            {"kind": "gamma", "shape": 2.0, "scale": 0.005, "shift": 0.001},
            stats.gamma(a=2.0, scale=0.005, loc=0.001),
        ),
        ({"kind": "gamma", "shape": 0.3, "scale": 0.1}, stats.gamma(a=0.3, scale=0.1)),
    ],
    ids=["uniform", "exponential", "lognormal", "pareto", "gamma", "gamma-small-shape"],
)
def test_samples_follow_the_distribution(spec: dict[str, Any], dist: Any) -> None:
    model = parse_latency(spec)
    x = model.sample(np.random.default_rng(0), 20_000)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3
    assert model.expected() == pytest.approx(dist.mean())
    assert x.min() >= 0


def test_constant() -> None:
    model = parse_latency({"kind": "constant", "value": 0.25})
    np.testing.assert_array_equal(model.sample(np.random.default_rng(0), 3), [0.25] * 3)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "constant", "value": -1}, "value: Input should be greater than or equal to 0"),
        ({"kind": "exponential", "mean": 0}, "mean: Input should be greater than 0"),
        ({"kind": "uniform", "low": 2, "high": 1}, "high (1.0) must be >= low (2.0)"),
        ({"kind": "lognormal", "sigma": -1}, "sigma"),
        (
            {"kind": "constant", "valu": 1},
            "unknown parameter of constant latency (did you mean 'value'?); allowed: value",
        ),
        ({"kind": "gauss"}, "unknown latency model 'gauss'"),
        ({"kind": 3}, "kind must be a string"),
        ("fast", "must be a table"),
    ],
)
def test_bad_parameters_are_named(spec: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_latency(spec)


def test_registry_lists_the_core_models() -> None:
    assert {"constant", "uniform", "exponential", "lognormal"} <= set(latencies.names())
    assert {"pareto", "gamma", "empirical"} <= set(latencies.names())


@pytest.mark.parametrize("kind", ["pareto", "gamma", "empirical"])
def test_new_models_have_a_one_line_docstring_and_summary(kind: str) -> None:
    cls = latencies.get(kind)
    assert cls.__doc__ is not None
    assert len(cls.__doc__.strip().splitlines()) == 1  # `bgdsim list latencies` shows it
    assert cls.summary


# ----------------------------------------------------------------------------- pareto, gamma


def test_pareto_defaults_and_the_lomax_trap() -> None:
    model = parse_latency({"kind": "pareto"})
    assert isinstance(model, ParetoLatency)
    assert (model.scale, model.shape, model.shift) == (0.01, 2.5, 0.0)
    x = model.sample(np.random.default_rng(1), 20_000)
    assert x.min() >= model.scale  # a classic Pareto starts at x_m
    # numpy's pareto alone is Lomax (starts at 0): the KS test tells them apart.
    lomax = model.scale * np.random.default_rng(1).pareto(model.shape, 20_000)
    true = stats.pareto(b=2.5, scale=0.01)
    assert stats.kstest(x, true.cdf).pvalue > 1e-3
    assert stats.kstest(lomax, true.cdf).pvalue < 1e-10


@pytest.mark.parametrize("shape", [0.5, 1.0])
def test_pareto_without_a_mean(shape: float) -> None:
    model = parse_latency({"kind": "pareto", "scale": 0.01, "shape": shape, "shift": 0.1})
    assert model.expected() == math.inf
    x = model.sample(np.random.default_rng(2), 20_000)
    assert np.isfinite(x).all()
    dist = stats.pareto(b=shape, scale=0.01, loc=0.1)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3  # p > 1e-3: see the module docstring


def test_pareto_draws_stay_finite_for_tiny_shapes() -> None:
    model = parse_latency({"kind": "pareto", "scale": 2.0, "shape": 0.005})
    x = model.sample(np.random.default_rng(0), 10_000)  # about half overflow float64
    assert np.isfinite(x).all() and x.max() == np.finfo(np.float64).max


def test_gamma_defaults() -> None:
    model = parse_latency({"kind": "gamma"})
    assert isinstance(model, GammaLatency)
    assert (model.shape, model.scale, model.shift) == (2.0, 0.005, 0.0)
    assert model.expected() == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "pareto", "scale": 0}, "scale: Input should be greater than 0 (got 0)"),
        ({"kind": "pareto", "shape": -1.0}, "shape: Input should be greater than 0"),
        ({"kind": "pareto", "shift": -1}, "shift: Input should be greater than or equal to 0"),
        ({"kind": "pareto", "scale": math.nan}, "scale: Input should be a finite number"),
        ({"kind": "pareto", "shape": math.inf}, "shape: Input should be a finite number"),
        ({"kind": "pareto", "xm": 1}, "unknown parameter of pareto latency; allowed: scale, shape"),
        ({"kind": "gamma", "shape": 0}, "shape: Input should be greater than 0 (got 0)"),
        ({"kind": "gamma", "scale": -0.1}, "scale: Input should be greater than 0"),
        ({"kind": "gamma", "scale": "1"}, "scale: Input should be a valid number"),
        ({"kind": "gamma", "shift": -1e-3}, "shift: Input should be greater than or equal to 0"),
        ({"kind": "gama"}, "unknown latency model 'gama' (did you mean 'gamma'?)"),
        ({"kind": "empirical"}, "path: Field required"),
        ({"kind": "empirical", "path": ""}, "path: String should have at least 1 character"),
        (
            {"kind": "empirical", "path": "x.csv", "file": "y"},
            "unknown parameter of empirical latency; allowed: path, column, scale, shift",
        ),
        ({"kind": "empirical", "path": "x.csv", "column": -1}, "column: a column index must be"),
        ({"kind": "empirical", "path": "x.csv", "column": 1.0}, "column: must be a column name"),
        ({"kind": "empirical", "path": "x.csv", "column": True}, "column: must be a column name"),
        ({"kind": "empirical", "path": "x.csv", "column": " "}, "column: a column name must not"),
        ({"kind": "empirical", "path": "x.csv", "scale": 0}, "scale: Input should be greater"),
        ({"kind": "empirical", "path": "x.csv", "shift": -1}, "shift: Input should be greater"),
    ],
)
def test_bad_parameters_of_the_new_models_are_named(spec: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_latency(spec)


# ----------------------------------------------------------------------------- empirical


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _empirical(base: Path, **spec: Any) -> LatencyModel:
    with latency_base_dir(base):
        return parse_latency({"kind": "empirical", **spec})


def test_empirical_resamples_the_trace(tmp_path: Path) -> None:
    trace = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 8.0, 8.0, 8.0])  # ms, with repeats
    _write(tmp_path / "t.csv", "\n".join(f"{v}" for v in trace) + "\n")
    model = _empirical(tmp_path, path="t.csv", scale=0.001, shift=0.01)
    n = 24_000
    x = model.sample(np.random.default_rng(3), n)
    assert x.shape == (n,)
    values, counts = np.unique(x, return_counts=True)
    support, weight = np.unique(0.01 + 0.001 * trace, return_counts=True)
    np.testing.assert_array_equal(values, support)  # nothing but trace values, all of them
    # Frequencies ∝ multiplicities: chi-square, p > 1e-3 (see the module docstring).
    assert stats.chisquare(counts, n * weight / weight.sum()).pvalue > 1e-3
    assert model.expected() == pytest.approx(0.01 + 0.001 * trace.mean())


def test_the_example_trace(tmp_path: Path) -> None:
    scenarios = ROOT / "scenarios"
    spec = {"kind": "empirical", "path": "traces/example_rtt.csv", "scale": 0.001}
    with latency_base_dir(scenarios):  # as the scenario loader does for a scenario file
        model = parse_latency(spec)
    assert isinstance(model, EmpiricalLatency)
    assert model.resolved_path == (scenarios / "traces" / "example_rtt.csv").resolve()
    lines = model.resolved_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "one_way_ms"
    trace = 0.001 * np.array([float(v) for v in lines[1:]])
    np.testing.assert_array_equal(model.values, trace)
    assert 150 <= trace.size <= 250
    assert 0.005 < np.median(trace) < trace.mean() < 0.1  # skewed right, tens of ms
    assert trace.max() > 5 * np.median(trace)  # a few outliers
    x = model.sample(np.random.default_rng(4), 20_000)
    assert np.isin(x, trace).all()
    # Resampled vs trace, two-sample KS; ties make it conservative. p > 1e-3 as above.
    assert stats.ks_2samp(x, trace).pvalue > 1e-3


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("one_way_ms\n1.5\n2.5\n", 0, [1.5, 2.5]),  # header detected
        ("1.5\n2.5\n", 0, [1.5, 2.5]),  # no header
        ("host,rtt_ms\na,1.5\nb,2.5\n", "rtt_ms", [1.5, 2.5]),  # by name
        ("host,rtt_ms\na,1.5\nb,2.5\n", 1, [1.5, 2.5]),  # by index, past a header
        ("a,1.5,x\nb,2.5,y\n", 1, [1.5, 2.5]),  # by index, no header: "a,1.5" is data
        (",rtt\n0,1.5\n1,2.5\n", "rtt", [1.5, 2.5]),  # pandas' unnamed index column
        ("rtt\n\n1.5\n  \n2.5\n\n", 0, [1.5, 2.5]),  # blank lines are skipped
        ("\ufeffrtt\r\n1.5\r\n2.5\r\n", "rtt", [1.5, 2.5]),  # BOM, CRLF
        ("rtt\n 1e-3 \n0\n", 0, [0.001, 0.0]),  # spaces, exponent, zero
    ],
    ids=[
        "header",
        "no-header",
        "name",
        "index",
        "index-no-header",
        "pandas",
        "blank",
        "bom",
        "fmt",
    ],
)
def test_trace_formats(tmp_path: Path, text: str, column: int | str, expected: list[float]) -> None:
    _write(tmp_path / "t.csv", text)
    model = _empirical(tmp_path, path="t.csv", column=column)
    assert isinstance(model, EmpiricalLatency)
    np.testing.assert_array_equal(model.values, expected)


def test_trace_scale_and_shift(tmp_path: Path) -> None:
    _write(tmp_path / "ms.csv", "rtt_ms\n10\n30\n")
    model = _empirical(tmp_path, path="ms.csv", scale=0.001, shift=0.5)
    assert isinstance(model, EmpiricalLatency)
    np.testing.assert_allclose(model.values, [0.01, 0.03])
    assert model.expected() == pytest.approx(0.52)
    x = model.sample(np.random.default_rng(0), 100)
    assert set(np.round(x, 12)) == {0.51, 0.53}


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("rtt\n1\n2\n3\n4\n5\n-0.3\n", 0, "trace rtt.csv line 7: negative latency -0.3"),
        ("rtt\n1\nabc\n", 0, "trace rtt.csv line 3: not a number: 'abc'"),
        ("rtt\n1\n\n\n2x\n", 0, "trace rtt.csv line 5: not a number: '2x'"),  # physical
        ("rtt\n1\nnan\n", 0, "trace rtt.csv line 3: NaN latency 'nan'"),
        ("rtt\n1\ninf\n", 0, "trace rtt.csv line 3: infinite latency 'inf'"),
        ("a,b\n1,2\n3,\n", 1, "trace rtt.csv line 3: empty cell in column 1"),
        ("a,b\n1,2\n3\n", "b", "trace rtt.csv line 3: no column 'b' (the row has 1 cell(s))"),
        ("", 0, "trace rtt.csv: no numeric values (the file is empty)"),
        ("\n\n", 0, "trace rtt.csv: no numeric values (the file is empty)"),
        ("rtt_ms\n", 0, "trace rtt.csv: no numeric values (only a header row)"),
        ("1\n2\n", "rtt", "trace rtt.csv: column 'rtt' is given by name but line 1 is not"),
        ("rtt_ms\n1\n", "rtt", "line 1: no column 'rtt' (did you mean 'rtt_ms'?); columns"),
        ('rtt\n"1\n', 0, "trace rtt.csv line 2: not valid CSV: unexpected end of data"),
        ('rtt\n"1"x\n', 0, "trace rtt.csv line 2: not valid CSV: ',' expected after '\"'"),
    ],
    ids=[
        "negative", "text", "line-numbers", "nan", "inf", "empty-cell", "short-row",
        "empty-file", "blank-file", "header-only", "name-without-header", "unknown-name",
        "open-quote", "bad-quote",
    ],
)  # fmt: skip
def test_bad_traces_name_the_file_and_line(
    tmp_path: Path, text: str, column: int | str, message: str
) -> None:
    _write(tmp_path / "rtt.csv", text)
    with pytest.raises(ValueError, match=re.escape(message)):
        _empirical(tmp_path, path="rtt.csv", column=column)


def test_missing_and_unreadable_traces(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("trace nope.csv: no such file (looked for")):
        _empirical(tmp_path, path="nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match=re.escape("trace dir.csv: is a directory")):
        _empirical(tmp_path, path="dir.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match=re.escape("trace bin.csv: not a UTF-8 text file")):
        _empirical(tmp_path, path="bin.csv")


def test_bad_trace_reaches_the_direct_constructor(tmp_path: Path) -> None:
    _write(tmp_path / "neg.csv", "-1\n")
    with latency_base_dir(tmp_path), pytest.raises(ValueError, match="negative latency -1"):
        EmpiricalLatency(path="neg.csv")


def test_trace_is_read_once_per_path_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "once.csv", "a,b\n1,10\n2,20\n")
    first = _empirical(tmp_path, path="once.csv")
    _write(path, "a,b\n7,70\n")  # later edits are not seen by this process...
    again = _empirical(tmp_path, path="once.csv")
    assert isinstance(first, EmpiricalLatency) and isinstance(again, EmpiricalLatency)
    np.testing.assert_array_equal(again.values, [1.0, 2.0])
    other = _empirical(tmp_path, path="once.csv", column="b")  # ...except for a new column
    assert isinstance(other, EmpiricalLatency)
    np.testing.assert_array_equal(other.values, [70.0])
    path.unlink()  # sampling never goes back to the file
    assert set(first.sample(np.random.default_rng(0), 50).tolist()) == {1.0, 2.0}


def test_base_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "traces").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    _write(tmp_path / "a" / "traces" / "x.csv", "1\n")
    _write(tmp_path / "b" / "x.csv", "2\n")
    monkeypatch.chdir(tmp_path / "b")
    assert resolve_trace_path("x.csv") == (tmp_path / "b" / "x.csv").resolve()  # default: cwd
    with latency_base_dir(tmp_path / "a"):
        in_a = parse_latency({"kind": "empirical", "path": "traces/x.csv"})
        with latency_base_dir(str(tmp_path / "b")):  # nests; a str is fine too
            in_b = parse_latency({"kind": "empirical", "path": "x.csv"})
        assert resolve_trace_path("x.csv") == (tmp_path / "a" / "x.csv").resolve()
        with latency_base_dir(None):  # back to the current directory
            assert resolve_trace_path("x.csv") == (tmp_path / "b" / "x.csv").resolve()
        absolute = parse_latency({"kind": "empirical", "path": str(tmp_path / "b" / "x.csv")})
    assert resolve_trace_path("x.csv") == (tmp_path / "b" / "x.csv").resolve()  # restored
    # A model keeps the file it was validated against after the context is gone.
    rng = np.random.default_rng(0)
    assert in_a.sample(rng, 3).tolist() == [1.0] * 3
    assert in_b.sample(rng, 3).tolist() == [2.0] * 3
    assert absolute.sample(rng, 3).tolist() == [2.0] * 3
    with pytest.raises(ValueError, match=re.escape("trace traces/x.csv: no such file")):
        parse_latency({"kind": "empirical", "path": "traces/x.csv"})  # not next to the cwd


def test_empirical_round_trips_through_its_dump(tmp_path: Path) -> None:
    _write(tmp_path / "t.csv", "host,rtt\na,1\n")
    model = _empirical(tmp_path, path="t.csv", column="rtt", scale=0.001, shift=0.002)
    data = model.model_dump()
    assert data == {
        "kind": "empirical",
        "path": "t.csv",  # as written: relative to the scenario file, not this machine
        "column": "rtt",
        "scale": 0.001,
        "shift": 0.002,
    }
    assert _empirical(tmp_path, **data) == model
    assert parse_latency(model) is model


# ----------------------------------------------------------------------------- bandwidth


def test_message_bytes_and_transmission_time() -> None:
    assert message_bytes(1000) == 8000  # float64
    assert message_bytes(1000, "<f4") == 4000
    assert message_bytes(0) == 0
    assert transmission_time(8000, 1e6) == pytest.approx(0.008)  # d = 1000 at 1 MB/s
    assert transmission_time(message_bytes(1000), 1e6) == pytest.approx(0.008)
    assert transmission_time(125_000, 12.5e6) == pytest.approx(0.01)  # 1 Mbit at 100 Mbit/s
    assert transmission_time(8000, None) == 0.0
    assert transmission_time(8000, math.inf) == 0.0
    assert transmission_time(0, 1.0) == 0.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: transmission_time(8000, 0.0), "bandwidth must be > 0"),
        (lambda: transmission_time(8000, -1.0), "bandwidth must be > 0"),
        (lambda: transmission_time(8000, math.nan), "bandwidth must be > 0"),
        (lambda: transmission_time(-1, 1.0), "nbytes must be an integer >= 0"),
        (lambda: message_bytes(-1), "dim must be an integer >= 0"),
        (lambda: message_bytes(2.5), "dim must be an integer >= 0"),  # type: ignore[arg-type]
    ],
)
def test_bandwidth_arguments_are_checked(call: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        call()
