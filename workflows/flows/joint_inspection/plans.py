"""The plans and draws of the joint inspection, as stored: a plan with its frozen candidate snapshot and
the commitment made with it; each draw with its receipt, and a void (with who and why) that alone lets a
plan be drawn again. Nothing is ever deleted: a voided draw stays on record."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflows.flows.joint_inspection.draw import (
    Candidate,
    ObjectLines,
    Officer,
    Snapshot,
    object_chunks,
    officers_of_text,
)
from workflows.store.models import Base, Id, Json, UtcDateTime

#: between the objects', the officers' and the excluded USCCs' text in ``InspectionPlan.candidates``
_PART = "\x1e"


class InspectionPlan(Base):
    """A plan (抽查计划): what to draw, from which frozen snapshot, under which commitment."""

    __tablename__ = "inspection_plans"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(Json)
    """Departments and their items, the object filter, quotas, officers per department, groups."""
    snapshot: Mapped[dict[str, Any]] = mapped_column(Json)
    """The quotas and the counts of the frozen candidates (before migration 0009: the candidates too,
    as JSON lists)."""
    candidates: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The frozen candidates (``pack``): objects in USCC order, officers in id order, excluded USCCs."""
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[dict[str, Any]] = mapped_column(Json)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InspectionDraw(Base):
    """One draw of a plan: its receipt; ``voided_at`` set when an operator voided it."""

    __tablename__ = "inspection_draws"
    __table_args__ = (Index("ix_inspection_draws_plan", "plan_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("inspection_plans.id"))
    receipt: Mapped[dict[str, Any]] = mapped_column(Json)
    result_sha256: Mapped[str] = mapped_column(String(64))
    drawn_by: Mapped[str] = mapped_column(String(200))
    drawn_at: Mapped[datetime] = mapped_column(UtcDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    voided_by: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(Text)


def pack(snapshot: Snapshot, excluded: list[str]) -> bytes:
    """The frozen candidates as stored: the text their hash is computed over, then the excluded USCCs,
    zlib-compressed."""
    objects = snapshot.objects_text
    if objects is None:
        objects = "".join(object_chunks(snapshot.objects))
    parts = (objects, "".join(o.line() for o in snapshot.officers))
    return zlib.compress(_PART.join([*parts, "".join(f"{u}\n" for u in excluded)]).encode(), 1)


def frozen_candidates(plan: InspectionPlan) -> tuple[Snapshot, list[str]]:
    """The plan's snapshot and excluded USCCs as frozen (either stored form)."""
    if plan.candidates is None:
        return snapshot_of_json(plan.snapshot)
    objects, officers, excluded = zlib.decompress(plan.candidates).decode().split(_PART)
    snapshot = Snapshot(ObjectLines.of_text(objects), officers_of_text(officers), objects_text=objects)
    return snapshot, excluded.splitlines()


def snapshot_json(snapshot: Snapshot, excluded: list[str]) -> dict[str, Any]:
    """The candidates as an exported receipt carries them (JSON lists)."""
    return {
        "objects": [[o.uscc, o.risk_class, sorted(o.last_inspectors)] for o in snapshot.objects],
        "officers": [[o.officer_id, o.department, sorted(o.conflicts)] for o in snapshot.officers],
        "excluded": excluded,
    }


def snapshot_of_json(frozen: dict[str, Any]) -> tuple[Snapshot, list[str]]:
    objects = [Candidate(u, c, tuple(i)) for u, c, i in frozen["objects"]]
    officers = [Officer(i, d, frozenset(c)) for i, d, c in frozen["officers"]]
    return Snapshot(objects, officers), list(frozen["excluded"])
