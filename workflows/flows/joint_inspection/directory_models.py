"""The directories of the joint inspection (双随机联合抽查) in the database: the inspection objects
(检查对象名录库), the enforcement officers (执法检查人员名录库), and an audit row per import.

Each import replaces one directory whole (``directory.replace_objects`` / ``replace_officers``); the
objects are kept current between imports from ``license.issued`` (``directory.upsert_from_license``).
A draw reads one risk class's objects in USCC order through ``ix_inspection_objects_risk_class_uscc``.
Codes are those of the rules: a street of ``organisation.yaml``, a risk class of ``sampling.yaml``, a
department of ``organisation.yaml``; the last inspectors are officer ids, not foreign keys (an officer
may leave the officers directory while the objects remember them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.store.models import Base, Id, UtcDateTime

#: column widths, checked by the parser so that SQLite and PostgreSQL refuse the same files
USCC_LENGTH = 18
NAME_LENGTH = 200
CODE_LENGTH = 32
INDUSTRY_LENGTH = 8
#: a street or grid as a license may carry it (a file's are codes of at most CODE_LENGTH)
PLACE_LENGTH = 200
OFFICER_ID_LENGTH = 64
OFFICER_NAME_LENGTH = 100
CERTIFICATE_LENGTH = 32
FIELD_LENGTH = 50

#: the kinds of market entity (市场主体类型), by code
OBJECT_TYPES = {"enterprise": "企业", "individual": "个体工商户", "cooperative": "农民专业合作社"}

#: the results of an inspection are sampling.yaml's ``results`` (rule data, one list)


class InspectionObject(Base):
    """One market entity that may be drawn for inspection (检查对象)."""

    __tablename__ = "inspection_objects"
    __table_args__ = (Index("ix_inspection_objects_risk_class_uscc", "risk_class", "uscc"),)

    uscc: Mapped[str] = mapped_column(String(USCC_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(16))
    #: GB/T 4754 industry code (``F5212``), None when the registry gave none
    industry: Mapped[str | None] = mapped_column(String(INDUSTRY_LENGTH))
    street: Mapped[str] = mapped_column(String(PLACE_LENGTH))
    grid: Mapped[str] = mapped_column(String(PLACE_LENGTH))
    risk_class: Mapped[str] = mapped_column(String(CODE_LENGTH))
    risk_as_of: Mapped[date] = mapped_column(Date)
    last_inspected_at: Mapped[date | None] = mapped_column(Date)
    last_result: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    #: officer ids of the last inspection (recusal: 回避), ``[]`` when none
    last_inspectors: Mapped[list[Any]] = mapped_column(JSON)


class InspectionOfficer(Base):
    """One enforcement officer (执法检查人员) of a department, who may be drawn into a group."""

    __tablename__ = "inspection_officers"
    __table_args__ = (
        UniqueConstraint("certificate_no", name="uq_inspection_officers_certificate_no"),
        Index("ix_inspection_officers_department_officer_id", "department", "officer_id"),
    )

    officer_id: Mapped[str] = mapped_column(String(OFFICER_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(OFFICER_NAME_LENGTH))
    department: Mapped[str] = mapped_column(String(CODE_LENGTH))
    #: 执法证号, the number of their law-enforcement certificate
    certificate_no: Mapped[str] = mapped_column(String(CERTIFICATE_LENGTH))
    #: the fields they may inspect (执法领域), e.g. ``["食品经营", "广告"]``
    fields: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    #: USCCs they must never inspect (conflict of interest: 回避)
    conflicts: Mapped[list[Any]] = mapped_column(JSON)


class InspectionDirectoryImport(Base):
    """The audit of one import: which directory (``objects`` or ``officers``), which file (name and
    SHA-256), when, how many rows it held and how many it replaced."""

    __tablename__ = "inspection_directory_imports"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    replaced_rows: Mapped[int] = mapped_column(Integer)
