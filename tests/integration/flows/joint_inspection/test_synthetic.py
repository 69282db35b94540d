"""The synthetic district of the joint inspection: the same bytes for the same seed, the shares it
promises, and files that import cleanly with the rules' classes, streets and departments."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from rules import RuleSet
from workflows.flows.joint_inspection.directory import type_of
from workflows.flows.joint_inspection.directory_parse import ObjectsDirectory, OfficersDirectory
from workflows.flows.joint_inspection.directory_synthetic import (
    write_synthetic_objects,
    write_synthetic_officers,
)
from workflows.flows.joint_inspection.directory_synthetic_data import RESULT_SHARES
from workflows.uscc import division

#: the SHA-256 of the default files (75,000 objects and 800 officers, seed 370212): a change in the
#: generator that changes them changes the demo's and the benchmark's district, on purpose only
OBJECTS_SHA256 = "cbafe51def1b957ab8dc1e4a4c1d20f11f380fca79ed96019ef6e6da958b732e"
OFFICERS_SHA256 = "33bd1c8489986869f80bb37cf0c42f2012c38feadd158c4754317070bb953cf6"
PREFIXES = {"ZHONGHAN": "ZH", "SHAZIKOU": "SZK", "WANGGEZHUANG": "WGZ", "BEIZHAI": "BZ", "JINJIALING": "JJL"}
REFERENCE = date(2026, 11, 30)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_same_seed_writes_the_same_bytes(synthetic_files: tuple[Path, Path], tmp_path: Path) -> None:
    objects, officers = synthetic_files
    assert (sha256(objects), sha256(officers)) == (OBJECTS_SHA256, OFFICERS_SHA256)
    assert objects.stat().st_size > 5_000_000  # why it is generated, not shipped
    write_synthetic_objects(tmp_path / "a.csv", 2000, seed=7)
    write_synthetic_objects(tmp_path / "b.csv", 2000, seed=7)
    write_synthetic_objects(tmp_path / "c.csv", 2000, seed=8)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    # the first 2,000 of the default file are the 2,000 of the same seed
    write_synthetic_objects(tmp_path / "head.csv", 2000)
    assert objects.read_bytes().startswith((tmp_path / "head.csv").read_bytes())
    write_synthetic_officers(tmp_path / "o.csv", seed=7, objects=2000)
    assert sha256(tmp_path / "o.csv") != OFFICERS_SHA256


def test_the_objects_have_the_shares_and_patterns_promised(
    synthetic: tuple[ObjectsDirectory, OfficersDirectory], ruleset: RuleSet
) -> None:
    objects = synthetic[0].objects
    assert len(objects) == 75_000
    classes = Counter(o.risk_class for o in objects)
    assert set(classes) == {risk.code for risk in ruleset.sampling.risk_classes}
    for code, share in {"A": 0.40, "B": 0.35, "C": 0.20, "D": 0.05}.items():
        assert abs(classes[code] / 75_000 - share) < 0.01, (code, classes[code])
    streets = Counter(o.street for o in objects)
    assert set(streets) == set(PREFIXES)
    assert min(streets["ZHONGHAN"], streets["JINJIALING"]) > streets["SHAZIKOU"] > streets["BEIZHAI"]
    for o in objects:
        assert division(o.uscc) == "370212" and o.uscc[8:10] == "MA"
        assert type_of(o.uscc) == o.type
        assert re.fullmatch(rf"{PREFIXES[o.street]}-\d{{3}}", o.grid), o.grid
        assert o.industry is not None and re.fullmatch(r"[A-Z]\d{4}", o.industry)
    types = Counter(o.type for o in objects)
    assert types["enterprise"] > types["individual"] > types["cooperative"] > 1000
    rural = [o for o in objects if o.street in ("WANGGEZHUANG", "BEIZHAI")]
    assert sum(o.type == "individual" for o in rural) > sum(o.type == "enterprise" for o in rural)
    assert len({o.grid for o in objects}) == 654


def test_a_third_was_inspected_and_a_ninth_within_the_year(
    synthetic: tuple[ObjectsDirectory, OfficersDirectory], ruleset: RuleSet
) -> None:
    objects, officers = synthetic
    inspected = [o for o in objects.objects if o.last_inspected_at is not None]
    assert 0.33 < len(inspected) / 75_000 < 0.37
    recent = [
        o for o in inspected if o.last_inspected_at and o.last_inspected_at >= REFERENCE - timedelta(days=365)
    ]
    assert 0.10 < len(recent) / 75_000 < 0.13
    assert max(o.last_inspected_at for o in inspected if o.last_inspected_at) < REFERENCE
    results = Counter(o.last_result for o in inspected)
    assert set(results) == {code for code, _ in RESULT_SHARES}
    assert set(results) <= {r.code for r in ruleset.sampling.results}
    assert results["no_problem"] > len(inspected) / 2
    department = {o.officer_id: o.department for o in officers.officers}
    for o in inspected:
        assert len(o.last_inspectors) == 2 and len(set(o.last_inspectors)) == 2
        assert len({department[i] for i in o.last_inspectors}) == 1  # two of the leading department
    assert {department[o.last_inspectors[0]] for o in inspected} == {"SCJG", "SCJG_SP", "SCJG_YP"}


def test_the_officers_cover_every_department_with_four_active_at_least(
    synthetic: tuple[ObjectsDirectory, OfficersDirectory], ruleset: RuleSet
) -> None:
    objects, officers = synthetic
    staff = officers.officers
    assert len(staff) == 800
    per_department = Counter(o.department for o in staff)
    assert set(per_department) == {d.code for d in ruleset.organisation.departments}
    assert len(per_department) == 17
    assert [code for code, _ in per_department.most_common(2)] == ["SCJG", "SCJG_SP"]
    active = Counter(o.department for o in staff if o.active)
    assert min(active[code] for code in per_department) >= 4
    assert 0.02 < 1 - sum(active.values()) / 800 < 0.07
    assert len({o.certificate_no for o in staff}) == 800
    for o in staff:
        assert re.fullmatch(rf"{o.department}-\d{{4}}", o.officer_id)
        assert re.fullmatch(r"3702(12|00)\d{6}", o.certificate_no)
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", o.name), o.name
        assert 1 <= len(o.fields) <= 3
    usccs = {o.uscc for o in objects.objects}
    conflicted = [o for o in staff if o.conflicts]
    assert 10 <= len(conflicted) <= 40
    assert all(c in usccs for o in conflicted for c in o.conflicts)
