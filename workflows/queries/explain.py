"""The dry run of events under a rule set (``yunshang rules explain``, the dashboard's rules screen).

Reading the JSON, picking each event's explainer (the flow plug-in that declares one for its type) and
running it on the rule set's calendar. Nothing is written: an explainer is a pure function of the rule
set, the event, the calendar and the instant its deadlines count from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from rules import RuleSet
from workflows.errors import BadInput
from workflows.intake.envelope import CloudEvent, field_errors
from workflows.plugins import Explained, Explainer
from workflows.time.calendar import WorkCalendar


class NotJson(BadInput):
    """The text is not JSON; ``line`` and ``column`` (1-based) say where the parser stopped."""

    code = "not_json"

    def __init__(self, source: str, line: int, column: int, reason: str) -> None:
        super().__init__(f"{source}:{line}:{column}: not JSON: {reason}")
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason


def read_json(text: str, source: str = "event") -> Any:
    """The JSON value of ``text``; raises ``NotJson`` naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotJson(source, exc.lineno, exc.colno, exc.msg) from None


def explainer_for(explainers: Mapping[str, Explainer], raw: Any) -> Explainer:
    """The explainer of the event's type; ``BadInput`` names what is wrong with the envelope, or the
    event types that can be explained."""
    try:
        envelope = CloudEvent.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc, "event."))
        raise BadInput(f"not a CloudEvent: {problems}") from None
    found = explainers.get(envelope.type)
    if found is None:
        known = " and ".join(sorted(explainers)) or "no event types (no plug-in explains any)"
        raise BadInput(f"explain reads {known} events; this one is {envelope.type!r}")
    return found


def explain(
    explainers: Mapping[str, Explainer], ruleset: RuleSet, raw: Any, start: datetime
) -> list[Explained]:
    """The dry run of one event, or of each of a list of events, with deadlines counted from ``start``
    (when the event would be applied: a deadline counts from entering the state, never from the
    event's own time). Raises ``BadInput``."""
    calendar = WorkCalendar.from_rules(ruleset.calendar)
    events = raw if isinstance(raw, list) else [raw]
    return [explainer_for(explainers, item)(ruleset, item, calendar, start) for item in events]
