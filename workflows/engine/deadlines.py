"""Where timers get their deadlines: the rules in force, looked up by flow, state and timer name, and
the working calendar they are counted on.

``RulesInForce`` holds this process's rule set and is swapped whole on a reload (``install``), never
mutated: a transition reads ``current`` once, so it sees one rule set or the other — deadlines and
calendar together — never a mix. The engine, the deliveries and the flow plug-ins all read the same
holder, handed to each of them by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from rules import RuleSet
from workflows.errors import BadInput, YunshangError
from workflows.time.calendar import WorkCalendar


class MissingDeadline(YunshangError):
    code = "missing_deadline"


class RulesUnavailable(BadInput):
    """The engine runs on static deadlines (tests, benchmarks): there is no rule set to read."""

    code = "rules_unavailable"


class DeadlineSource(Protocol):
    @property
    def version(self) -> str | None: ...

    @property
    def ruleset(self) -> RuleSet | None:
        """The validated rule set behind the deadlines, if they come from rule files."""
        ...

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar the deadlines are counted on (the rules' ``calendar.yaml``)."""
        ...

    def deadline(self, flow: str, state: str, timer: str) -> str:
        """The duration text (``48h``, ``5 working days``) of a timer."""
        ...


class StaticDeadlines:
    """Deadlines from a mapping ``{"flow.state.timer": "48h"}`` (tests, benchmarks), on ``calendar``
    (default: the built-in tables)."""

    def __init__(
        self, table: Mapping[str, str], version: str | None = None, calendar: WorkCalendar | None = None
    ) -> None:
        self._table = dict(table)
        self._version = version
        self._calendar = calendar or WorkCalendar()

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def ruleset(self) -> RuleSet | None:
        return None

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def deadline(self, flow: str, state: str, timer: str) -> str:
        key = f"{flow}.{state}.{timer}"
        try:
            return self._table[key]
        except KeyError:
            raise MissingDeadline(f"no deadline rule for {key}; add it to the deadline rules") from None


class RulesInForce:
    """The rule set this process runs on; ``install`` swaps it whole (hot reload)."""

    def __init__(self, initial: DeadlineSource) -> None:
        self._current = initial

    @property
    def current(self) -> DeadlineSource:
        return self._current

    @property
    def version(self) -> str | None:
        return self._current.version

    def install(self, fresh: DeadlineSource) -> DeadlineSource:
        """Put ``fresh`` in force; returns the one it replaced."""
        before, self._current = self._current, fresh
        return before

    def ruleset(self, needed_for: str = "this") -> RuleSet:
        """The rule set in force; raises ``RulesUnavailable`` on static deadlines."""
        ruleset = self._current.ruleset
        if ruleset is None:
            raise RulesUnavailable(
                f"type: {needed_for} needs the rule files, and the engine runs without them "
                "(static deadlines)"
            )
        return ruleset
