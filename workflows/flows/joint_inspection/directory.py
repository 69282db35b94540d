"""The joint inspection's directories: replacing them from checked files, keeping the objects current
from licenses, and what they hold.

    objects = parse_objects(Path("objects.csv"), {"A", "B", "C", "D"}, {"ZHONGHAN", ...}, ["no_problem", ...])
    with db.transaction() as session:
        report = replace_objects(session, objects, "objects.csv", at=clock.now())
        upsert_from_license(session, license_data, default_risk_class(sampling), clock.today())

An import replaces its whole table in a savepoint of the caller's transaction (bulk statements: the
PostgreSQL statements send the rows as JSON arrays, SQLite runs ``executemany``), or changes nothing.
On PostgreSQL imports of one directory wait for each other, and a license's upsert waits for an import
running (then lands in the new directory). What the draw reads is ``directory_read``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Boolean, Table, bindparam, case, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rules.schema import Sampling
from workflows.flows.joint_inspection.directory_models import (
    InspectionDirectoryImport,
    InspectionObject,
    InspectionOfficer,
)
from workflows.flows.joint_inspection.directory_parse import ObjectsDirectory, OfficersDirectory
from workflows.store.dialect import Statements
from workflows.store.models import table
from workflows.store.postgres import Postgres
from workflows.store.sqlite import Sqlite
from workflows.time.calendar import SHANGHAI
from workflows.upstream.registration import LicenseIssued

Kind = Literal["objects", "officers"]
OBJECTS, OFFICERS = table(InspectionObject), table(InspectionOfficer)
#: rows per bulk statement (a 75,000-row import is a few of them)
CHUNK = 10_000
#: a USCC's second character, for one registered by market supervision (first character 9)
_TYPES = {"1": "enterprise", "2": "individual", "3": "cooperative"}


@dataclass(frozen=True)
class ImportReport:
    """One import: the file, how many rows it put in and how many it replaced, and the directory now:
    objects per risk class, or officers per department (``active``: the active ones)."""

    import_id: int
    kind: Kind
    source: str
    sha256: str
    rows: int
    replaced: int
    counts: dict[str, int]
    active: dict[str, int] = field(default_factory=dict)


def replace_objects(
    session: Session, directory: ObjectsDirectory, source: str, *, at: datetime
) -> ImportReport:
    """Replace every inspection object by ``directory`` inside the caller's transaction (a savepoint:
    on any error nothing of it stays) and record the import at ``at``."""
    rows = [entry.values() for entry in directory.objects]
    import_id, replaced = _replace(session, OBJECTS, rows, "objects", source, directory.sha256, at)
    return ImportReport(
        import_id, "objects", source, directory.sha256, len(rows), replaced, object_counts(session)
    )


def replace_officers(
    session: Session, directory: OfficersDirectory, source: str, *, at: datetime
) -> ImportReport:
    """Replace every officer by ``directory`` inside the caller's transaction (a savepoint: on any
    error nothing of it stays) and record the import at ``at``."""
    rows = [entry.values() for entry in directory.officers]
    import_id, replaced = _replace(session, OFFICERS, rows, "officers", source, directory.sha256, at)
    counts = officer_counts(session)
    return ImportReport(
        import_id,
        "officers",
        source,
        directory.sha256,
        len(rows),
        replaced,
        {department: total for department, (total, _) in counts.items()},
        {department: active for department, (_, active) in counts.items()},
    )


def _replace(
    session: Session,
    target: Table,
    rows: list[dict[str, Any]],
    kind: Kind,
    source: str,
    sha256: str,
    at: datetime,
) -> tuple[int, int]:
    """The import's id and how many rows it replaced."""
    with session.begin_nested():
        if _dialect(session) == "postgresql":
            # one importer at a time, and no upsert beside it; readers see the old rows until commit
            session.connection().exec_driver_sql(f"LOCK TABLE {target.name} IN SHARE ROW EXCLUSIVE MODE")
        replaced = session.execute(select(func.count()).select_from(target)).scalar_one()
        session.execute(delete(target))
        statements = _statements(session)
        for start in range(0, len(rows), CHUNK):
            statements.insert_rows(session.connection(), target, rows[start : start + CHUNK])
        audit = InspectionDirectoryImport(
            kind=kind, imported_at=at, source=source, sha256=sha256, rows=len(rows), replaced_rows=replaced
        )
        session.add(audit)
        session.flush()
        import_id = audit.id
    session.expire_all()  # rows this session loaded before are of the replaced directory
    return import_id, int(replaced)


def _upsert(dialect: Any) -> Any:
    """The license's upsert of one object in ``dialect`` (``postgresql`` or ``sqlite``), built once:
    the row's values are the statement's parameters."""
    statement = dialect.insert(OBJECTS)
    return statement.on_conflict_do_update(
        index_elements=["uscc"],
        set_={
            "name": statement.excluded.name,
            "street": statement.excluded.street,
            "grid": statement.excluded.grid,
            "industry": func.coalesce(statement.excluded.industry, OBJECTS.c.industry),
        },
    )


#: on PostgreSQL one round trip tells a new object from a known one: a row the statement inserted has
#: no ``xmax``, one it updated has the updating transaction's (the upsert locked it)
_UPSERT_PG = _upsert(postgresql).returning(literal_column("xmax = 0", Boolean).label("inserted"))
UPSERT_SQLITE = _upsert(sqlite)
_EXISTS = select(OBJECTS.c.uscc).where(OBJECTS.c.uscc == bindparam("uscc"))


def upsert_from_license(session: Session, data: LicenseIssued, risk_class: str, at: date) -> bool:
    """Keep the object of a license current: a new one enters in ``risk_class`` as of ``at``, never
    inspected; one the directory has gets the license's name, street, grid and (when it gives one)
    industry, keeping its risk class and inspections. True when the object is new. The USCC is taken
    as the license gives it (one failing its check character too: the registry issued it). One
    statement, prepared once (on SQLite a read before it). A batch of licenses: ``listing``."""
    values = object_values(data, risk_class, at)
    if _dialect(session) == "postgresql":
        return bool(session.execute(_UPSERT_PG, values).scalar_one())
    existed = session.execute(_EXISTS, {"uscc": data.uscc}).first()
    session.execute(UPSERT_SQLITE, values)
    return existed is None


def object_values(data: LicenseIssued, risk_class: str, at: date) -> dict[str, Any]:
    """The object row a license would insert (``upsert_from_license``)."""
    return {
        "uscc": data.uscc,
        "name": data.name,
        "type": type_of(data.uscc),
        "industry": data.industry_codes[0] if data.industry_codes else None,
        "street": data.street,
        "grid": data.grid,
        "risk_class": risk_class,
        "risk_as_of": at,
        "last_inspected_at": None,
        "last_result": None,
        "last_inspectors": [],
    }


def type_of(uscc: str) -> str:
    """The type of market entity a USCC says (企业 ``91``, 个体工商户 ``92``, 农民专业合作社 ``93``);
    ``enterprise`` for a code registered by another authority."""
    return _TYPES.get(uscc[1], "enterprise") if uscc[:1] == "9" else "enterprise"


def default_risk_class(sampling: Sampling) -> str:
    """The class a new market entity enters: sampling.yaml names none, so the lowest-risk one (the
    smallest ratio; the first listed on a tie), ``A`` (信用风险低) in the shipped rules."""
    return min(sampling.risk_classes, key=lambda risk: risk.share).code


def object_counts(session: Session) -> dict[str, int]:
    """Objects per risk class, by class code."""
    query = select(OBJECTS.c.risk_class, func.count()).group_by(OBJECTS.c.risk_class)
    return {code: int(n) for code, n in session.execute(query.order_by(OBJECTS.c.risk_class))}


def officer_counts(session: Session) -> dict[str, tuple[int, int]]:
    """(officers, active officers) per department, by department code."""
    active = func.sum(case((OFFICERS.c.active, 1), else_=0))
    query = select(OFFICERS.c.department, func.count(), active).group_by(OFFICERS.c.department)
    found = session.execute(query.order_by(OFFICERS.c.department))
    return {department: (int(n), int(up or 0)) for department, n, up in found}


def latest_import(session: Session, kind: Kind) -> InspectionDirectoryImport | None:
    """The audit row of the last import of ``kind``, or None before the first."""
    query = select(InspectionDirectoryImport).where(InspectionDirectoryImport.kind == kind)
    return session.scalars(query.order_by(InspectionDirectoryImport.id.desc()).limit(1)).first()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _statements(session: Session) -> Statements:
    return Postgres() if _dialect(session) == "postgresql" else Sqlite()


def record_inspections(session: Session, engine: object, items: list[tuple[dict[str, Any], str]]) -> None:
    """A published inspection, written into its object's row in the emitting transaction
    (``state_machines.joint_inspection.RECORD_EFFECT``): last inspected on the inspection's day, its
    result, its inspectors — what the next round's exclusion and recusal read."""
    for body, _ in items:
        record = body["payload"]
        session.execute(
            OBJECTS.update()
            .where(OBJECTS.c.uscc == record["uscc"])
            .values(
                last_inspected_at=datetime.fromisoformat(str(record["inspected_at"]))
                .astimezone(SHANGHAI)
                .date(),
                last_result=record["result"],
                last_inspectors=list(record["inspectors"]),
            )
        )
