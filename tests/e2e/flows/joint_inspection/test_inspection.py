"""The joint inspection end to end through the HTTP API, on both stacks: a plan frozen with its
commitment, the draw and its receipt verified, a re-draw refused until voided, dispatch to the group,
results from two departments, publication (and its escalation when late), a follow-up case, bad input."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.e2e.flows.dual_notification.conftest import E2E, e2e_stack
from worker import PLUGINS, compose
from workflows import uscc
from workflows.cli.app import build_app
from workflows.flows.joint_inspection.directory_models import InspectionObject, InspectionOfficer
from workflows.time.calendar import SHANGHAI

SECRET = "drawn-by-the-notary-2026-12-01"
CLASSES = "AAAAAAAAAABBBBBBBBCCCCCCDDDD"


def load(e2e: E2E) -> list[str]:
    """28 objects in four classes (one inspected last month with no problem: excluded), 8 officers of
    market supervision and 6 of the health commission."""
    today = e2e.now().date()
    codes = [uscc.make(f"91370212MA{n:07d}") for n in range(len(CLASSES))]
    with e2e.stack.runtime.db.transaction() as session:
        for n, (code, risk) in enumerate(zip(codes, CLASSES, strict=True)):
            session.add(
                InspectionObject(
                    uscc=code,
                    name=f"崂山第{n}号药店",
                    type="enterprise",
                    industry="5251",
                    street="ZHONGHAN",
                    grid="ZH-001",
                    risk_class=risk,
                    risk_as_of=date(2026, 1, 1),
                    last_inspected_at=today - timedelta(days=30) if n == 0 else None,
                    last_result="no_problem" if n == 0 else None,
                    last_inspectors=[],
                )
            )
        for department, count in (("SCJG", 8), ("WJJ", 6)):
            for i in range(count):
                session.add(
                    InspectionOfficer(
                        officer_id=f"{department}-{i:03d}",
                        name=f"执法员{i}",
                        department=department,
                        certificate_no=f"{department}{i:06d}",
                        fields=[],
                        active=True,
                        conflicts=[],
                    )
                )
    return codes


def plan(**extra: Any) -> dict[str, Any]:
    return {
        "id": "2026-LS-01",
        "departments": {"SCJG": ["药品经营"], "WJJ": ["公共场所卫生"]},
        "quotas": {"A": 2, "B": 2, "C": 1, "D": 1},
        "per_department": 2,
        "groups": 2,
        "commitment": {
            "kind": "committed_secret",
            "value_sha256": hashlib.sha256(SECRET.encode()).hexdigest(),
        },
        **extra,
    }


@pytest.fixture
def e2e(stack_kind: str, tmp_path: Path) -> Iterator[E2E]:
    with e2e_stack(stack_kind, tmp_path) as running:
        load(running)
        yield running


def post(e2e: E2E, path: str, body: dict[str, Any]) -> Any:
    return e2e.http.post(path, json=body)


def result(e2e: E2E, inspection: int, department: str, officer: str, code: str, **extra: Any) -> Any:
    data = {
        "inspection": inspection,
        "department": department,
        "officer": officer,
        "result": code,
        "inspected_at": e2e.now().isoformat(),
        **extra,
    }
    return e2e.post(
        {
            "specversion": "1.0",
            "id": f"r-{inspection}-{department}-{code}",
            "source": "/officers/app",
            "type": "inspection.result.recorded",
            "data": data,
        }
    )


def test_plan_draw_verify_dispatch_results_publication_and_follow_up(e2e: E2E) -> None:
    created = post(e2e, "/inspections/plans", plan(name="崂山区药店联合抽查"))
    assert created.status_code == 201, created.text
    frozen = created.json()
    assert (frozen["objects"], frozen["excluded"], frozen["officers"]) == (27, 1, 14)

    wrong = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": "not the secret"})
    assert wrong.status_code == 422 and "committed" in wrong.json()["detail"]
    drawn = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET})
    assert drawn.status_code == 201, drawn.text
    receipt = drawn.json()
    assert len(receipt["result"]["objects"]) == 6 and len(receipt["result"]["groups"]) == 2
    again = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET})
    assert again.status_code == 409 and "void" in again.json()["detail"]
    verified = e2e.get(f"/draws/{receipt['draw']}/verify")
    assert verified == {"draw": receipt["draw"], "plan": "2026-LS-01", "ok": True, "differences": []}

    e2e.stack.settle()
    inspections = e2e.instances(flow="joint_inspection")
    assert len(inspections) == 6 and {i["state"] for i in inspections} == {"inspecting"}
    first = e2e.instance(inspections[0]["id"])
    officers = first["context"]["officers"]
    assert sorted(officers) == ["SCJG", "WJJ"] and all(len(v) == 2 for v in officers.values())
    pushed = {d.recipient for d in e2e.deliveries(first["id"], kind="inspection")}
    assert pushed == {o for v in officers.values() for o in v}  # every officer of the group

    before = e2e.counts()
    bad = [
        (result(e2e, first["id"], "SCJG", officers["SCJG"][0], "maybe"), "data.result"),
        (result(e2e, first["id"], "SCJG", "SCJG-999", "no_problem"), "data.officer"),
        (result(e2e, first["id"], "GAFJ", officers["SCJG"][0], "no_problem"), "data.department"),
    ]
    for response, field in bad:
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    assert e2e.counts() == before

    assert result(e2e, first["id"], "SCJG", officers["SCJG"][0], "no_problem").status_code == 202
    assert (
        result(e2e, first["id"], "WJJ", officers["WJJ"][1], "follow_up", comment="消毒记录缺失").status_code
        == 202
    )
    e2e.stack.settle()
    done = e2e.instance(first["id"])
    assert done["state"] == "awaiting_publication"
    [case] = e2e.instances(flow="inspection_follow_up")
    assert (case["state"], e2e.instance(case["id"])["context"]["department"]) == ("open", "WJJ")

    published = post(e2e, f"/inspections/{first['id']}/publish", {"reason": "结果已核"})
    assert published.status_code == 200, published.text
    record = e2e.get("/inspections/plans/2026-LS-01/publication")["records"]
    assert {(r["department_code"], r["result_code"], r["result"]) for r in record} == {
        ("SCJG", "no_problem", "未发现问题"),
        ("WJJ", "follow_up", "发现问题待后续处理"),
    }
    scjg = next(r for r in record if r["department_code"] == "SCJG")
    assert scjg["department"] == "青岛市崂山区市场监督管理局" and scjg["items"] == "药品经营"
    assert scjg["name"].startswith("崂山第") and scjg["check_type"] == "不定向抽查"
    assert scjg["task"] == f"2026-LS-01-{receipt['draw']}" and scjg["plan_name"] == "崂山区药店联合抽查"
    csv_text = e2e.http.get("/inspections/plans/2026-LS-01/publication", params={"format": "csv"}).text
    assert csv_text.splitlines()[0] == (
        "uscc,name,plan,plan_name,task,check_type,department_code,department,items,result_code,result,"
        "inspected_at,published_at"
    )
    # the object's directory row now holds this inspection: the next round's exclusion and recusal
    with e2e.stack.runtime.db.read() as session:
        row = session.get(InspectionObject, first["context"]["uscc"])
        assert row is not None
        assert (row.last_result, row.last_inspected_at) == (
            "follow_up",
            e2e.now().astimezone(SHANGHAI).date(),
        )
        assert sorted(row.last_inspectors) == sorted(o for v in officers.values() for o in v)


def test_a_late_publication_escalates_and_a_void_allows_a_new_draw(e2e: E2E) -> None:
    assert post(e2e, "/inspections/plans", plan()).status_code == 201
    first = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET}).json()
    e2e.stack.settle()
    one = e2e.instance(e2e.instances(flow="joint_inspection")[0]["id"])
    officers = one["context"]["officers"]
    result(e2e, one["id"], "SCJG", officers["SCJG"][0], "no_problem")
    result(e2e, one["id"], "WJJ", officers["WJJ"][0], "corrected")
    e2e.stack.settle()
    due = {t["name"]: t["due_at"] for t in e2e.instance(one["id"])["timers"] if t["status"] == "armed"}
    assert set(due) == {"publication_warning", "publication_deadline"}
    e2e.tick_to(datetime.fromisoformat(due["publication_deadline"]) + timedelta(minutes=1))
    kinds = [(d.kind, d.recipient) for d in e2e.deliveries(one["id"]) if d.kind != "inspection"]
    assert ("supervision", "PTB/supervisor") in kinds  # the level above the department: the district

    voided = post(e2e, f"/draws/{first['draw']}/void", {"reason": "公证员未到场"})
    assert voided.status_code == 200
    e2e.stack.settle()
    again = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET})
    assert again.status_code == 201
    # the same snapshot and secret: the same draw, on record twice (the first voided)
    assert again.json()["result_sha256"] == first["result_sha256"]
    assert e2e.get(f"/draws/{first['draw']}")["voided"]["reason"] == "公证员未到场"


def test_infeasible_plans_and_unknown_departments_are_refused_and_nothing_is_stored(e2e: E2E) -> None:
    before = e2e.counts()
    unknown = post(e2e, "/inspections/plans", plan(departments={"SCJG": [], "NOPE": []}))
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("departments.NOPE")
    greedy = post(e2e, "/inspections/plans", plan(quotas={"A": 50}, groups=4))
    assert greedy.status_code == 422
    detail = greedy.json()["detail"]
    assert "quotas.A: 50 to draw, but the stratum has 9 candidates" in detail
    assert "officers of WJJ: 6 active, but 4 groups × 2 need 8" in detail
    assert e2e.counts() == before


def test_a_replaced_officer_is_drawn_from_the_stream_recorded_and_verified(e2e: E2E) -> None:
    assert post(e2e, "/inspections/plans", plan()).status_code == 201
    drawn = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET}).json()
    e2e.stack.settle()
    sick = drawn["result"]["groups"][0][0]  # the first SCJG officer of group 0
    mine = [
        i["id"]
        for i in e2e.instances(flow="joint_inspection")
        if e2e.instance(i["id"])["context"]["group"] == 0
    ]

    before = e2e.counts()
    stranger = post(e2e, f"/draws/{drawn['draw']}/replacements", {"officer": "SCJG-999", "reason": "病假"})
    assert stranger.status_code == 422 and stranger.json()["detail"].startswith(
        "officer: SCJG-999 is in no group"
    )
    assert e2e.counts() == before and "replacements" not in e2e.get(f"/draws/{drawn['draw']}")

    made = post(e2e, f"/draws/{drawn['draw']}/replacements", {"officer": sick, "reason": "病假"})
    assert made.status_code == 201, made.text
    entry = made.json()
    into = entry["replacement"]
    assert (
        entry["officer"] == sick
        and entry["department"] == "SCJG"
        and sorted(entry["inspections"]) == sorted(mine)
    )
    assert entry["stream_from"] == drawn["result"]["stream_words"]
    e2e.stack.settle()
    for inspection in mine:
        ctx = e2e.instance(inspection)["context"]
        assert into in ctx["officers"]["SCJG"] and sick not in ctx["officers"]["SCJG"]
        assert into in {d.recipient for d in e2e.deliveries(inspection, kind="inspection")}
    exported = e2e.get(f"/draws/{drawn['draw']}")
    assert [r["replacement"] for r in exported["replacements"]] == [into]
    assert e2e.get(f"/draws/{drawn['draw']}/verify")["ok"] is True

    refused = result(e2e, mine[0], "SCJG", sick, "no_problem")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "data.officer"
    assert result(e2e, mine[0], "SCJG", into, "no_problem").status_code == 202


def test_an_exported_receipt_verifies_offline_and_a_tampered_one_says_what_differs(
    e2e: E2E, tmp_path: Path
) -> None:
    assert post(e2e, "/inspections/plans", plan()).status_code == 201
    drawn = post(e2e, "/inspections/plans/2026-LS-01/draw", {"revealed": SECRET}).json()
    e2e.stack.settle()
    post(
        e2e,
        f"/draws/{drawn['draw']}/replacements",
        {"officer": drawn["result"]["groups"][1][0], "reason": "回避"},
    )
    exported = e2e.get(f"/draws/{drawn['draw']}")
    assert len(exported["candidates"]["objects"]) == 27 and len(exported["replacements"]) == 1
    app = build_app(compose, PLUGINS)
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    ok = CliRunner().invoke(app, ["draw", "verify", str(good)])
    assert ok.exit_code == 0 and ok.output.startswith("ok: draw of plan 2026-LS-01 re-run, 6 objects"), (
        ok.output
    )

    exported["candidates"]["objects"][3][1] = "D" if exported["candidates"]["objects"][3][1] != "D" else "A"
    exported["replacements"][0]["replacement"] = "SCJG-007"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    failed = CliRunner().invoke(app, ["draw", "verify", str(bad)])
    assert failed.exit_code == 1
    assert "differs: snapshot.objects_sha256" in failed.output and "does not verify" in failed.output
    assert "differs: replacements[0]" in failed.output or "differs: result." in failed.output
