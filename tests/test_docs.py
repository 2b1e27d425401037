"""The documentation names every scenario key and every registered component, and its
links between files lead somewhere."""

from __future__ import annotations

import re

from bgdsim import adversary, aggregators, attacks, problems, step_schedules
from bgdsim.config import Scenario
from bgdsim.network import latencies
from bgdsim.network.loss import losses
from bgdsim.network.topology import topologies
from tests.conftest import ROOT

SECTIONS = ("problem", "cluster", "server", "network", "adversary")


def test_every_scenario_key_is_documented() -> None:
    text = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    for name, field in Scenario.model_fields.items():
        if name == "faults":
            assert "`[[faults]]`" in text
        elif name in SECTIONS:
            model = field.annotation
            for key in model.model_fields:  # type: ignore[union-attr]
                assert f"`{name}.{key}`" in text, f"{name}.{key}"
        else:
            assert f"`{name}`" in text, name


def test_every_registered_component_is_documented() -> None:
    text = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    names = [*aggregators.names(), *attacks.names(), *adversary.schedules.names()]
    names += [*latencies.names(), *problems.names(), *losses.names(), *topologies.names()]
    names += aggregators.pre.names()
    names += step_schedules.names()
    for name in names:
        if not name.startswith("_"):  # components registered by tests
            assert f"`{name}`" in text, name


def test_relative_links_point_at_files() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in target or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{page.name}: {target}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/reliability.md)" in readme
