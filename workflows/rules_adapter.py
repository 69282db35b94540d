"""The engine's view of the rules: deadlines looked up by flow, state and timer, and the rule set's
version (its content hash) recorded on every instance."""

from __future__ import annotations

from pathlib import Path

from rules import RuleSet, load_rules
from workflows.deadlines import MissingDeadline


class RuleDeadlines:
    """Deadlines from a validated rule set (``rules/deadlines.yaml``)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset

    @classmethod
    def load(cls, directory: Path) -> RuleDeadlines:
        """Load and validate the rule files; raises ``rules.RulesInvalid`` with the lint report."""
        return cls(load_rules(directory))

    @property
    def version(self) -> str | None:
        return self.ruleset.content_hash[:16] or None

    def deadline(self, flow: str, state: str, timer: str) -> str:
        text = self.ruleset.deadline(flow, state, timer)
        if text is None:
            raise MissingDeadline(
                f"no deadline rule for {flow}.{state}.{timer}: add `{timer}: <duration>` under "
                f"flows.{flow}.{state} in deadlines.yaml"
            )
        return text
