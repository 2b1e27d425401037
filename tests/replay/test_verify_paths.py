"""``replay --verify``: the vectorised path agrees with the sequential one on everything.

Every round's inbox (heard, received, reports, counts) and barrier reason, the verdict and
the first mismatch — on real logs of many kinds, and on consistent logs (every digest
recomputed) whose message records were edited to say something else.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bgdsim
from tests.conftest import make_scenario
from tests.replay.paths import MODES, replaced, reseal, rows_where, trace

SMALL = {"rounds": 5, "problem__dim": 5, "problem__samples": 4000, "cluster__workers": 20,
         "cluster__byzantine": 2, "server__aggregator__batches": 5}  # fmt: skip
UNIFORM = {"kind": "uniform", "low": 0.0, "high": 1.0}
LOGNORMAL = {"kind": "lognormal", "mu": -1.0, "sigma": 0.8}
BUSY = {"network__drop": 0.1, "network__latency": UNIFORM, "server__round_timeout": 0.9,
        "adversary__attack": "malformed", "server__missing": "stale"}  # fmt: skip

SCENARIOS = {
    "plain": {},
    "busy": BUSY,
    "lognormal-exclude": {"network__latency": LOGNORMAL, "server__round_timeout": 0.5,
                          "server__missing": "exclude", "network__drop": 0.2},
    "quorum-grace": {"server__barrier": "quorum", "server__quorum": 12, "server__grace": 0.2,
                     "network__latency": UNIFORM},
    "quorum-no-grace": {"server__barrier": "quorum", "network__latency": LOGNORMAL},
    "quorum-past-the-accepted": {"server__barrier": "quorum", "server__quorum": 19,
                                 "adversary__attack": "malformed"},  # only rejected ones
    "inf-max-norm": {"adversary__attack": {"kind": "malformed", "defect": "inf"},
                     "server__max_norm": 5.0, "network__latency": UNIFORM},
    "huge-max-norm": {"adversary__attack": {"kind": "malformed", "defect": "huge"},
                      "server__max_norm": 1e3},
    "wrong-shape": {"adversary__attack": {"kind": "malformed", "defect": "shape"},
                    "server__missing": "stale", "network__latency": UNIFORM},
    "silent-timeout": {"adversary__attack": "silent", "server__round_timeout": 0.3},
    "crash-timing": {"faults": [{"kind": "crash", "workers": [1], "from": 2, "until": 4}],
                     "adversary__attack": "timing", "network__latency": UNIFORM},
}  # fmt: skip


def logged(path: Path, **overrides: Any) -> Path:
    bgdsim.run(make_scenario(**{**SMALL, **overrides}), log_path=path)
    return path


def agree(path: Path) -> tuple[Any, int]:
    """Verify on every path; they must agree on everything. Returns (verdict, rounds the
    vectorised receive took)."""
    verdict, snaps, fast = trace(path, "vector")
    for mode in MODES[1:]:
        other, other_snaps, _ = trace(path, mode)
        assert other == verdict, mode
        assert other_snaps == snaps, mode
    return verdict, fast


@pytest.mark.parametrize("extra", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_both_paths_recompute_the_same_rounds(tmp_path: Path, extra: dict[str, Any]) -> None:
    path = logged(tmp_path / "v.jsonl", **extra)
    (rounds, complete, mismatch, _), fast = agree(path)
    assert mismatch is None and complete and rounds == 5
    assert fast == 5  # ordinary rounds, every one of them on the vectorised path


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drop=st.sampled_from([0.0, 0.15, 0.5]),
    latency=st.sampled_from([UNIFORM, LOGNORMAL, {"kind": "constant", "value": 0.01}]),
    timeout=st.sampled_from([0.2, 0.6, 2.0]),
    barrier=st.sampled_from([{}, {"server__barrier": "quorum", "server__grace": 0.1},
                             {"server__barrier": "quorum", "server__quorum": 5}]),
    attack=st.sampled_from([{}, {"adversary__attack": "malformed"},
                            {"adversary__attack": {"kind": "malformed", "defect": "shape"}}]),
    missing=st.sampled_from(["zero", "exclude", "stale"]),
    seed=st.integers(0, 3),
)  # fmt: skip
def test_both_paths_agree_on_random_settings(
    tmp_path_factory: pytest.TempPathFactory, drop: float, latency: dict[str, Any],
    timeout: float, barrier: dict[str, Any], attack: dict[str, Any], missing: str, seed: int,
) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("h") / "h.jsonl"
    logged(path, network__drop=drop, network__latency=latency, server__round_timeout=timeout,
           server__missing=missing, seed=seed, rounds=4, **barrier, **attack)  # fmt: skip
    (_, complete, mismatch, _), _ = agree(path)
    assert mismatch is None and complete


def test_a_live_log_agrees_too(tmp_path: Path) -> None:
    # wall-clock arrivals, each report stored on its own: not one block per round
    from bgdsim.live import run_asyncio
    from tests.live.conftest import tiny

    path = tmp_path / "live.jsonl"
    sc = tiny(network__drop=0.2, network__latency={"kind": "lognormal", "mu": -4.0, "sigma": 0.5},
              server__round_timeout=0.5, adversary__attack="malformed", rounds=4)  # fmt: skip
    run_asyncio(sc, log_path=path, time_scale=0.01)
    (rounds, complete, mismatch, _), fast = agree(path)
    assert mismatch is None and complete and rounds == 4
    assert fast > 0


# ------------------------------------------------------------------ consistent, edited logs
def edited(path: Path, round_: int, **changes: Any) -> Path:
    """Re-seal ``path`` with one row of ``round_``'s records changed (``where``: which)."""
    where = changes.pop("where")

    def edit(r: int, table: pa.Table) -> pa.Table | None:
        if r != round_:
            return None
        i = rows_where(table, **where)[0]
        cols = table.to_pydict()
        for key, value in changes.items():
            cols[key][i] = value
        return replaced(table, **{k: cols[k] for k in changes})

    reseal(path, edit)
    return path


def mismatch_everywhere(path: Path) -> tuple[int, str, str]:
    """The mismatch verify reports, the same on every path."""
    found = {mode: trace(path, mode)[0][2] for mode in MODES}
    assert len(set(found.values())) == 1, found
    bad = found["vector"]
    assert bad is not None
    return bad


def test_a_resealed_log_with_nothing_changed_verifies(tmp_path: Path) -> None:
    path = logged(tmp_path / "b.jsonl", **BUSY)
    reseal(path, lambda r, table: table)
    assert bgdsim.verify(path).ok


def test_a_report_recorded_as_rejected_but_valid_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "p.jsonl")
    edited(path, 3, where={"dir": "up", "event": "deliver", "worker": 7}, event=4,
           reason="forged")  # fmt: skip
    assert mismatch_everywhere(path) == (
        3,
        "validation of worker 7",
        "recorded rejected, recomputed deliver",
    )


@pytest.mark.parametrize("latency", [{}, {"network__latency": UNIFORM}], ids=["tied", "spread"])
def test_of_two_wrong_outcomes_the_first_to_arrive_is_named(
    tmp_path: Path, latency: dict[str, Any]
) -> None:
    path = logged(tmp_path / "p.jsonl", **latency)
    arrivals = sorted(  # time order; the record's order (by worker) within a tie
        (e["time"], e["worker"]) for e in bgdsim.read_log(path)
        if e["event"] == "deliver" and e["dir"] == "up" and e["round"] == 3
    )  # fmt: skip
    first, last = arrivals[2][1], arrivals[-3][1]

    def flip(r: int, table: pa.Table) -> pa.Table | None:
        if r != 3:
            return None
        cols = table.to_pydict()
        for j in (last, first):  # the later one first in the record, when it can be
            i = rows_where(table, dir="up", event="deliver", worker=j)[0]
            cols["event"][i], cols["reason"][i] = 4, "forged"
        return replaced(table, event=cols["event"], reason=cols["reason"])

    reseal(path, flip)
    assert mismatch_everywhere(path) == (
        3,
        f"validation of worker {first}",
        "recorded rejected, recomputed deliver",
    )


def test_among_tied_arrivals_the_first_in_the_record_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "p.jsonl")  # constant latency: every report arrives at once

    def flip_all(r: int, table: pa.Table) -> pa.Table | None:
        if r != 2:
            return None
        cols = table.to_pydict()
        for i in rows_where(table, dir="up", event="deliver"):  # two groups of ties
            cols["event"][i], cols["reason"][i] = 4, "forged"
            cols["time"][i] -= 0.01 * (cols["worker"][i] % 2)
        return replaced(table, event=cols["event"], reason=cols["reason"], time=cols["time"])

    first = min(e["worker"] for e in bgdsim.read_log(path) if e["event"] == "deliver"
                and e["dir"] == "up" and e["round"] == 2 and e["worker"] % 2)  # fmt: skip
    reseal(path, flip_all)
    assert mismatch_everywhere(path) == (
        2,
        f"validation of worker {first}",
        "recorded rejected, recomputed deliver",
    )


def test_a_report_arriving_twice_with_one_send_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "p.jsonl")

    def twice(r: int, table: pa.Table) -> pa.Table | None:
        if r != 2:
            return None
        i = rows_where(table, dir="up", event="deliver", worker=9)[0]
        return pa.concat_tables([table, table.slice(i, 1)])

    reseal(path, twice)
    assert mismatch_everywhere(path) == (2, "reports", "deliver of worker 9 with no recorded send")


def test_an_earlier_send_of_the_same_report_is_paired_first(tmp_path: Path) -> None:
    # a send of (round 2, worker 5) recorded in span 1 too, with no payload: the round-2
    # arrival takes that one (first in, first out) and cannot be read
    path = logged(tmp_path / "p.jsonl")

    def early_send(r: int, table: pa.Table) -> pa.Table | None:
        if r != 1:
            return None
        row = table.slice(rows_where(table, dir="up", event="send", worker=5)[0], 1)
        return pa.concat_tables([table, replaced(row, round=[2], payload=[-1])])

    reseal(path, early_send)
    t, what, detail = mismatch_everywhere(path)
    assert (t, what) == (2, "event") and "TypeError" in detail


def test_a_report_moved_past_the_timeout_is_late(tmp_path: Path) -> None:
    # the barrier fires at the timeout, before it: a report recorded as delivered after
    # the barrier fired cannot be (verify used to accept it and recompute only the reason)
    path = logged(tmp_path / "p.jsonl")
    start = next(e["time"] for e in bgdsim.read_log(path)
                 if e["event"] == "round_start" and e["round"] == 2)  # fmt: skip
    edited(path, 2, where={"dir": "up", "event": "deliver", "worker": 4}, time=start + 1.5)
    assert mismatch_everywhere(path) == (
        2,
        "validation of worker 4",
        "recorded deliver, recomputed late",
    )


def test_an_edited_rejection_reason_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "m.jsonl", adversary__attack="malformed")
    rejected = [e for e in bgdsim.read_log(path)
                if e["event"] == "rejected" and e["round"] == 4]  # fmt: skip
    j, reason = rejected[0]["worker"], rejected[0]["reason"]
    edited(path, 4, where={"dir": "up", "event": "rejected", "worker": j}, reason="forged")
    assert mismatch_everywhere(path) == (
        4,
        f"validation of worker {j}",
        f"recorded reason 'forged', recomputed {reason!r}",
    )


def test_a_late_report_recorded_as_delivered_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "b.jsonl", **BUSY, rounds=6)
    late = next(e for e in bgdsim.read_log(path) if e["event"] == "late")
    span = next(e["round"] for e in bgdsim.read_log(path)
                if e["event"] == "round_end" and e["round"] > late["round"])  # fmt: skip
    edited(path, span, where={"dir": "up", "event": "late", "worker": late["worker"],
                              "round": late["round"]}, event=1)  # fmt: skip
    assert mismatch_everywhere(path) == (
        span,
        f"validation of worker {late['worker']}",
        "recorded deliver, recomputed late",
    )


def test_of_two_payloads_past_the_end_the_first_to_arrive_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "p.jsonl")
    end = 10**9  # far past the sidecar's end, even with the edited record appended

    def past(r: int, table: pa.Table) -> pa.Table | None:
        if r != 2:
            return None
        cols = table.to_pydict()
        for j, offset in ((3, end), (8, end + 800)):  # tied arrivals: worker 3 comes first
            cols["payload"][rows_where(table, dir="up", event="send", worker=j)[0]] = offset
        return replaced(table, payload=cols["payload"])

    reseal(path, past)
    t, what, detail = mismatch_everywhere(path)
    assert (t, what) == (2, "integrity") and f"payload at byte {end} is past" in detail


@pytest.mark.parametrize("time", [float("nan"), float("inf"), -float("inf")])
def test_a_report_at_no_real_time_is_judged_the_same_way(tmp_path: Path, time: float) -> None:
    path = logged(tmp_path / "p.jsonl")
    edited(path, 2, where={"dir": "up", "event": "deliver", "worker": 6}, time=time)
    vector, *others = (trace(path, mode)[:2] for mode in MODES)
    assert all(other == vector for other in others)


def test_an_unknown_event_code_is_judged_the_same_way(tmp_path: Path) -> None:
    path = logged(tmp_path / "p.jsonl")

    def signed(r: int, table: pa.Table) -> pa.Table | None:
        if r != 2:
            return None
        events = table.column("event").to_pylist()
        events[rows_where(table, dir="up", event="deliver", worker=6)[0]] = -1
        i = table.column_names.index("event")
        return table.set_column(i, "event", pa.array(events, pa.int8()))

    reseal(path, signed)
    t, what, detail = mismatch_everywhere(path)  # the record's check names it
    assert (t, what) == (2, "integrity") and "unknown event code -1" in detail


COLUMNS = ("event", "time", "worker", "round", "reason", "payload", "spec", "dir")


def scramble(rng: random.Random, table: pa.Table, limit: int) -> pa.Table:
    """A few random edits of a span's records, kinds that may or may not be caught."""
    cols = table.to_pydict()
    n = table.num_rows
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(n)
        key = rng.choice((*COLUMNS, "duplicate", "delete"))
        if key == "duplicate":
            for values in cols.values():
                values.insert(rng.randrange(n), values[i])
            n += 1
        elif key == "delete" and n > 1:
            for values in cols.values():
                del values[i]
            n -= 1
        elif key in ("event", "dir"):
            cols[key][i] = rng.choice((0, 1, 2, 3, 4) if key == "event" else (0, 1))
        elif key == "time":
            cols[key][i] = rng.choice((cols[key][i] + rng.uniform(-1, 1), 0.0, 1e9, float("nan")))
        elif key in ("worker", "round"):
            cols[key][i] = cols[key][i] + rng.choice((-1, 1, 3, -100))
        elif key == "reason":
            cols[key][i] = rng.choice((None, "forged", cols[key][rng.randrange(n)]))
        elif key == "payload":
            cols[key][i] = rng.choice((-1, cols[key][rng.randrange(n)], limit, limit - 8))
        else:  # spec
            cols[key][i] = rng.choice((None, "<f8:[5]", "<i8:[5]", "<f8:[6]", "<f4:[5]"))
    return replaced(table, **cols)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), where=st.integers(1, 4))
def test_both_paths_find_the_same_first_mismatch_in_edited_logs(
    tmp_path_factory: pytest.TempPathFactory, seed: int, where: int
) -> None:
    path = logged(tmp_path_factory.mktemp("e") / "e.jsonl", **BUSY, rounds=4)
    limit = path.with_suffix(".bin").stat().st_size
    rng = random.Random(seed)
    reseal(path, lambda r, table: scramble(rng, table, limit) if r == where else None)
    found = {mode: trace(path, mode)[0] for mode in MODES}
    assert found["vector"] == found["sequential"] == found["pairing-only"], found


# ------------------------------------------------- the barrier's and broadcast's own fields
def line_edited(path: Path, event: str, round_: int, **changes: Any) -> Path:
    """Re-chain ``path`` with one round-level line changed (every digest recomputed)."""
    import orjson

    from tests.replay.paths import rechain

    lines = path.read_bytes().splitlines(keepends=True)
    events = [orjson.loads(raw) for raw in lines]
    i = next(i for i, e in enumerate(events) if e["event"] == event and e["round"] == round_)
    events[i].update(changes)
    lines[i] = orjson.dumps(events[i], option=orjson.OPT_APPEND_NEWLINE)
    side = path.with_suffix(".bin").read_bytes()
    path.write_bytes(rechain(lines, events, side))
    return path


def barrier_of(path: Path, round_: int) -> dict[str, Any]:
    return next(
        e for e in bgdsim.read_log(path) if e["event"] == "barrier" and e["round"] == round_
    )


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("time", None, "recorded at"),
        ("heard", 1, "recorded heard {}, recomputed {}"),
        ("received", -1, "recorded received {}, recomputed {}"),
    ],
)
def test_an_edited_barrier_line_is_named(
    tmp_path: Path, field: str, value: Any, detail: str
) -> None:
    # the reason, the missing reports and the aggregate still agree: the line's own fields
    # (when it fired, how many were heard and kept by then) are recomputed too
    path = logged(tmp_path / "b.jsonl", network__latency=UNIFORM)
    recorded = barrier_of(path, 3)[field]
    value = recorded - 0.01 if field == "time" else recorded + value  # one off
    line_edited(path, "barrier", 3, **{field: value})
    t, what, got = bgdsim.verify(path).mismatch  # type: ignore[misc]
    assert (t, what) == (3, "barrier") and got.startswith(detail.format(value, recorded)), got


def test_a_report_delivered_after_the_barrier_fired_is_named(tmp_path: Path) -> None:
    # a quorum of 12 with no grace fires at the 12th accepted report; a report recorded
    # as delivered after that instant (but well before the timeout) cannot have been
    path = logged(tmp_path / "q.jsonl", server__barrier="quorum", server__quorum=12,
                  network__latency=UNIFORM)  # fmt: skip
    fired = barrier_of(path, 2)["time"]
    rows = [e for e in bgdsim.read_log(path) if e["event"] == "deliver" and e["dir"] == "up"
            and e["round"] == 2]  # fmt: skip
    early = min(rows, key=lambda e: e["time"])
    edited(path, 2, where={"dir": "up", "event": "deliver", "worker": early["worker"]},
           time=fired + 0.05)  # fmt: skip
    t, what, got = mismatch_everywhere(path)
    assert (t, what) == (2, f"validation of worker {early['worker']}")
    assert got == "recorded deliver, recomputed late"


def test_a_broadcast_of_another_theta_is_named(tmp_path: Path) -> None:
    path = logged(tmp_path / "t.jsonl")
    import orjson

    star = orjson.loads(path.read_bytes().split(b"\n", 1)[0])["theta_star"]  # a reference
    line_edited(path, "broadcast", 2, theta=star)
    assert bgdsim.verify(path).mismatch == (2, "broadcast", "θ sent in round 2 is not θ_1")
