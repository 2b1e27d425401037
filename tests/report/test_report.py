"""bgdsim report: one self-contained HTML page of a log or a sweep's results, escaped,
with the run summary's numbers; opened in headless Chromium when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import bgdsim
from bgdsim.cli import main
from bgdsim.report import render, write_report

TINY: dict[str, Any] = {
    "name": "tiny", "rounds": 4, "cluster.workers": 12, "cluster.byzantine": 2,
    "problem.samples": 1200, "problem.dim": 4, "server.aggregator.batches": 4,
    "network.drop": 0.1,
}  # fmt: skip


class Page(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> bgdsim.RunResult:
    folder = tmp_path_factory.mktemp("run")
    return bgdsim.run(bgdsim.load_scenario(overrides=TINY), log_path=folder / "tiny.jsonl")


def key_numbers(run: bgdsim.RunResult) -> list[str]:
    return [f"{run.final_error:.4g}", f"{run.floor:.4g}", f"{run.sim_time:.4g}"]


def test_a_log_report_is_self_contained_and_has_the_summary(run: bgdsim.RunResult) -> None:
    assert run.log_path is not None
    text = render(run.log_path)
    page = parse(text)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    urls = [v for _, attrs in page.tags for k, v in attrs.items()
            if k in ("src", "href", "xlink:href") and v]  # fmt: skip
    assert not [u for u in urls if not u.startswith(("#", "data:"))]
    # the only URLs are the SVG namespaces' names (xmlns attributes), never fetched
    namespaces = {
        v for t, a in page.tags if t == "svg" for k, v in a.items() if k.startswith("xmlns")
    }
    assert set(re.findall(r"https?://[^\s\"'<>]*", text)) == namespaces
    assert tags.count("svg") == 3
    assert {a.get("id") for t, a in page.tags if t == "section"} == {
        "summary", "error", "strip", "barrier", "workers", "scenario"}  # fmt: skip
    for number in key_numbers(run):
        assert f"<dd>{number}</dd>" in text
    c = run.counts
    assert f"<dd>{c['up_sent']} / {c['up_delivered']}</dd>" in text
    assert f"paper floor √(dk/N), k = {run.k}" in text
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # three figures, no id shared


def test_text_from_a_log_is_escaped(run: bgdsim.RunResult, tmp_path: Path) -> None:
    assert run.log_path is not None
    hostile = tmp_path / "hostile.jsonl"
    lines = run.log_path.read_bytes().split(b"\n", 1)
    lines[0] = lines[0].replace(b'"name":"tiny"', b'"name":"<script>alert(1)</script>$x"', 1)
    hostile.write_bytes(b"\n".join(lines))
    shutil.copy(run.log_path.with_suffix(".bin"), hostile.with_suffix(".bin"))
    text = render(hostile)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;$x" in text


def test_a_sweep_report_has_its_table_and_figures(tmp_path: Path) -> None:
    scenario = {"rounds": 3, "problem": {"dim": 4, "samples": 1200},
                "cluster": {"workers": 12, "byzantine": 1},
                "server": {"aggregator": {"kind": "gmom", "batches": 4}}}  # fmt: skip
    spec = {"scenario": scenario, "seeds": 2, "grid": {"cluster.byzantine": [0, 1, 2]}}
    df = bgdsim.sweep(spec, out=tmp_path / "res", jobs=1)
    path = write_report(tmp_path / "res")
    assert path == tmp_path / "res" / "report.html"
    text = path.read_text(encoding="utf-8")
    page = parse(text)
    assert [t for t, _ in page.tags].count("svg") == 1
    assert [t for t, _ in page.tags].count("tr") == len(df) + 1
    assert "Results (6 runs)" in text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jsonl", "no such file or directory"),
        (lambda p: p, r"no results\.csv"),
        (lambda p: (p / "notes.toml").write_text("a = 1") and p / "notes.toml",
         r"expected an event log \(\.jsonl\) or a sweep's results folder"),
        (lambda p: (p / "x.jsonl").write_text("not json\n") and p / "x.jsonl",
         "not a bgdsim event log"),
    ],
)  # fmt: skip
def test_bad_paths_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    assert main(["report", str(make(tmp_path)), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.search(message, err)
    assert not (tmp_path / "r.html").exists()


CHROMIUM = shutil.which("chromium")


def chromium(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
         "--v=0", *args, url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_the_report_opens_in_headless_chromium(run: bgdsim.RunResult, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><p>x</p><script>console.error('seen-1');</script>")
    assert any("seen-1" in line for line in console(chromium(broken.as_uri(), "--dump-dom").stderr))

    assert run.log_path is not None
    report = write_report(run.log_path, tmp_path / "report.html")
    shown = chromium(report.as_uri(), "--dump-dom")
    assert console(shown.stderr) == []
    for number in key_numbers(run):
        assert f"<dd>{number}</dd>" in shown.stdout
    shot = tmp_path / "shot.png"
    taken = chromium(report.as_uri(), f"--screenshot={shot}", "--window-size=1200,2000")
    assert console(taken.stderr) == []
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert image.size == (1200, 2000)
    assert len(np.unique(pixels, axis=0)) > 20


def test_a_sweep_of_defences_only_still_gets_its_report(tmp_path: Path) -> None:
    # nothing numeric swept (the usual "compare defences" sweep): no figure to draw, but
    # the report used to fail altogether (exit 2) instead of showing the results table
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "results.csv").write_text(
        "cell,server.aggregator,seed,final_error\nc0,mean,0,0.5\nc1,geomed,0,0.01\n",
        encoding="utf-8",
    )
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Results (2 runs)" in html and "geomed" in html and "Figures" not in html


def test_the_run_summary_names_a_paused_run_paused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text(
        "rounds = 5\n[cluster]\nworkers = 4\nbyzantine = 0\n[problem]\nsamples = 40\n"
        '[server.aggregator]\nkind = "gmom"\nbatches = 2\n'
        '[[faults]]\nkind = "server_pause"\nunit = "seconds"\nfrom = 0.05\n',
        encoding="utf-8",
    )
    assert main(["run", str(toml), "--no-log", "-q"]) == 0
    out = capsys.readouterr().out
    assert "(paused)" in out and "(diverged)" not in out
