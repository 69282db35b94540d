"""What a draw reads, on SQLite and PostgreSQL: a stratum streamed in USCC order, chunk after chunk,
filtered by street, type and industry, and the size of each stratum."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from workflows.flows.joint_inspection import directory_read
from workflows.flows.joint_inspection.directory import replace_objects
from workflows.flows.joint_inspection.directory_parse import ObjectEntry, ObjectsDirectory, parse_objects
from workflows.flows.joint_inspection.directory_read import (
    ObjectFilter,
    ObjectRow,
    count_by_class,
    objects_in_order,
)
from workflows.flows.joint_inspection.directory_synthetic import write_synthetic_objects
from workflows.store.db import Database

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


SIZE = 12_000


@pytest.fixture(scope="module")
def objects(
    tmp_path_factory: pytest.TempPathFactory, risk_classes: set[str], streets: set[str], results: list[str]
) -> ObjectsDirectory:
    """12,000 objects of the synthetic district (a stratum's order needs no 75,000)."""
    path = tmp_path_factory.mktemp("district") / "objects.csv"
    write_synthetic_objects(path, SIZE)
    return parse_objects(path, risk_classes, streets, results)


@pytest.fixture
def district(db: Database, objects: ObjectsDirectory) -> list[ObjectEntry]:
    """The synthetic objects, imported; as the file has them (in no USCC order)."""
    with db.transaction() as session:
        replace_objects(session, objects, "objects.csv", at=AT)
    entries = list(objects.objects)
    assert [e.uscc for e in entries] != sorted(e.uscc for e in entries)  # the file is not in order
    return entries


def row_of(entry: ObjectEntry) -> ObjectRow:
    return ObjectRow(
        entry.uscc,
        entry.risk_class,
        entry.type,
        entry.industry,
        entry.street,
        entry.grid,
        entry.last_inspected_at,
        entry.last_result,
        entry.last_inspectors,
    )


def test_a_stratum_streams_in_uscc_order_chunk_after_chunk(
    db: Database, district: list[ObjectEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory_read, "CHUNK", 397)  # many chunks, the last one short
    for risk_class in ("A", "B", "C", "D"):
        expected = sorted((row_of(e) for e in district if e.risk_class == risk_class), key=lambda r: r.uscc)
        with db.read() as session:
            streamed = list(objects_in_order(session, risk_class=risk_class))
        assert len(streamed) > 397
        assert streamed == expected
    with db.read() as session:
        assert list(objects_in_order(session, risk_class="E")) == []


def test_the_filters_take_streets_types_and_industries_by_their_leading_code(
    db: Database, district: list[ObjectEntry]
) -> None:
    streets, types, industries = {"BEIZHAI", "SHAZIKOU"}, {"individual", "cooperative"}, {"F52", "H6210"}

    def taken(e: ObjectEntry) -> bool:
        industry = e.industry or ""
        return (
            e.street in streets
            and e.type in types
            and (industry.startswith("F52") or industry.startswith("H6210"))
        )

    expected = sorted(e.uscc for e in district if e.risk_class == "C" and taken(e))
    with db.read() as session:
        rows = objects_in_order(session, risk_class="C", streets=streets, types=types, industries=industries)
        assert [row.uscc for row in rows] == expected
        counts = count_by_class(session, ObjectFilter(streets, types, industries))
        assert count_by_class(session) == dict(sorted(Counter(e.risk_class for e in district).items()))
        assert count_by_class(session, ObjectFilter(streets=[])) == {}
        assert count_by_class(session, ObjectFilter(industries=["I%"])) == {}  # a wildcard is a character
        by_street = count_by_class(session, ObjectFilter(streets={"ZHONGHAN"}))
    assert counts == dict(sorted(Counter(e.risk_class for e in district if taken(e)).items()))
    assert len(expected) > 10 and counts["C"] == len(expected)
    assert by_street == dict(
        sorted(Counter(e.risk_class for e in district if e.street == "ZHONGHAN").items())
    )


def test_a_draw_that_stops_early_leaves_the_session_usable(db: Database, district: list[ObjectEntry]) -> None:
    first = min(e.uscc for e in district if e.risk_class == "A")
    with db.read() as session:
        stream = objects_in_order(session, risk_class="A")
        assert next(stream).uscc == first
        stream.close()
        assert sum(count_by_class(session).values()) == SIZE
