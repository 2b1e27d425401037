"""Any scenario text, any ``--set``: exit 0 or 2 with one line, never a traceback.

Mutations of a small valid scenario — keys deleted, keys added (known or not, in any
table), values replaced by huge or negative numbers, NaN, infinities, strings, arrays and
nested tables, and byte edits of the TOML text — go through ``bgdsim validate`` in this
process; a mutant that validates and is small is also run for 2 rounds.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from bgdsim.config import load_scenario
from tests.hostile.conftest import cli, examples

BASE = """\
name = "fuzz"
seed = 0
rounds = 3

[problem]
kind = "linear_regression"
dim = 3
samples = 400
noise = 1.0

[cluster]
workers = 20
byzantine = 2

[server]
aggregator = "mean"
step_size = 0.5
round_timeout = 1.0
missing = "zero"

[network]
latency = { kind = "constant", value = 0.01 }
drop = 0.0

[adversary]
schedule = "random"
attack = "sign_flip"
"""
KEYS = [
    "name", "seed", "rounds", "faults", "problem.kind", "problem.dim", "problem.samples",
    "problem.noise", "problem.theta_star", "cluster.workers", "cluster.byzantine",
    "server.aggregator", "server.aggregator.batches", "server.step_size", "server.round_timeout",
    "server.missing", "server.barrier", "server.quorum", "server.max_norm", "server.aggregator.tol",
    "network.latency", "network.latency.kind", "network.latency.value", "network.drop",
    "network.topology", "adversary.schedule", "adversary.attack", "adversary.attack.scale",
]  # fmt: skip
#: the numbers a hostile user tries first
EDGES = [0, -1, 1, 2, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 10**12, 10**30, 10**400]
SCALARS = st.one_of(
    st.sampled_from(EDGES),
    st.integers(),
    st.floats(),  # NaN and infinities included
    st.sampled_from([1e308, -0.0, 5e-324, 1e-300]),
    st.text(max_size=12),
    st.sampled_from(["", "../../x", "a\x00b", "\ufeff", "mean", "gmom", "auto", "all"]),
    st.booleans(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
#: what replaces one character of the TOML text ("": it is deleted)
TEXT_EDITS = ["", "[", '"', "\x00", "=", "\n", "é", "\ufeff", "{"]
FAST = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def mutate(doc: dict[str, Any], op: str, path: list[str], value: Any) -> None:
    """Delete or set ``path`` in ``doc`` (tables on the way made or replaced)."""
    table = doc
    for key in path[:-1]:
        if not isinstance(table.get(key), dict):
            if op == "delete":
                return
            table[key] = {}
        table = table[key]
    if op == "delete":
        table.pop(path[-1], None)
    else:
        table[path[-1]] = value


def validate_then_run(
    capsys: pytest.CaptureFixture[str], scenario: Path, *sets: str
) -> tuple[int, str]:
    """``validate`` (and, for a small valid scenario, a 2-round ``run``): exit 0 or 2."""
    flags = [f"--set={s}" for s in sets]  # a key may start with "-"
    start, peak = time.monotonic(), _peak_rss()
    code, out = cli(capsys, "validate", str(scenario), *flags)
    assert code in (0, 2), out
    if code == 0:
        sc = load_scenario(scenario, list(sets))
        small = sc.cluster.workers <= 100 and sc.problem.samples * sc.problem.dim <= 10**6
        if small:
            flags += ["--set=rounds=2"]
            run_code, out = cli(capsys, "run", str(scenario), *flags, "--no-log")
            assert run_code in (0, 2), out
            event(f"validate 0, run {run_code}")
        else:
            event("validate 0, too large to run here")
    else:
        event("validate 2")
    assert time.monotonic() - start < 10, "bad input must fail fast"
    # the process's peak can only grow: a call that touched over 1 GiB more than any
    # earlier one raises it by that much (a blow-up under an earlier peak goes unseen)
    assert _peak_rss() - peak < 1 << 30, "bad input must fail in bounded memory"
    return code, out


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@FAST
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["delete", "set"]),
            st.sampled_from(KEYS) | st.text(min_size=1, max_size=8).map(lambda k: k),
            VALUES,
        ),
        min_size=1,
        max_size=4,
    ),
    edit=st.none() | st.tuples(st.integers(0, 10**6), st.sampled_from(TEXT_EDITS)),
)  # fmt: skip
def test_any_scenario_text_is_exit_0_or_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ops: list[Any], edit: Any
) -> None:
    doc = tomllib.loads(BASE)
    for op, key, value in ops:
        mutate(doc, op, key.split("."), value)
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # not every table is TOML (e.g. NaN keys are fine, None is not)
        assume(False)
    if edit is not None:  # a byte of the text replaced (or removed)
        at = edit[0] % (len(text) + 1)
        text = text[:at] + edit[1] + text[at + 1 :]
    scenario = tmp_path / "s.toml"
    scenario.write_text(text, encoding="utf-8")
    validate_then_run(capsys, scenario)


@FAST
@given(
    key=st.sampled_from(KEYS) | st.text(max_size=12),
    value=st.text(max_size=30) | VALUES.map(lambda v: tomli_w.dumps({"v": v})[4:].strip()
                                             if not isinstance(v, dict) else str(v)),
)  # fmt: skip
def test_any_set_is_exit_0_or_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(BASE, encoding="utf-8")
    validate_then_run(capsys, scenario, f"{key}={value}")


@pytest.mark.parametrize(
    ("text", "shown"), [('"\\r" = 1\n', "\\r: unknown key"), ('name = "a\\nb"\n', "U+000A")]
)
def test_unprintable_input_stays_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, shown: str
) -> None:
    # found by the property above: a key "\r" echoed raw broke the message in two
    scenario = tmp_path / "s.toml"
    scenario.write_text(text, encoding="utf-8")
    code, out = cli(capsys, "validate", str(scenario))
    assert code == 2 and shown in out, out
