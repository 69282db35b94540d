"""The candidates of a plan as the database holds them: the eligible objects in USCC order (as their
hashed lines; the exclusion window of sampling.yaml decided in SQL) and the active officers of the
plan's departments in id order."""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text, and_, case, cast, or_, select
from sqlalchemy.orm import Session

from rules.schema.sampling import Recusal, Sampling
from workflows.flows.joint_inspection.directory_models import InspectionObject, InspectionOfficer
from workflows.flows.joint_inspection.draw import ObjectLines, Officer


class ObjectFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    types: list[str] = Field(default_factory=list, max_length=10)
    industries: list[str] = Field(default_factory=list, max_length=50)
    """GB/T 4754 code prefixes (定向 by industry)."""
    streets: list[str] = Field(default_factory=list, max_length=20)


def window_start(today: date, window: str) -> date:
    """The first day of an exclusion window (sampling.yaml ``12 months``, ``2 years``, ``365 natural
    days``) ending ``today``; a month back from the 31st lands on the month's last day."""
    amount, unit = window.split(" ", 1)
    n = int(amount)
    if unit.startswith("natural"):
        return today - timedelta(days=n)
    months = n * (12 if unit.startswith("year") else 1)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def eligible_objects(
    session: Session, spec: ObjectFilter, sampling: Sampling, now: datetime
) -> tuple[ObjectLines, list[str]]:
    """The plan's eligible objects in USCC order (as their hashed lines), and the USCCs the exclusion
    window leaves out."""
    exclusion, recusal = sampling.exclusion, sampling.recusal
    window = window_start(now.date(), exclusion.window)
    no_problem, only = sorted(exclusion.no_problem_results), exclusion.only_if_no_problem_found
    o = InspectionObject
    out = and_(o.last_inspected_at >= window, *(() if not only else (o.last_result.in_(no_problem),)))
    query = select(o.uscc, o.risk_class, case((out, 1), else_=0), cast(o.last_inspectors, Text)).order_by(
        o.uscc
    )
    if spec.types:
        query = query.where(o.type.in_(spec.types))
    if spec.streets:
        query = query.where(o.street.in_(spec.streets))
    if spec.industries:
        query = query.where(or_(*(o.industry.startswith(p, autoescape=True) for p in spec.industries)))
    kept, excluded = [], []
    previous = recusal.previous_rounds > 0
    rows = session.connection().execute(query.execution_options(yield_per=20_000))
    for uscc, risk_class, left_out, inspectors in rows:
        if left_out:
            excluded.append(uscc)
        elif inspectors and previous and inspectors not in ("[]", "null"):
            kept.append(f"{uscc}\t{risk_class}\t{';'.join(sorted(json.loads(inspectors)))}\n")
        else:
            kept.append(f"{uscc}\t{risk_class}\t\n")
    return ObjectLines(kept), excluded


def eligible_officers(session: Session, departments: list[str], recusal: Recusal) -> list[Officer]:
    rows = session.execute(
        select(InspectionOfficer)
        .where(InspectionOfficer.active.is_(True), InspectionOfficer.department.in_(departments))
        .order_by(InspectionOfficer.officer_id)
    ).scalars()
    return [
        Officer(o.officer_id, o.department, frozenset(o.conflicts or () if recusal.use_conflict_list else ()))
        for o in rows
    ]
