"""The grid directory in the database, on SQLite and PostgreSQL: replacing it whole, and the lookups."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.integration.flows.grid_check.conftest import WriteFile
from tests.support import PG_URL, ensure_pg_database, wait_until
from workflows.flows.grid_check.directory import (
    Assignee,
    Directory,
    DirectoryInvalid,
    ImportReport,
    StreetCounts,
    Worker,
    assignee_for,
    directory_counts,
    grid_exists,
    latest_import,
    parse_directory,
    replace_directory,
    worker,
    worker_in_grid,
)
from workflows.flows.grid_check.directory_models import GridDirectoryImport
from workflows.flows.grid_check.directory_parse import GridEntry, StreetEntry, WorkerEntry
from workflows.flows.grid_check.directory_synthetic import synthetic_path
from workflows.store.db import Database
from workflows.store.migrate import upgrade

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ZH = "ZHONGHAN,中韩街道"


def load(db: Database, directory: Directory, source: str, at: datetime = AT) -> ImportReport:
    with db.transaction() as session:
        return replace_directory(session, directory, source, at=at)


def import_shipped(db: Database, streets: dict[str, str]) -> ImportReport:
    return load(db, parse_directory(synthetic_path(), streets), "laoshan_directory.csv")


def test_the_shipped_laoshan_directory_imports_654_grids_and_735_workers(
    db: Database, streets: dict[str, str]
) -> None:
    report = import_shipped(db, streets)
    assert (report.counts.grids, report.counts.workers, len(report.counts.streets)) == (654, 735, 5)
    assert (report.replaced.grids, report.replaced.workers, report.replaced.streets) == (0, 0, ())
    assert 700 < report.counts.active < 735
    with db.read() as session:
        counts = directory_counts(session)
        audit = latest_import(session)
    assert counts == report.counts
    assert {s.code: s.grids for s in counts.streets} == {
        "ZHONGHAN": 200,
        "JINJIALING": 170,
        "SHAZIKOU": 130,
        "WANGGEZHUANG": 90,
        "BEIZHAI": 64,
    }
    assert audit is not None and audit.id == report.import_id
    assert (audit.source, audit.imported_at, audit.grids, audit.workers) == (
        "laoshan_directory.csv",
        AT,
        654,
        735,
    )
    assert (audit.active_workers, audit.streets, audit.replaced_grids) == (report.counts.active, 5, 0)
    assert audit.sha256 == report.sha256 == parse_directory(synthetic_path(), streets).sha256


def test_an_import_replaces_the_whole_directory(
    db: Database, streets: dict[str, str], write_csv: WriteFile
) -> None:
    first = import_shipped(db, streets)
    small = parse_directory(
        write_csv(
            f"{ZH},ZH-001,中韩一号网格,GW-0001,新人,,true,app:new-0001",
            "BEIZHAI,北宅街道,BZ-900,北宅新网格,GW-9001,新人二,GW-0001,false,app:new-9001",
        ),
        streets,
    )
    second = load(db, small, "grids.csv", AT.replace(day=2))
    assert second.import_id == first.import_id + 1
    assert second.replaced == first.counts
    assert second.counts.streets == (
        StreetCounts("BEIZHAI", "北宅街道", grids=1, workers=1, active=0),
        StreetCounts("ZHONGHAN", "中韩街道", grids=1, workers=1, active=1),
    )
    with db.read() as session:
        assert not grid_exists(session, "JJL-001") and worker(session, "GW-0546") is None
        assert grid_exists(session, "BZ-900")
        assert worker(session, "GW-0001") == Worker(
            "GW-0001", "新人", "ZH-001", "ZHONGHAN", None, True, "app:new-0001"
        )
        imports = session.scalars(select(GridDirectoryImport).order_by(GridDirectoryImport.id)).all()
    assert [(i.source, i.replaced_grids, i.replaced_workers) for i in imports] == [
        ("laoshan_directory.csv", 0, 0),
        ("grids.csv", 654, 735),
    ]


def test_a_bad_file_changes_nothing(db: Database, streets: dict[str, str], write_csv: WriteFile) -> None:
    before = import_shipped(db, streets)
    bad = write_csv(f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,GW-0001,true,app:gw-0001")
    with pytest.raises(DirectoryInvalid):
        load(db, parse_directory(bad, streets), "grids.csv")
    with db.read() as session:
        assert directory_counts(session) == before.counts
        last = latest_import(session)
        assert last is not None and last.id == before.import_id


def test_an_import_the_database_refuses_leaves_the_previous_directory(
    db: Database, streets: dict[str, str]
) -> None:
    """A directory built by hand whose worker names a grid it lacks: the foreign key refuses the
    insert, the savepoint takes back the deletes, and the caller's transaction goes on."""
    before = import_shipped(db, streets)
    broken = Directory(
        streets=(StreetEntry("ZHONGHAN", "中韩街道"),),
        grids=(GridEntry("ZH-001", "中韩街道第1网格", "ZHONGHAN"),),
        workers=(WorkerEntry("GW-0001", "王芳", "ZH-404", None, True, "app:gw-0001"),),
        sha256="0" * 64,
    )
    with db.transaction() as session:
        with pytest.raises(IntegrityError):
            replace_directory(session, broken, "broken.csv", at=AT)
        assert directory_counts(session) == before.counts  # same transaction, still usable
    with db.read() as session:
        assert directory_counts(session) == before.counts
        assert assignee_for(session, "JJL-001") is not None
        last = latest_import(session)
        assert last is not None and last.id == before.import_id


ROUTING = (
    f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,GW-0002,true,app:gw-0001",
    f"{ZH},ZH-002,中韩街道第2网格,GW-0002,李强,GW-0003,false,app:gw-0002",
    f"{ZH},ZH-003,中韩街道第3网格,GW-0003,张伟,GW-0002,true,app:gw-0003",
    f"{ZH},ZH-004,中韩街道第4网格,GW-0004,赵敏,GW-0005,false,app:gw-0004",
    f"{ZH},ZH-005,中韩街道第5网格,GW-0005,刘洋,GW-0004,false,app:gw-0005",
    f"{ZH},ZH-006,中韩街道第6网格,GW-0006,陈静,,false,app:gw-0006",
    # the primary is the first by worker id, not by the file's order
    f"{ZH},ZH-007,中韩街道第7网格,GW-0011,杨磊,GW-0010,true,app:gw-0011",
    f"{ZH},ZH-007,中韩街道第7网格,GW-0010,黄娟,GW-0011,true,app:gw-0010",
)


def assignee(
    level: Literal["grid", "backup", "street"], worker_id: str | None, name: str | None, grid: int
) -> Assignee:
    recipient = f"app:{worker_id.lower()}" if worker_id else None
    return Assignee(
        level,
        worker_id,
        name,
        recipient,
        f"ZH-00{grid}",
        f"中韩街道第{grid}网格",
        "ZHONGHAN",
        "中韩街道",
    )


def test_a_grid_case_goes_to_its_worker_else_the_active_backup_else_the_street(
    db: Database, streets: dict[str, str], write_csv: WriteFile
) -> None:
    load(db, parse_directory(write_csv(*ROUTING), streets), "grids.csv")
    with db.read() as session:
        found = {grid: assignee_for(session, f"ZH-00{grid}") for grid in range(1, 8)}
        assert assignee_for(session, "ZH-404") is None
    assert found == {
        1: assignee("grid", "GW-0001", "王芳", 1),
        2: assignee("backup", "GW-0003", "张伟", 2),  # inactive worker, active backup
        3: assignee("grid", "GW-0003", "张伟", 3),
        4: assignee("street", None, None, 4),  # inactive worker, inactive backup
        5: assignee("street", None, None, 5),
        6: assignee("street", None, None, 6),  # inactive worker, no backup
        7: assignee("grid", "GW-0010", "黄娟", 7),
    }


def test_a_grid_without_workers_goes_to_its_street(
    db: Database, streets: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "grids.yaml"
    path.write_text(
        "streets:\n  - code: BEIZHAI\n    name: 北宅街道\n    grids:\n      - {code: BZ-001, name: 北宅街道第1网格}\n",
        encoding="utf-8",
    )
    load(db, parse_directory(path, streets), "grids.yaml")
    with db.read() as session:
        assert assignee_for(session, "BZ-001") == Assignee(
            "street", None, None, None, "BZ-001", "北宅街道第1网格", "BEIZHAI", "北宅街道"
        )
        assert directory_counts(session).streets == (StreetCounts("BEIZHAI", "北宅街道", 1, 0, 0),)


def test_the_small_lookups(db: Database, streets: dict[str, str], write_csv: WriteFile) -> None:
    load(db, parse_directory(write_csv(*ROUTING), streets), "grids.csv")
    with db.read() as session:
        assert grid_exists(session, "ZH-007") and not grid_exists(session, "ZH-008")
        assert worker_in_grid(session, "GW-0010", "ZH-007") and worker_in_grid(session, "GW-0002", "ZH-002")
        assert not worker_in_grid(session, "GW-0010", "ZH-001")
        assert not worker_in_grid(session, "GW-9999", "ZH-001")
        assert worker(session, "GW-0002") == Worker(
            "GW-0002", "李强", "ZH-002", "ZHONGHAN", "GW-0003", False, "app:gw-0002"
        )
        assert worker(session, "GW-9999") is None


@pytest.mark.production
def test_concurrent_imports_on_postgresql_wait_for_each_other(
    streets: dict[str, str], write_csv: WriteFile, tmp_path: Path
) -> None:
    """The second import waits for the first to commit, then replaces what the first imported
    (without the table lock it would insert beside the first's rows and fail on their keys)."""
    ensure_pg_database(PG_URL)
    db = Database(PG_URL)
    try:
        upgrade(db)
        import_shipped(db, streets)
        small = parse_directory(
            write_csv(f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,,true,app:gw-0001"), streets
        )
        second: list[ImportReport | Exception] = []

        def import_second() -> None:
            try:
                second.append(load(db, small, "second.csv"))
            except Exception as exc:
                second.append(exc)

        with db.transaction() as session:
            first = replace_directory(session, small, "first.csv", at=AT)
            other = threading.Thread(target=import_second)
            other.start()
            wait_until(lambda: waiting_for_a_lock(db), what="the second import to wait for the first")
        other.join(timeout=30)
        [report] = second
        assert isinstance(report, ImportReport), report
        assert report.replaced == first.counts == report.counts
        with db.read() as session:
            assert [i.source for i in session.scalars(select(GridDirectoryImport))][-2:] == [
                "first.csv",
                "second.csv",
            ]
    finally:
        db.dispose()


def waiting_for_a_lock(db: Database) -> bool:
    with db.read() as session:
        waiting = session.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
    return int(waiting) > 0
