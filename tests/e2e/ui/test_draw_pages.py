"""The draw pages in a real browser: plans and draws listed, a draw receipt showing the candidates, the
exclusions, the groups and objects drawn and a replacement exactly as ``GET /draws/{id}`` has them, a
"verify again" that re-runs the draw, a voided draw marked, and no access for a scoped operator."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows.joint_inspection.test_inspection import SECRET, load, plan
from tests.e2e.ui.conftest import Ui


def drawn(ui: Ui) -> dict[str, Any]:
    """A plan of 28 objects (one excluded) drawn with the committed secret, one officer replaced."""
    e2e = ui.e2e
    load(e2e)
    assert e2e.http.post("/inspections/plans", json=plan(name="崂山区药店联合抽查")).status_code == 201
    response = e2e.http.post("/inspections/plans/2026-LS-01/draw", json={"revealed": SECRET})
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    e2e.stack.settle()
    sick = receipt["result"]["groups"][0][0]
    made = e2e.http.post(f"/draws/{receipt['draw']}/replacements", json={"officer": sick, "reason": "病假"})
    assert made.status_code == 201, made.text
    e2e.stack.settle()
    return receipt


def test_the_receipt_page_shows_the_apis_receipt_and_verifies_it_again(ui: Ui) -> None:
    draw = drawn(ui)["draw"]
    exported = ui.e2e.get(f"/draws/{draw}")
    page = ui.login()
    page.get_by_role("link", name="Draws").click()
    plan_section = page.locator('section[data-plan="2026-LS-01"]')
    expect(plan_section).to_contain_text("崂山区药店联合抽查")
    expect(plan_section.locator("tr[data-draw]")).to_have_count(1)
    plan_section.get_by_role("link", name=f"Draw #{draw}").click()
    expect(page).to_have_url(re.compile(f"/ui/draws/{draw}$"))

    # the groups drawn, officer by officer, and the objects with their class and group
    groups = page.locator("#groups tbody tr")
    expect(groups).to_have_count(len(exported["result"]["groups"]))
    shown = [
        row.locator(".officer").evaluate_all("os => os.map(o => o.dataset.officer)") for row in groups.all()
    ]
    assert shown == exported["result"]["groups"]
    objects = [
        [c.inner_text() for c in row.locator("td").all()] for row in page.locator("#objects tbody tr").all()
    ]
    assert [(o[0], o[2], int(o[3])) for o in objects] == [
        (o["uscc"], o["risk_class"], o["group"]) for o in exported["result"]["objects"]
    ]
    assert all(o[1].startswith("崂山第") for o in objects)  # names from the directory

    # the candidates and the exclusion, as frozen
    snapshot = exported["snapshot"]
    expect(page.locator("#candidate-objects")).to_have_text(str(snapshot["objects"]))
    expect(page.locator("#candidate-officers")).to_have_text(str(snapshot["officers"]))
    expect(page.locator("#excluded-count")).to_have_text(str(snapshot["excluded"]))
    excluded = page.locator("#excluded li").all_inner_texts()
    assert excluded == exported["candidates"]["excluded"] and len(excluded) == 1
    expect(page.locator("#seed")).to_have_text(exported["seed"])
    expect(page.locator("#result-sha")).to_have_text(exported["result_sha256"])

    # the replacement
    [replacement] = exported["replacements"]
    expect(page.locator("#replacements td.replacement")).to_have_text(replacement["replacement"])
    sick = page.locator(f'#groups [data-officer="{replacement["officer"]}"]')
    expect(sick).to_contain_text(f"replaced by {replacement['replacement']}")

    # verify again: by keyboard, the re-run agrees with the API's verification
    assert ui.e2e.get(f"/draws/{draw}/verify")["ok"] is True
    expect(page.locator("#verify-result")).to_have_count(0)
    button = page.get_by_role("button", name="Verify again")
    button.focus()
    button.press("Enter")
    page.wait_for_url(re.compile(r"verify=true"))
    expect(page.locator("#verify-result")).to_contain_text("Verified")

    # a drawn object's enterprise page: its inspection, and the risk class among its directory facts
    first = exported["result"]["objects"][0]
    page.locator("#objects").get_by_role("link", name=first["uscc"]).click()
    expect(page.locator('[data-fact="risk_class"] dd')).to_have_text(first["risk_class"])
    [inspection] = ui.e2e.instances(flow="joint_inspection", subject=first["uscc"])
    row = page.locator(f'table.cases[data-flow="joint_inspection"] tr[data-instance="{inspection["id"]}"]')
    expect(row.locator("td.state")).to_have_text(inspection["state"])


def test_a_voided_draw_is_marked_and_a_scoped_operator_is_refused(ui: Ui) -> None:
    draw = drawn(ui)["draw"]
    voided = ui.e2e.http.post(f"/draws/{draw}/void", json={"reason": "公证员未到场"})
    assert voided.status_code == 200
    ui.e2e.stack.settle()
    page = ui.login()
    page.goto(f"{ui.url}/ui/draws")
    expect(page.locator(f'tr[data-draw="{draw}"] .badge')).to_contain_text("voided")
    page.goto(f"{ui.url}/ui/draws/{draw}")
    expect(page.locator("#voided")).to_contain_text("公证员未到场")

    browser = page.context.browser
    assert browser is not None
    other = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        scoped = ui.login(ui.scoped, other.new_page())
        response = scoped.goto(f"{ui.url}/ui/draws/{draw}")
        assert response is not None and response.status == 403
        expect(scoped.get_by_role("alert")).to_contain_text("scoped to department WJJ")
        assert scoped.goto(f"{ui.url}/ui/draws") is not None
        expect(scoped.locator("tr[data-draw]")).to_have_count(0)
    finally:
        other.close()
