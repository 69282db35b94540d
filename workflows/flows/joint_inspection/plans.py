"""The plans and draws of the joint inspection, as stored: a plan with its frozen candidate snapshot and
the commitment made with it; each draw with its receipt, and a void (with who and why) that alone lets a
plan be drawn again. Nothing is ever deleted: a voided draw stays on record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflows.store.models import Base, Id, Json, UtcDateTime


class InspectionPlan(Base):
    """A plan (抽查计划): what to draw, from which frozen snapshot, under which commitment."""

    __tablename__ = "inspection_plans"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(Json)
    """Departments and their items, the object filter, quotas, officers per department, groups."""
    snapshot: Mapped[dict[str, Any]] = mapped_column(Json)
    """The frozen candidates (objects in USCC order, officers in id order) and the excluded USCCs."""
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
