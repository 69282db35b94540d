"""The instance page's reads on both stacks (``workflows.queries.clocks``): the rule version in force at
each transition across a reload, and the clocks of the current state — running, suspended by the
flow's own ``hold``, overdue once fired — from the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.integration.ruleset.conftest import copy_rules
from tests.support import Stack
from workflows.queries.clocks import clocks, rules_in_force
from workflows.ruleset.adapter import RulesFollower
from workflows.ruleset.versions import RuleVersions
from workflows.ui.countdown import countdown


def test_each_transition_shows_the_rule_version_in_force_then(stack: Stack, tmp_path: Path) -> None:
    runtime = stack.runtime
    versions = RuleVersions(runtime.db, runtime.clock, runtime.registry.flows)
    follower = RulesFollower(runtime.rules, versions, 0.05)
    two = follower.reload(copy_rules(tmp_path / "two", toy="2h")).version
    iid = stack.start_toy("versions-1")
    assert stack.instance(iid).rules_version == two
    stack.advance(0.5)
    three = follower.reload(copy_rules(tmp_path / "three", toy="3h")).version
    assert three != two and runtime.rules.version == three
    stack.advance(0.5)
    stack.send(iid, "hold", "hold-1")
    stack.settle()
    history = stack.history(iid)
    assert [h.trigger for h in history] == ["start", "hold", "timer_suspended"]
    # each row records the version it ran under (the engine's own, not inferred from activations)
    assert [h.rules_version for h in history] == [two, three, three]
    found = rules_in_force(runtime.db, two, [h.at for h in history])
    assert found == [two, three, three]
    # before any stored activation (an engine on static deadlines stores none): the instance's own
    assert rules_in_force(runtime.db, "static", [history[0].at - timedelta(hours=1)]) == ["static"]


def test_the_clocks_of_the_current_state(stack: Stack) -> None:
    runtime = stack.runtime
    rules, now = runtime.rules.current, runtime.clock.now
    running = stack.start_toy("clocks-1")  # review_deadline: 2h
    held = stack.start_toy("clocks-2")
    stack.advance(0.5)
    stack.send(held, "hold", "hold-2")
    stack.settle()

    [c] = clocks(runtime.db, running, "toy", "awaiting_review", rules, now())
    assert (c.name, c.status, c.rule, countdown(c)) == (
        "review_deadline",
        "running",
        "2h",
        "1 hour 30 minutes left",
    )
    [h] = clocks(runtime.db, held, "toy", "awaiting_review", rules, now())
    assert (h.status, countdown(h)) == ("suspended", "suspended, 1 hour 30 minutes left")
    assert h.suspended_at is not None

    stack.advance(3)  # the running one is due: fired, and the case moved on to ``escalated``
    runtime.sweeper.sweep()
    stack.settle()
    assert stack.instance(running).state == "escalated"
    assert clocks(runtime.db, running, "toy", "escalated", rules, now()) == []
    [fired] = clocks(runtime.db, running, "toy", "awaiting_review", rules, now())
    assert (fired.status, countdown(fired)) == ("overdue", "overdue by 1 hour 30 minutes")
    [still] = clocks(runtime.db, held, "toy", "awaiting_review", rules, now())
    assert countdown(still) == "suspended, 1 hour 30 minutes left"
