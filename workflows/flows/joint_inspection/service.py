"""Plans and draws in the database: freeze a plan's candidate snapshot with its commitment, draw it once
(a re-draw only after a void), start one inspection per drawn object, verify a stored or exported draw.

Commit-then-reveal: ``create_plan`` freezes the eligible objects (in USCC order; those inspected within
the exclusion window with no problem found are left out and listed) and the active officers of the
plan's departments (in id order) and stores their hash with the commitment, before anyone can know the
seed; ``draw_plan`` takes the revealed value, checks it against the commitment, draws, stores the
receipt and starts the inspections, all in one transaction. ``replace`` swaps a drawn officer for one
drawn from the same stream, recorded in the receipt.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from state_machines.joint_inspection import FLOW_NAME, S
from workflows.api.models import Body
from workflows.engine.commands import Cause, StartSpec
from workflows.engine.core import Engine
from workflows.errors import BadInput, InstanceNotFound, YunshangError
from workflows.flows.joint_inspection.candidates import ObjectFilter, eligible_objects, eligible_officers
from workflows.flows.joint_inspection.directory_models import InspectionObject
from workflows.flows.joint_inspection.draw import (
    DrawPlan,
    Snapshot,
    check_feasible,
)
from workflows.flows.joint_inspection.plans import (
    InspectionDraw,
    InspectionPlan,
    frozen_candidates,
    pack,
    snapshot_json,
)
from workflows.flows.joint_inspection.receipt import CommitKind, build_receipt, verify
from workflows.flows.joint_inspection.replacement import replace_officer
from workflows.store.models import Instance

_Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


class AlreadyDrawn(YunshangError):
    code = "already_drawn"
    http_status = 409


class Commitment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: CommitKind
    value_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """For ``committed_secret``: the SHA-256 (hex) of the secret revealed at the draw."""


class PlanBody(Body):
    """A joint inspection plan (抽查计划)."""

    id: str = _Code
    name: str = Field(default="", max_length=200)
    """The plan's title as published (抽查计划名称); the id when empty."""
    departments: dict[str, list[str]] = Field(min_length=1, max_length=17)
    """Department code → the inspection items (检查事项) it checks."""
    filter: ObjectFilter = Field(default_factory=ObjectFilter)
    quotas: dict[str, int] | None = None
    """Objects to draw per risk class; default: each class's ratio (sampling.yaml) of its candidates."""
    per_department: int = Field(default=2, ge=1, le=10)
    groups: int = Field(ge=1, le=200)
    commitment: Commitment
    inspection_days: int = Field(default=15, ge=1, le=90)


def _quotas(spec: PlanBody, snapshot: Snapshot, ruleset: RuleSet) -> dict[str, int]:
    classes = {c.code: c for c in ruleset.sampling.risk_classes}
    if spec.quotas is not None:
        unknown = sorted(set(spec.quotas) - set(classes))
        if unknown:
            raise BadInput(
                f"quotas: unknown risk class {', '.join(unknown)}; sampling.yaml has {', '.join(classes)}"
            )
        return dict(spec.quotas)
    strata = snapshot.by_class()
    # each class's ratio of its candidates, rounded half up (国市监信发〔2022〕6号 ratios)
    return {
        code: int((len(strata.get(code, [])) * c.share).to_integral_value(rounding=ROUND_HALF_UP))
        for code, c in classes.items()
    }


def draw_plan_of(spec: PlanBody, quotas: dict[str, int]) -> DrawPlan:
    return DrawPlan(spec.id, tuple(sorted(spec.departments)), quotas, spec.per_department, spec.groups)


def create_plan(session: Session, spec: PlanBody, ruleset: RuleSet, now: datetime, by: str) -> InspectionPlan:
    """Freeze the plan's snapshot and commitment; refuses (422) an unknown department, an infeasible
    plan or a commitment without its hash, and (409) a plan id taken."""
    known = {d.code for d in ruleset.organisation.departments}
    for department in sorted(spec.departments):
        if department not in known:
            raise BadInput(
                f"departments.{department}: unknown department; organisation.yaml has no {department!r}"
            )
    if spec.per_department < ruleset.sampling.min_officers_per_department:
        minimum = ruleset.sampling.min_officers_per_department
        raise BadInput(f"per_department: {spec.per_department}; sampling.yaml asks for at least {minimum}")
    if spec.commitment.kind == "committed_secret" and not spec.commitment.value_sha256:
        raise BadInput(
            "commitment.value_sha256: a committed secret gives its SHA-256 now, the secret at the draw"
        )
    if session.get(InspectionPlan, spec.id) is not None:
        raise AlreadyDrawn(f"id: a plan {spec.id!r} exists; plans are never replaced")
    objects, excluded = eligible_objects(session, spec.filter, ruleset.sampling, now)
    officers = eligible_officers(session, sorted(spec.departments), ruleset.sampling.recusal)
    snapshot = Snapshot(objects, officers)
    quotas = _quotas(spec, snapshot, ruleset)
    check_feasible(draw_plan_of(spec, quotas), snapshot)
    frozen = {
        "quotas": quotas,
        "counts": {"objects": len(objects), "officers": len(snapshot.officers), "excluded": len(excluded)},
    }
    commitment = {"kind": spec.commitment.kind, "value_sha256": spec.commitment.value_sha256}
    plan = InspectionPlan(
        id=spec.id,
        spec=spec.model_dump(mode="json"),
        snapshot=frozen,
        candidates=pack(snapshot, excluded),
        snapshot_hash=snapshot.hash,
        commitment=commitment,
        created_by=by,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    return plan


def draw_plan(
    session: Session, engine: Engine, plan_id: str, revealed: str, now: datetime, by: str
) -> InspectionDraw:
    """Draw the plan with the revealed value and start its inspections; 409 when an unvoided draw exists."""
    plan = session.get(InspectionPlan, plan_id)
    if plan is None:
        raise InstanceNotFound(f"no inspection plan {plan_id!r}")
    earlier = session.execute(
        select(InspectionDraw).where(InspectionDraw.plan_id == plan_id, InspectionDraw.voided_at.is_(None))
    ).scalar_one_or_none()
    if earlier is not None:
        raise AlreadyDrawn(
            f"plan {plan_id!r} was drawn as draw #{earlier.id}; a new draw needs it voided first "
            f"(POST /draws/{earlier.id}/void with a reason)"
        )
    spec = PlanBody.model_validate(plan.spec)
    snapshot, excluded = frozen_candidates(plan)
    receipt = build_receipt(
        draw_plan_of(spec, plan.snapshot["quotas"]), snapshot, plan.commitment, revealed, excluded
    )
    draw = InspectionDraw(
        plan_id=plan_id, receipt=receipt, result_sha256=receipt["result_sha256"], drawn_by=by, drawn_at=now
    )
    session.add(draw)
    session.flush()
    _start_inspections(session, engine, plan_id, draw.id, receipt, snapshot, by)
    return draw


def _start_inspections(
    session: Session,
    engine: Engine,
    plan_id: str,
    draw_id: int,
    receipt: dict[str, Any],
    snapshot: Snapshot,
    by: str,
) -> None:
    department_of = {o.officer_id: o.department for o in snapshot.officers}
    groups = receipt["result"]["groups"]
    drawn_usccs = [o["uscc"] for o in receipt["result"]["objects"]]
    names = {
        uscc: name
        for uscc, name in session.execute(
            select(InspectionObject.uscc, InspectionObject.name).where(InspectionObject.uscc.in_(drawn_usccs))
        )
    }
    commands = []
    for drawn in receipt["result"]["objects"]:
        members: dict[str, list[str]] = {}
        for officer in groups[drawn["group"]]:
            members.setdefault(department_of[officer], []).append(officer)
        payload = {
            "plan": plan_id,
            "draw": draw_id,
            "uscc": drawn["uscc"],
            "name": names.get(drawn["uscc"], ""),
            "risk_class": drawn["risk_class"],
            "group": drawn["group"],
            "officers": members,
        }
        commands.append(
            engine.command(
                FLOW_NAME,
                "dispatch",
                cause=Cause(kind="operator", id=f"draw#{draw_id}", operator=by),
                dedupe_key=f"draw:{draw_id}",
                payload=payload,
                business_key=f"{plan_id}:{draw_id}:{drawn['uscc']}",
                start=StartSpec(subject=drawn["uscc"]),
            )
        )
    engine.enqueue_many(session, commands, 50)


def replace(
    session: Session, engine: Engine, draw_id: int, officer: str, reason: str, by: str, now: datetime
) -> dict[str, Any]:
    """Replace a drawn officer by one drawn from the same stream (``replacement``), record it in the
    receipt and hand the group's open inspections to the replacement. 409 for a voided draw or one
    still being dispatched; 422 when nobody is left to draw."""
    draw = session.get(InspectionDraw, draw_id)
    if draw is None:
        raise InstanceNotFound(f"no draw #{draw_id}")
    if draw.voided_at is not None:
        raise AlreadyDrawn(f"draw #{draw_id} was voided; its officers are not replaced")
    inspections = (
        session.execute(
            select(Instance).where(
                Instance.flow == FLOW_NAME, Instance.business_key.startswith(f"{draw.plan_id}:{draw.id}:")
            )
        )
        .scalars()
        .all()
    )
    if any(i.state == S.created for i in inspections):
        raise AlreadyDrawn(f"draw #{draw_id} is still being dispatched; replace its officer once it is")
    plan = session.get(InspectionPlan, draw.plan_id)
    assert plan is not None
    snapshot, _ = frozen_candidates(plan)
    receipt = dict(draw.receipt)
    chosen = replace_officer(receipt, snapshot, bytes.fromhex(receipt["seed"]), officer)
    entry = {**chosen.as_json(), "reason": reason, "by": by, "at": now.isoformat()}
    done = [*receipt.get("replacements", []), entry]
    draw.receipt = {**receipt, "replacements": done}
    handed = [
        i.id
        for i in inspections
        if i.state == S.inspecting
        and i.context.get("group") == chosen.group
        and chosen.department not in i.context.get("results", {})
    ]
    cause = Cause(kind="operator", id=f"replace#{draw_id}.{len(done)}", operator=by, reason=reason)
    payload = {
        "department": chosen.department,
        "officer": chosen.officer,
        "replacement": chosen.replacement,
        "reason": reason,
    }
    engine.enqueue_many(
        session,
        [
            engine.command(
                FLOW_NAME,
                "replace_officer",
                cause=cause,
                dedupe_key=f"replace:{draw_id}:{len(done)}",
                payload=payload,
                instance_id=i,
            )
            for i in handed
        ],
        50,
    )
    return {"draw": draw_id, **entry, "inspections": handed}


def verify_draw(session: Session, draw_id: int) -> dict[str, Any]:
    draw = session.get(InspectionDraw, draw_id)
    if draw is None:
        raise InstanceNotFound(f"no draw #{draw_id}")
    plan = session.get(InspectionPlan, draw.plan_id)
    assert plan is not None
    snapshot, excluded = frozen_candidates(plan)
    differs = verify(draw.receipt, snapshot, excluded)
    return {"draw": draw_id, "plan": draw.plan_id, "ok": not differs, "differences": differs}


def export(session: Session, draw_id: int) -> dict[str, Any]:
    """The receipt with the frozen candidates: everything ``yunshang draw verify FILE`` needs."""
    draw = session.get(InspectionDraw, draw_id)
    if draw is None:
        raise InstanceNotFound(f"no draw #{draw_id}")
    plan = session.get(InspectionPlan, draw.plan_id)
    assert plan is not None
    voided = (
        {"at": draw.voided_at.isoformat(), "by": draw.voided_by, "reason": draw.void_reason}
        if draw.voided_at
        else None
    )
    snapshot, excluded = frozen_candidates(plan)
    candidates = {**snapshot_json(snapshot, excluded), "quotas": plan.snapshot["quotas"]}
    return {**draw.receipt, "draw": draw.id, "voided": voided, "candidates": candidates}


def void(
    session: Session, engine: Engine, draw_id: int, reason: str, by: str, now: datetime
) -> InspectionDraw:
    """Void a draw (it stays on record) and cancel its open inspections; the plan may then be drawn
    again."""
    draw = session.get(InspectionDraw, draw_id)
    if draw is None:
        raise InstanceNotFound(f"no draw #{draw_id}")
    if draw.voided_at is not None:
        raise AlreadyDrawn(f"draw #{draw_id} was voided already by {draw.voided_by}: {draw.void_reason}")
    draw.voided_at, draw.voided_by, draw.void_reason = now, by, reason
    prefix = f"{draw.plan_id}:{draw.id}:"
    open_ids = session.execute(
        select(Instance.id).where(
            Instance.flow == FLOW_NAME, Instance.business_key.startswith(prefix), Instance.closed_at.is_(None)
        )
    ).scalars()
    cause = Cause(kind="operator", id=f"void#{draw_id}", operator=by, reason=reason)
    commands = [
        engine.command(
            FLOW_NAME,
            "cancel",
            cause=cause,
            dedupe_key=f"void:{draw_id}",
            payload={"reason": reason},
            instance_id=i,
        )
        for i in open_ids
    ]
    engine.enqueue_many(session, commands, 50)
    return draw
