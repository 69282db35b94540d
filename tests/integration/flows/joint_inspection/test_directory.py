"""The joint inspection directories in the database, on SQLite and PostgreSQL: replacing them whole,
the synthetic district, keeping objects current from licenses."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from rules import RuleSet
from rules.schema import RiskClass, Sampling
from tests.integration.flows.joint_inspection.conftest import WriteFile
from tests.support import PG_URL, ensure_pg_database, wait_until
from workflows.flows.joint_inspection.directory import (
    ImportReport,
    default_risk_class,
    latest_import,
    object_counts,
    officer_counts,
    replace_objects,
    replace_officers,
    type_of,
    upsert_from_license,
)
from workflows.flows.joint_inspection.directory_models import InspectionDirectoryImport, InspectionObject
from workflows.flows.joint_inspection.directory_parse import (
    DirectoryInvalid,
    ObjectsDirectory,
    OfficerEntry,
    OfficersDirectory,
    parse_objects,
    parse_officers,
)
from workflows.flows.joint_inspection.directory_read import officers_of
from workflows.flows.joint_inspection.listing import upsert_licenses
from workflows.store.db import Database
from workflows.store.migrate import upgrade
from workflows.upstream.registration import LicenseIssued
from workflows.uscc import make

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
U1, U2, U3 = make("91370212MA0000001"), make("92370212MA0000002"), make("93370212MA0000003")
ROWS = (
    f"{U1},青岛海味餐饮有限公司,enterprise,H6210,ZHONGHAN,ZH-001,B,2026-06-30,2025-09-12,corrected,SCJG-0001;SCJG-0002",
    f"{U2},崂山区福顺水产店,individual,,BEIZHAI,BZ-007,A,2026-09-30,,,",
    f"{U3},青岛市崂山区晓望茶叶专业合作社,cooperative,C1530,WANGGEZHUANG,WGZ-012,D,2026-03-31,,,",
)


def load_objects(db: Database, directory: ObjectsDirectory, source: str, at: datetime = AT) -> ImportReport:
    with db.transaction() as session:
        return replace_objects(session, directory, source, at=at)


def load_officers(db: Database, directory: OfficersDirectory, source: str) -> ImportReport:
    with db.transaction() as session:
        return replace_officers(session, directory, source, at=AT)


def test_the_synthetic_district_imports_75000_objects_and_800_officers(
    db: Database,
    synthetic: tuple[ObjectsDirectory, OfficersDirectory],
    stack_kind: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    objects, officers = synthetic
    started = time.perf_counter()
    report = load_objects(db, objects, "objects.csv")
    took = time.perf_counter() - started
    started = time.perf_counter()
    staff = load_officers(db, officers, "officers.csv")
    took_officers = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n  [{stack_kind}] imported 75,000 objects in {took:.2f} s, 800 officers in {took_officers:.2f} s"
        )
    assert (report.rows, report.replaced, sum(report.counts.values())) == (75_000, 0, 75_000)
    assert set(report.counts) == {"A", "B", "C", "D"}
    assert report.counts["A"] > report.counts["B"] > report.counts["C"] > report.counts["D"]
    assert (staff.rows, len(staff.counts), sum(staff.counts.values())) == (800, 17, 800)
    assert min(staff.active.values()) >= 4
    with db.read() as session:
        assert object_counts(session) == report.counts
        assert {code: active for code, (_, active) in officer_counts(session).items()} == staff.active
        audit = latest_import(session, "objects")
        assert audit is not None and audit.id == report.import_id
        assert (audit.kind, audit.source, audit.sha256, audit.rows, audit.imported_at) == (
            "objects",
            "objects.csv",
            objects.sha256,
            75_000,
            AT,
        )
        stored = session.get(InspectionObject, objects.objects[0].uscc)
        assert stored is not None
        first = objects.objects[0]
        assert (stored.name, stored.risk_as_of, stored.last_inspectors) == (
            first.name,
            first.risk_as_of,
            list(first.last_inspectors),
        )


def test_an_import_replaces_the_whole_directory(
    db: Database, write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    first = load_objects(
        db, parse_objects(write_objects(*ROWS), risk_classes, streets, results), "objects.csv"
    )
    assert (first.rows, first.replaced, first.counts) == (3, 0, {"A": 1, "B": 1, "D": 1})
    other = make("91370212MA0000099")
    smaller = write_objects(
        f"{U2},崂山区福顺海鲜店,individual,F5224,BEIZHAI,BZ-008,C,2026-09-30,,,",
        f"{other},青岛新公司有限公司,enterprise,I6513,JINJIALING,JJL-001,A,2026-09-30,,,",
        name="objects-2.csv",
    )
    second = load_objects(db, parse_objects(smaller, risk_classes, streets, results), "objects-2.csv")
    assert second.import_id == first.import_id + 1
    assert (second.rows, second.replaced, second.counts) == (2, 3, {"A": 1, "C": 1})
    with db.read() as session:
        assert session.get(InspectionObject, U1) is None
        renamed = session.get(InspectionObject, U2)
        assert renamed is not None and (renamed.name, renamed.grid, renamed.risk_class) == (
            "崂山区福顺海鲜店",
            "BZ-008",
            "C",
        )
        audits = session.scalars(select(InspectionDirectoryImport).order_by(InspectionDirectoryImport.id))
        assert [(a.kind, a.source, a.rows, a.replaced_rows) for a in audits] == [
            ("objects", "objects.csv", 3, 0),
            ("objects", "objects-2.csv", 2, 3),
        ]
        assert latest_import(session, "officers") is None


def test_a_bad_file_changes_nothing(
    db: Database, write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    before = load_objects(
        db, parse_objects(write_objects(*ROWS), risk_classes, streets, results), "objects.csv"
    )
    bad = write_objects(ROWS[0], ROWS[0].replace("ZHONGHAN", "NOWHERE"), name="bad.csv")
    with pytest.raises(DirectoryInvalid):
        load_objects(db, parse_objects(bad, risk_classes, streets, results), "bad.csv")
    with db.read() as session:
        assert object_counts(session) == before.counts
        last = latest_import(session, "objects")
        assert last is not None and last.id == before.import_id


OFFICER = OfficerEntry("SCJG-0001", "王芳", "SCJG", "370212010001", ("登记注册",), True, (U1,))


def test_an_import_the_database_refuses_leaves_the_previous_directory(db: Database) -> None:
    """A directory built by hand with one certificate twice: the unique constraint refuses the insert,
    the savepoint takes back the delete, and the caller's transaction goes on."""
    before = load_officers(db, OfficersDirectory((OFFICER,), "0" * 64), "officers.csv")
    twice = OfficerEntry("SCJG-0002", "李强", "SCJG", OFFICER.certificate_no, (), True)
    broken = OfficersDirectory(
        (OfficerEntry("SCJG-0003", "张伟", "SCJG", "x", (), True), twice, OFFICER), "1" * 64
    )
    with db.transaction() as session:
        with pytest.raises(IntegrityError):
            replace_officers(session, broken, "broken.csv", at=AT)
        assert officer_counts(session) == {"SCJG": (1, 1)}  # same transaction, still usable
    with db.read() as session:
        assert officers_of(session, "SCJG")[0].officer_id == "SCJG-0001"
        last = latest_import(session, "officers")
        assert last is not None and last.id == before.import_id


def test_officers_of_a_department_come_by_id_active_ones_unless_asked(
    db: Database, write_officers: WriteFile, departments: set[str]
) -> None:
    path = write_officers(
        f"SCJG-0010,王芳,SCJG,370212010010,广告;登记注册,true,{U1};{U2}",
        "SCJG-0002,李强,SCJG,370212010002,,false,",
        "SCJG-0003,张伟,SCJG,370212010003,价格,true,",
        "WJJ-0001,赵敏,WJJ,370212050001,医疗机构,true,",
    )
    load_officers(db, parse_officers(path, departments), "officers.csv")
    with db.read() as session:
        active = officers_of(session, "SCJG")
        every = officers_of(session, "SCJG", active_only=False)
        assert officers_of(session, "GAFJ") == []
    assert [o.officer_id for o in active] == ["SCJG-0003", "SCJG-0010"]
    assert [(o.officer_id, o.active) for o in every] == [
        ("SCJG-0002", False),
        ("SCJG-0003", True),
        ("SCJG-0010", True),
    ]
    tenth = active[1]
    assert (tenth.name, tenth.certificate_no, tenth.fields, tenth.conflicts) == (
        "王芳",
        "370212010010",
        ("广告", "登记注册"),
        (U1, U2),
    )


def license_of(uscc: str, name: str, street: str, grid: str, industries: list[str]) -> LicenseIssued:
    return LicenseIssued(
        uscc=uscc,
        name=name,
        business_scope="餐饮服务",
        address="青岛市崂山区香港东路1号",
        street=street,
        grid=grid,
        legal_representative="王芳",
        issued_at=AT,
        industry_codes=industries,
    )


def test_a_license_adds_a_new_object_and_keeps_a_known_one_current(
    db: Database,
    write_objects: WriteFile,
    risk_classes: set[str],
    streets: set[str],
    results: list[str],
    ruleset: RuleSet,
) -> None:
    load_objects(db, parse_objects(write_objects(*ROWS), risk_classes, streets, results), "objects.csv")
    new = make("92370212MA0000077")
    with db.transaction() as session:
        created = upsert_from_license(
            session, license_of(new, "崂山区新开饭店", "SHAZIKOU", "SZK-003", ["H6210", "F5224"]),
            default_risk_class(ruleset.sampling), date(2026, 12, 1),
        )  # fmt: skip
        known = upsert_from_license(
            session,
            license_of(U1, "青岛海味餐饮集团有限公司", "JINJIALING", "JJL-002", []),
            "D",
            date(2026, 12, 1),
        )
    assert (created, known) == (True, False)
    with db.read() as session:
        fresh = session.get(InspectionObject, new)
        kept = session.get(InspectionObject, U1)
        counts = object_counts(session)
    assert fresh is not None and kept is not None
    assert (fresh.name, fresh.type, fresh.industry, fresh.street, fresh.grid) == (
        "崂山区新开饭店",
        "individual",
        "H6210",
        "SHAZIKOU",
        "SZK-003",
    )
    assert (fresh.risk_class, fresh.risk_as_of, fresh.last_inspected_at, fresh.last_inspectors) == (
        "A",
        date(2026, 12, 1),
        None,
        [],
    )
    # the license renames and moves it; its class, industry and last inspection stay
    assert (kept.name, kept.street, kept.grid, kept.industry, kept.risk_class, kept.risk_as_of) == (
        "青岛海味餐饮集团有限公司",
        "JINJIALING",
        "JJL-002",
        "H6210",
        "B",
        date(2026, 6, 30),
    )
    assert (kept.last_inspected_at, kept.last_result, kept.last_inspectors) == (
        date(2025, 9, 12),
        "corrected",
        ["SCJG-0001", "SCJG-0002"],
    )
    assert counts == {"A": 2, "B": 1, "D": 1}


def test_the_class_of_a_new_entity_and_its_type() -> None:
    def sampling(*classes: tuple[str, str]) -> Sampling:
        return Sampling.model_validate(
            {
                "risk_classes": [{"code": c, "name": c, "ratio": r} for c, r in classes],
                "min_officers_per_department": 2,
                "recusal": {},
                "exclusion": {"window": "12 months"},
            }
        )

    assert default_risk_class(sampling(("A", "3%"), ("B", "5%"))) == "A"
    assert default_risk_class(sampling(("HIGH", "60%"), ("LOW", "2%"), ("LOWER", "2%"))) == "LOW"
    assert isinstance(sampling(("A", "3%")).risk_classes[0], RiskClass)
    assert [type_of(code) for code in (U1, U2, U3, make("52370212MA0000001"))] == [
        "enterprise",
        "individual",
        "cooperative",
        "enterprise",
    ]


@pytest.mark.production
def test_a_license_during_an_import_on_postgresql_waits_and_lands_in_the_new_directory(
    write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    ensure_pg_database(PG_URL)
    db = Database(PG_URL)
    try:
        upgrade(db)
        directory = parse_objects(write_objects(*ROWS), risk_classes, streets, results)
        new = make("91370212MA0000088")
        upserted: list[bool | Exception] = []

        def upsert() -> None:
            try:
                with db.transaction() as session:
                    data = license_of(new, "青岛后来有限公司", "ZHONGHAN", "ZH-002", [])
                    upserted.append(upsert_from_license(session, data, "A", date(2026, 12, 1)))
            except Exception as exc:
                upserted.append(exc)

        with db.transaction() as session:
            replace_objects(session, directory, "objects.csv", at=AT)
            other = threading.Thread(target=upsert)
            other.start()
            wait_until(lambda: waiting_for_a_lock(db), what="the license to wait for the import")
        other.join(timeout=30)
        assert upserted == [True]
        with db.read() as session:
            assert object_counts(session) == {"A": 2, "B": 1, "D": 1}
    finally:
        db.dispose()


def waiting_for_a_lock(db: Database) -> bool:
    with db.read() as session:
        waiting = session.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
    return int(waiting) > 0


def test_a_batch_of_licenses_upserts_as_each_license_in_turn(
    db: Database, write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    """``listing.upsert_licenses`` (the batch write) leaves the objects and the answers that
    ``upsert_from_license`` of each license in turn leaves: a USCC twice, a known one, industries."""
    new, other = make("92370212MA0000077"), make("91370212MA0000099")
    licenses = [
        license_of(new, "新开饭店", "SHAZIKOU", "SZK-003", ["H6210"]),
        license_of(U1, "青岛海味餐饮集团有限公司", "JINJIALING", "JJL-002", []),
        license_of(new, "新开饭店改名", "BEIZHAI", "BZ-001", []),
        license_of(other, "另一家", "ZHONGHAN", "ZH-001", ["F5211"]),
        license_of(other, "另一家改名", "ZHONGHAN", "ZH-002", ["F5212"]),
    ]
    directory = parse_objects(write_objects(*ROWS), risk_classes, streets, results)

    def objects() -> list[tuple[object, ...]]:
        with db.read() as session:
            found = session.scalars(select(InspectionObject).order_by(InspectionObject.uscc))
            return [
                (o.uscc, o.name, o.type, o.industry, o.street, o.grid, o.risk_class, o.risk_as_of,
                 o.last_inspected_at, o.last_result, o.last_inspectors)
                for o in found
            ]  # fmt: skip

    load_objects(db, directory, "objects.csv")
    with db.transaction() as session:
        in_turn = [upsert_from_license(session, data, "A", date(2026, 12, 1)) for data in licenses]
    expected = objects()
    load_objects(db, directory, "objects.csv")
    with db.transaction() as session:
        batch = upsert_licenses(session, licenses, "A")
    assert objects() == expected
    assert in_turn == [True, False, False, True, False]
    assert batch == {new: True, U1: False, other: True}
