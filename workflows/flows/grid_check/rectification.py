"""A rectification period (责令限期改正) in the street's enforcement: the event types
``street.rectification.ordered`` and ``street.rectification.ended`` and their routes.

While the street office holds an unlicensed operator (``street_enforcement``) it may order the operator
to rectify within a period — given as a duration (``period``: ``15 natural days``, ``10 working days``,
counted from ``ordered_at`` on the calendar of the rules in force) or as an instant (``until``). The
order suspends the street's enforcement timers (deadline, warning, supervision); the end resumes them
with the budget they had left (``state_machines/grid_rectification.py``; the engine keeps the ledger).

Refused with 422 naming the field, nothing kept, as the other grid events are: an unknown task
(``data.task``), a task not in ``street_enforcement`` (``data.task``), another street (``data.street``),
an order while one is open and an end with none open (``data.task``), both or neither of ``period``
and ``until`` (``data.period``), a period that is not a duration (``data.period``), an ``until`` not
after ``ordered_at`` (``data.until``), an end before the order (``data.ended_at``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, field_validator
from sqlalchemy.orm import Session

from state_machines.grid_check import FINAL, FLOW_NAME, S, T
from state_machines.grid_rectification import ORDER, is_open
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.plugins.events import EventData
from workflows.plugins.routes import Envelope, EventRoute, RouteResult
from workflows.store.models import Instance
from workflows.time.calendar import Duration, DurationError

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
Comment = Annotated[str, Field(max_length=2000)]


class RectificationOrdered(EventData):
    """`street.rectification.ordered`: the street orders the unlicensed operator to rectify within a
    period (责令限期改正); the street's enforcement clock stops until the period ends."""

    task: int = Field(ge=1)
    street: Code
    period: str | None = Field(default=None, max_length=200)
    """The period, as a duration: ``15 natural days``, ``10 working days`` (from ``ordered_at``)."""
    until: AwareDatetime | None = None
    """Or the instant the period ends."""
    comment: Comment = ""
    ordered_at: AwareDatetime

    @field_validator("period")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Duration.parse(value)
            except DurationError as exc:
                raise ValueError(str(exc)) from exc
        return value


class RectificationEnded(EventData):
    """`street.rectification.ended`: the period is over, rectified or not; the clock runs on."""

    task: int = Field(ge=1)
    street: Code
    rectified: bool
    comment: Comment = ""
    ended_at: AwareDatetime


def _task(session: Session, task_id: int, street: str, what: str) -> Instance:
    """The street-enforcement task an event names, held by ``street``; BadInput naming the field."""
    task = session.get(Instance, task_id)
    if task is None or task.flow != FLOW_NAME:
        raise BadInput(f"data.task: no grid check task #{task_id}")
    if task.state != S.street_enforcement:
        closed = "closed" if task.state in FINAL else "in state"
        raise BadInput(
            f"data.task: task #{task.id} is {closed} {task.state}; {what} is for a task in "
            f"{S.street_enforcement}"
        )
    if street != task.context.get("street"):
        raise BadInput(
            f"data.street: task #{task.id} is with street {task.context.get('street')}, not {street}"
        )
    return task


def _to_task(
    session: Session, engine: Engine, event: Envelope, task: Instance, trigger: str, payload: dict[str, Any]
) -> RouteResult:
    command = engine.command(
        FLOW_NAME,
        trigger,
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload=payload,
        instance_id=task.id,
    )
    engine.enqueue(session, command)
    return RouteResult("queued", [task.id])


def _ordered(session: Session, engine: Engine, event: Envelope, data: RectificationOrdered) -> RouteResult:
    task = _task(session, data.task, data.street, "a rectification order")
    if is_open(task.context):
        raise BadInput(
            f"data.task: task #{task.id}'s operator was ordered to rectify already "
            f"(until {task.context[ORDER]['until']}); "
            "end that period with street.rectification.ended first"
        )
    if (data.period is None) == (data.until is None):
        raise BadInput("data.period: give the period (e.g. 15 natural days) or its end (until), one of them")
    if data.period is not None:
        until: datetime = engine.calendar.add(data.ordered_at, Duration.parse(data.period)).due_at
    else:
        assert data.until is not None
        until = data.until
        if until <= data.ordered_at:
            raise BadInput(
                f"data.until: the period ends at {until.isoformat()}, not after the order "
                f"({data.ordered_at.isoformat()})"
            )
    payload = {
        "street": data.street,
        "period": data.period,
        "until": until.isoformat(),
        "comment": data.comment,
        "ordered_at": data.ordered_at.isoformat(),
    }
    return _to_task(session, engine, event, task, T.order_rectification, payload)


def _ended(session: Session, engine: Engine, event: Envelope, data: RectificationEnded) -> RouteResult:
    task = _task(session, data.task, data.street, "the end of a rectification period")
    if not is_open(task.context):
        raise BadInput(
            f"data.task: task #{task.id} has no rectification order open "
            "(street.rectification.ordered): there is no period to end"
        )
    ordered_at = datetime.fromisoformat(str(task.context[ORDER]["ordered_at"]))
    if data.ended_at < ordered_at:
        raise BadInput(
            f"data.ended_at: {data.ended_at.isoformat()} is before the order ({ordered_at.isoformat()})"
        )
    payload = data.model_dump(mode="json", exclude={"task"})
    return _to_task(session, engine, event, task, T.end_rectification, payload)


EVENTS = (
    EventRoute("street.rectification.ordered", RectificationOrdered, _ordered),
    EventRoute("street.rectification.ended", RectificationEnded, _ended),
)
