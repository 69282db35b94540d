"""Routes of the dual-notification (双告知) events: licenses and scope changes are planned against the
rules and handed to the enterprise's ``license_registration`` instance; department events go to the
notice they name. An event about an enterprise or notice the engine has never seen is refused (422)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from state_machines import license_registration
from state_machines.dual_notification import FLOW_NAME, T, base_key, notice_key
from workflows.engine.commands import StartSpec
from workflows.engine.core import Engine
from workflows.errors import BadInput
from workflows.flows.dual_notification.events import (
    LicenseIssued,
    NoticeClaimed,
    NoticeFeedback,
    NoticeRef,
    NoticeReturned,
    PermitIssued,
    ScopeChanged,
)
from workflows.flows.dual_notification.planning import (
    Enterprise,
    permit_working_days,
    plan_license,
    plan_manual_route,
    plan_scope_change,
)
from workflows.plugins.routes import Envelope, EventRoute, RouteResult, hold_instances
from workflows.store.models import Instance

REGISTRATION = license_registration.FLOW_NAME
#: ``session.info`` key of the notices a batch's events name by id (``prefetch``)
_NOTICES = "dual_notification.notices"


def _ruleset(engine: Engine) -> RuleSet:
    return engine.rules.ruleset("dual-notification events")


def _license_issued(session: Session, engine: Engine, event: Envelope, data: LicenseIssued) -> RouteResult:
    plan = plan_license(_ruleset(engine), data)
    command = engine.command(
        REGISTRATION,
        license_registration.T.register,
        cause=event.cause,
        dedupe_key=event.dedupe_key,
        payload=plan.payload(),
        business_key=data.uscc,
        start=StartSpec(subject=data.uscc, context=plan.enterprise.context()),
    )
    engine.enqueue(session, command)
    return RouteResult(plan.status)


def _scope_changed(session: Session, engine: Engine, event: Envelope, data: ScopeChanged) -> RouteResult:
    registration = session.execute(
        select(Instance).where(Instance.flow == REGISTRATION, Instance.business_key == data.uscc)
    ).scalar_one_or_none()
    if registration is None:
        raise BadInput(f"data.uscc: no license.issued was received for {data.uscc}; send it first")
    open_keys, taken = _notice_keys(session, data.uscc)
    enterprise = Enterprise.from_context(registration.context)
    plan = plan_scope_change(_ruleset(engine), enterprise, data, open_keys, taken)
    engine.enqueue(
        session,
        engine.command(
            REGISTRATION,
            license_registration.T.rescope,
            cause=event.cause,
            dedupe_key=event.dedupe_key,
            payload=plan.payload(),
            instance_id=registration.id,
        ),
    )
    return RouteResult(plan.status, [registration.id])


def manual_route(
    session: Session, engine: Engine, instance_id: int, permit_items: list[str]
) -> dict[str, Any]:
    """The ``route`` payload of an operator's routing of a ``routing_failed`` registration: a notice per
    department of each permit item chosen (none chosen: no permit needed). Raises BadInput."""
    registration = session.get(Instance, instance_id)
    if registration is None or registration.flow != REGISTRATION:
        raise BadInput(f"instance_id: #{instance_id} is not a license registration; only those are routed")
    open_keys, taken = _notice_keys(session, str(registration.subject))
    enterprise = Enterprise.from_context(registration.context)
    try:
        plan = plan_manual_route(_ruleset(engine), enterprise, permit_items, open_keys, taken)
    except ValueError as exc:
        raise BadInput(f"permit_items: {exc}") from None
    return plan.payload()


def _notice_keys(session: Session, uscc: str) -> tuple[list[str], set[str]]:
    """The business keys of an enterprise's open notices, and of all its notices."""
    rows = session.execute(
        select(Instance.business_key, Instance.closed_at).where(
            Instance.flow == FLOW_NAME, Instance.subject == uscc
        )
    ).all()
    return [key for key, closed in rows if closed is None], {key for key, _ in rows}


def find_notice(session: Session, ref: NoticeRef | PermitIssued) -> Instance:
    """The notice an event names: by id, by business key, or (after a re-route) by its facts."""
    if isinstance(ref, NoticeRef) and ref.notice is not None:
        found = session.get(Instance, ref.notice)
        if found is None or found.flow != FLOW_NAME:
            raise BadInput(f"data.notice: no dual-notification notice #{ref.notice}")
        return found
    uscc, permit, department = (
        (ref.uscc, ref.permit_item, ref.department)
        if isinstance(ref, PermitIssued)
        else (ref.uscc or "", ref.permit_item or "", ref.department or "")
    )
    # open before closed, newest first: an item named again after its notice closed has a new notice
    candidates = sorted(
        session.execute(
            select(Instance).where(Instance.flow == FLOW_NAME, Instance.subject == uscc)
        ).scalars(),
        key=lambda c: (c.closed_at is not None, -c.id),
    )
    wanted = notice_key(uscc, permit, department)
    for candidate in candidates:
        if base_key(candidate.business_key) == wanted:
            return candidate
    for candidate in candidates:  # re-routed to another department: found by its facts
        if candidate.context.get("permit") == permit and candidate.context.get("department") == department:
            return candidate
    raise BadInput(f"data.uscc: no notice of {uscc} for permit item {permit!r} and department {department!r}")


def _to_notice(
    session: Session,
    engine: Engine,
    event: Envelope,
    ref: NoticeRef | PermitIssued,
    trigger: str,
    payload: dict[str, Any],
    notice: Instance | None = None,
) -> RouteResult:
    notice = notice if notice is not None else find_notice(session, ref)
    payload = {**payload, "department": ref.department or notice.context.get("department")}
    engine.enqueue(
        session,
        engine.command(
            FLOW_NAME,
            trigger,
            cause=event.cause,
            dedupe_key=event.dedupe_key,
            payload=payload,
            instance_id=notice.id,
        ),
    )
    return RouteResult("queued", [notice.id])


def _claimed(session: Session, engine: Engine, event: Envelope, data: NoticeClaimed) -> RouteResult:
    return _to_notice(
        session,
        engine,
        event,
        data,
        T.claim,
        {"officer": data.officer, "claimed_at": data.claimed_at.isoformat()},
    )


def _returned(session: Session, engine: Engine, event: Envelope, data: NoticeReturned) -> RouteResult:
    return _to_notice(
        session, engine, event, data, T.return_notice, {"reason": data.reason, "comment": data.comment}
    )


def _feedback(session: Session, engine: Engine, event: Envelope, data: NoticeFeedback) -> RouteResult:
    return _to_notice(
        session, engine, event, data, T.feedback, {"status": data.status, "comment": data.comment}
    )


def _permit(session: Session, engine: Engine, event: Envelope, data: PermitIssued) -> RouteResult:
    """The notice records the working days from the license to the permit (Asia/Shanghai dates,
    holidays skipped, make-up days counted), computed here where the calendar is."""
    notice = find_notice(session, data)
    payload: dict[str, Any] = {"permit_no": data.permit_no, "issued_at": data.issued_at.isoformat()}
    licensed = notice.context.get("license_issued_at")
    if licensed:
        payload["working_days"] = permit_working_days(
            engine.calendar, datetime.fromisoformat(str(licensed)), data.issued_at
        )
    return _to_notice(session, engine, event, data, T.permit_issue, payload, notice)


EVENTS = (
    EventRoute("license.issued", LicenseIssued, _license_issued),
    EventRoute("scope.changed", ScopeChanged, _scope_changed),
    EventRoute("notice.claimed", NoticeClaimed, _claimed),
    EventRoute("notice.returned", NoticeReturned, _returned),
    EventRoute("notice.feedback", NoticeFeedback, _feedback),
    EventRoute("permit.issued", PermitIssued, _permit),
)


def prefetch(session: Session, events: Sequence[tuple[str, Any]]) -> None:
    """The notices a batch's department events name by id, in one query: ``find_notice`` then finds
    each in the identity map instead of asking for it (100 claims: 1 query, not 100)."""
    named = (data.notice for _, data in events if isinstance(data, NoticeRef) and data.notice is not None)
    hold_instances(session, named, _NOTICES)
