"""The demo runner (``workflows.demo``) on the embedded stack with two parts of the toy flow: every
part loads before any prepares, the places they load are where the district is, an event is emitted at
the first simulated hour at or after its time, each part follows every hour with a generator of its
own, a refused event is counted and named, and the reports come back in part order."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from rules import RuleSet
from tests.support import Stack, running_stack
from workflows.demo.parts import DemoContext, DemoPart, Place
from workflows.demo.runner import DemoRunner, build_parts, first_morning
from workflows.errors import BadInput
from workflows.store.models import Instance


class ToyPart:
    """Submits toy cases at the times it is given and records what it sees each hour."""

    def __init__(self, name: str, places: Sequence[Place], at_minutes: Sequence[int]) -> None:
        self.name = name
        self.places = places
        self.at_minutes = at_minutes
        self.log: list[str] = []
        self.draws: list[float] = []
        self.seen: list[tuple[datetime, int]] = []

    def load(self, ctx: DemoContext) -> Sequence[Place]:
        self.log.append("load")
        return self.places

    def prepare(self, ctx: DemoContext) -> str:
        self.log.append(f"prepare over {[p.grid for p in ctx.places]}")
        self.draws.append(ctx.rng.random())
        for n, minutes in enumerate(self.at_minutes):
            data = {"case": f"{self.name}-{n}"} if minutes >= 0 else {}
            ctx.schedule(ctx.start + timedelta(minutes=abs(minutes)), "toy.submitted", "/demo/toy", data)
        return f"{len(self.at_minutes)} cases"

    def follow(self, ctx: DemoContext, now: datetime) -> None:
        with ctx.runtime.db.read() as s:
            cases = s.execute(select(Instance.id).where(Instance.business_key.like(f"{self.name}-%"))).all()
        self.seen.append((now, len(cases)))

    def report(self, ctx: DemoContext, start: datetime, end: datetime) -> str:
        return f"{self.name}: {self.seen[-1][1]} cases from {start:%H:%M} to {end:%H:%M}"


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    with running_stack("embedded", tmp_path) as stack:
        yield stack


def test_parts_load_then_prepare_then_follow_each_hour_and_report_in_order(
    embedded: Stack, ruleset: RuleSet
) -> None:
    first = ToyPart("a", [Place("ZH-001", "ZHONGHAN")], [30, 130, -10])  # -10: no case, refused
    second = ToyPart("b", [Place("ZH-001", "ZHONGHAN"), Place("BZ-001", "BEIZHAI")], [200])
    parts: dict[str, DemoPart] = {"a": first, "b": second}
    runner = DemoRunner(embedded.runtime, ruleset, parts, enterprises=3, days=1, seed=7)
    assert runner.start == first_morning(embedded.clock.now())

    assert runner.prepare() == {"a": "3 cases", "b": "1 cases"}
    # both loaded before either prepared; the places are the union, each grid once
    assert first.log == ["load", "prepare over ['ZH-001', 'BZ-001']"]
    assert second.log == ["load", "prepare over ['ZH-001', 'BZ-001']"]
    assert first.draws == second.draws == [random.Random(7).random()]

    result = runner.run(0, lambda done, total: None)
    # the simulated clock runs on with real time between the hours: seconds, not an hour
    hours = [(now - runner.start) // timedelta(hours=1) for now, _ in first.seen]
    assert hours == list(range(24))
    # a case due at 08:30 is accepted at 09:00, one due at 10:10 at 11:00
    assert [n for _, n in first.seen[:4]] == [0, 1, 1, 2]
    assert [n for _, n in second.seen[:5]] == [0, 0, 0, 0, 1]
    assert (result.events, result.licenses, result.refused) == (4, 0, 1)
    assert "data.case" in result.refusals[0] and result.refusals[0].startswith("toy.submitted demo-2")
    assert list(result.reports) == ["a", "b"]
    assert result.reports["a"] == "a: 2 cases from 08:00 to 08:00"


def test_without_places_the_district_is_in_the_rule_sets_grids(embedded: Stack, ruleset: RuleSet) -> None:
    part = ToyPart("a", [], [])
    runner = DemoRunner(embedded.runtime, ruleset, {"a": part}, enterprises=0, days=1, seed=1)
    runner.prepare()
    assert part.log[1] == f"prepare over {[g.code for g in ruleset.organisation.grids]}"


def test_a_start_the_clock_has_passed_is_refused(embedded: Stack, ruleset: RuleSet) -> None:
    past = first_morning(embedded.clock.now()) - timedelta(days=2)
    with pytest.raises(BadInput, match="has passed on the demo's clock"):
        DemoRunner(embedded.runtime, ruleset, {}, enterprises=1, days=1, seed=1, start=past)


def test_a_factory_that_makes_no_demo_part_is_named() -> None:
    with pytest.raises(TypeError, match="plug-in 'odd': its demo factory made a str, not a demo part"):
        build_parts({"odd": lambda: "a part"})
