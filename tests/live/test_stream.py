"""The event stream yields the log's events, in order, for both runtimes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgdsim.eventlog import read_events
from bgdsim.live import stream
from tests.conftest import ScenarioFactory


@pytest.mark.asyncio
@pytest.mark.parametrize("runtime", ["simpy", "asyncio"])
async def test_stream_yields_the_log(
    live_scenario: ScenarioFactory, tmp_path: Path, runtime: str
) -> None:
    path = tmp_path / "run.jsonl"
    sc = live_scenario(adversary__attack="sign_flip")
    events = [e async for e in stream(sc, runtime, log_path=path, time_scale=0.001, maxsize=4)]
    assert events == list(read_events(path))
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "run_end"


@pytest.mark.asyncio
async def test_simpy_stream_log_is_the_simpy_log(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    import bgdsim

    sc = live_scenario()
    bgdsim.run(sc, log_path=tmp_path / "plain.jsonl")
    _ = [e async for e in stream(sc, "simpy", log_path=tmp_path / "s.jsonl")]
    assert (tmp_path / "plain.jsonl").read_bytes() == (tmp_path / "s.jsonl").read_bytes()
    assert (tmp_path / "plain.bin").read_bytes() == (tmp_path / "s.bin").read_bytes()


@pytest.mark.asyncio
async def test_closing_the_stream_early_stops_the_run(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(rounds=200)
    gen = stream(sc, "simpy", log_path=tmp_path / "r.jsonl", maxsize=2)
    seen = []
    async for e in gen:
        seen.append(e)
        if len(seen) == 5:
            break
    await gen.aclose()
    events = list(read_events(tmp_path / "r.jsonl"))
    assert not any(e["event"] == "run_end" for e in events)


@pytest.mark.asyncio
async def test_unknown_runtime(live_scenario: ScenarioFactory) -> None:
    with pytest.raises(ValueError, match="unknown runtime"):
        async for _ in stream(live_scenario(), "nope"):
            pass
