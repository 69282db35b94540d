"""deadlines.yaml (timers per flow and state) and escalation.yaml (ladders over those timers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rules.schema.common import Code, Duration, Name, RuleModel, Target

TimersByState = dict[Name, dict[Name, Duration]]


class Deadlines(RuleModel):
    """``flows → flow → state → timer → duration``, each measured from entering the state.

    A timer ``claim_deadline`` fires the trigger ``claim_deadline_passed`` of its flow.
    """

    flows: dict[Name, TimersByState]

    def deadline(self, flow: str, state: str, timer: str) -> str | None:
        return self.flows.get(flow, {}).get(state, {}).get(timer)


class StepRef(RuleModel):
    """Go to ``step`` when the timer ``at`` (deadlines.yaml, the ladder's flow and state) passes."""

    step: Code
    at: Name


class LadderStep(RuleModel):
    code: Code
    name: str
    kind: Literal["warn", "overdue", "supervise"]
    target: Target
    next: StepRef | None = None
    """The deadline to the next step; leave it out and write ``end: true`` on the last step."""
    end: bool = False


class Ladder(RuleModel):
    code: Code
    name: str
    flow: Name
    state: Name
    """The ladder runs while a case stays in this state and stops when it leaves."""
    start: StepRef
    steps: list[LadderStep] = Field(default_factory=list)

    def step(self, code: str) -> LadderStep | None:
        return next((s for s in self.steps if s.code == code), None)


class ReturnRule(RuleModel):
    """How often a case may be returned (退单) before ``to`` makes a binding assignment (审定). The
    clock never restarts on a return: time counts from the first dispatch."""

    limit: int = Field(default=2, ge=1)
    to: Target


class Escalation(RuleModel):
    ladders: list[Ladder]
    returns: dict[Name, ReturnRule] = Field(default_factory=dict)
    """Per flow: the returns a case may take before the binding assignment."""
