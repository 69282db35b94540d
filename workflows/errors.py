"""One error tree for the engine. Messages name the id, the field and the fix."""

from __future__ import annotations


class YunshangError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"
    http_status = 500


class BadInput(YunshangError):
    """The caller sent something the engine cannot accept; nothing was changed."""

    code = "bad_input"
    http_status = 422


class UnknownFlow(BadInput):
    code = "unknown_flow"

    def __init__(self, flow: str, known: list[str]) -> None:
        super().__init__(f"unknown flow {flow!r}; known flows: {', '.join(sorted(known)) or '(none)'}")
        self.flow = flow


class UnknownTrigger(BadInput):
    code = "unknown_trigger"

    def __init__(self, flow: str, trigger: str, known: list[str]) -> None:
        super().__init__(
            f"flow {flow!r} has no trigger {trigger!r}; its triggers are: {', '.join(sorted(known))}"
        )
        self.flow = flow
        self.trigger = trigger


class InvalidPayload(BadInput):
    code = "invalid_payload"

    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__(f"{where}: " + "; ".join(problems))
        self.problems = problems


class InvalidCommand(BadInput):
    """A command that can never be applied (built at the edge, or read from a message): a message
    carrying one is dead-lettered at once, since no retry can mend it."""

    code = "invalid_command"

    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__(f"{where}: " + "; ".join(problems))
        self.problems = problems

    @classmethod
    def no_target(cls, where: str) -> InvalidCommand:
        return cls(where, ["instance_id or business_key: give one, to name the instance the command is for"])


class NaiveDatetime(BadInput):
    code = "naive_datetime"

    def __init__(self, field: str) -> None:
        super().__init__(
            f"{field}: datetime has no timezone; send an aware time such as 2026-01-05T09:00:00+08:00"
        )
        self.field = field


class InstanceNotFound(YunshangError):
    code = "instance_not_found"
    http_status = 404


class Rejected(YunshangError):
    """The instance's flow refused the trigger in its current state (recorded as a rejected attempt)."""

    code = "rejected"
    http_status = 409

    def __init__(self, instance_id: int, trigger: str, reason: str) -> None:
        super().__init__(f"#{instance_id}: {trigger!r} was rejected: {reason}")
        self.instance_id = instance_id
        self.trigger = trigger
        self.reason = reason


class ClockNotSimulated(YunshangError):
    code = "clock_not_simulated"
    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            "the clock is the system clock and cannot be moved; "
            "start the engine with YUNSHANG_CLOCK=simulated to advance time"
        )


class DeadLetterNotFound(YunshangError):
    code = "dead_letter_not_found"
    http_status = 404


class BulkSelectionNotFound(YunshangError):
    code = "bulk_selection_not_found"
    http_status = 404


class BulkAlreadyApplied(YunshangError):
    """The bulk selection was applied already: nothing is done twice."""

    code = "bulk_already_applied"
    http_status = 409


class TimerConflict(YunshangError):
    """A suspend or resume the timer's status (or its instance's) does not allow; nothing was changed."""

    code = "timer_conflict"
    http_status = 409

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class FieldInvalid(BadInput):
    """Bad input in one named field (the API lists it in ``errors``)."""

    code = "bad_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
