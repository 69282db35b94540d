"""``overdue``: a passed deadline makes a case overdue, a passed warning timer does not — by the
timer's declared kind (``Registry.warning_timers``), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.support import Stack
from workflows.queries.instances import InstanceFilter, list_instances


def overdue_ids(stack: Stack, hours: float, warnings: frozenset[tuple[str, str]]) -> list[int]:
    now = stack.runtime.clock.now() + timedelta(hours=hours)
    items, _ = list_instances(
        stack.runtime.db, InstanceFilter(flow="toy", overdue=True), now, warnings=warnings
    )
    return [item["id"] for item in items]


def not_overdue_ids(stack: Stack, hours: float, warnings: frozenset[tuple[str, str]]) -> list[int]:
    now = stack.runtime.clock.now() + timedelta(hours=hours)
    items, _ = list_instances(
        stack.runtime.db, InstanceFilter(flow="toy", overdue=False), now, warnings=warnings
    )
    return [item["id"] for item in items]


def test_a_passed_warning_timer_is_not_overdue_a_passed_deadline_is(stack: Stack) -> None:
    instance_id = stack.start_toy("overdue-1")  # review_deadline: 2h
    assert stack.runtime.registry.warning_timers == {
        ("dual_notification", "claim_warning"),
        ("grid_check", "first_check_warning"),
        ("grid_check", "enforcement_warning"),
        ("grid_check", "case_warning"),
        ("joint_inspection", "completion_warning"),
        ("joint_inspection", "publication_warning"),
    }
    runs = stack.runtime.registry.warning_timers
    assert overdue_ids(stack, 1, runs) == [] and not_overdue_ids(stack, 1, runs) == [instance_id]
    assert overdue_ids(stack, 3, runs) == [instance_id] and not_overdue_ids(stack, 3, runs) == []
    # were review_deadline declared a warning, passing it would not make the case overdue
    as_warning = frozenset({("toy", "review_deadline")})
    assert overdue_ids(stack, 3, as_warning) == [] and not_overdue_ids(stack, 3, as_warning) == [instance_id]
    # the pair is (flow, timer): the same timer name in another flow changes nothing here
    elsewhere = frozenset({("dual_notification", "review_deadline"), ("toy", "other")})
    assert overdue_ids(stack, 3, elsewhere) == [instance_id]
