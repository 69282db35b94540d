"""The overview in a real browser: instances per flow × state equal ``GET /status``, the red and yellow
cards (红黄牌) by department, street and escalation level equal what the JSON API's instances say,
today's pushes and the pipeline equal the deliveries and ``/status``; after more events the page shows
the new numbers without a reload (htmx polls ``/ui/overview/counts``); a click on a count opens the
filtered list; an expired session's poll goes to the login; a scoped operator sees their department's."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.ui.conftest import Ui
from tests.e2e.ui.test_instances import district, listed
from workflows import uscc
from workflows.queries.overview import today_bounds

LEVELS = ("supervision", "overdue", "warning")
FRESH = uscc.make("92370212MA3R2FRX3")  # licensed during the test


def level(context: dict[str, Any]) -> str:
    kinds = {e.get("kind") for e in context.get("escalations") or []}
    return next((k for k in LEVELS if k in kinds), "none")


def yellow(ui: Ui, detail: dict[str, Any], now: datetime) -> bool:
    """Open, not overdue, and a warning passed or a deadline falls due within 24 hours, by hand."""
    warnings = ui.e2e.stack.runtime.registry.warning_timers
    warned = due_soon = False
    for t in detail["timers"]:
        due = datetime.fromisoformat(t["due_at"])
        is_warning = (detail["flow"], t["name"]) in warnings
        passed = (t["status"] == "armed" and due < now) or (
            t["status"] == "fired" and t["state"] == detail["state"]
        )
        warned |= is_warning and passed
        due_soon |= not is_warning and t["status"] == "armed" and now <= due < now + timedelta(hours=24)
    return detail["closed_at"] is None and (warned or due_soon)


def expected(ui: Ui, api: httpx.Client) -> dict[str, Any]:
    """Every figure of the overview, from the JSON API (``api``: the operator's client)."""
    now = ui.e2e.now()
    items = api.get("/instances", params={"limit": 500}).json()["items"]
    overdue = {
        i["id"] for i in api.get("/instances", params={"limit": 500, "overdue": "true"}).json()["items"]
    }
    states = Counter((i["flow"], i["state"]) for i in items)
    cards: dict[str, dict[str, Counter[str]]] = {
        c: {d: Counter() for d in ("department", "street", "level")} for c in ("red", "yellow")
    }
    for item in items:
        detail = api.get(f"/instances/{item['id']}").json()
        colour = "red" if item["id"] in overdue else "yellow" if yellow(ui, detail, now) else None
        if colour is None:
            continue
        ctx = detail["context"]
        cards[colour]["department"][ctx.get("department") or "—"] += 1
        cards[colour]["street"][ctx.get("street") or "—"] += 1
        cards[colour]["level"][level(ctx)] += 1
    start, end = today_bounds(now)
    ids = {i["id"] for i in items}
    pushes = [
        d
        for d in ui.e2e.deliveries()
        if d.sent_at is not None and start <= d.sent_at < end and d.instance_id in ids
    ]
    by = {
        dim: {
            key: (cards["red"][dim][key], cards["yellow"][dim][key])
            for key in cards["red"][dim] | cards["yellow"][dim]
        }
        for dim in ("department", "street", "level")
    }
    return {
        "states": dict(states),
        "red": len(overdue & ids),
        "yellow": sum(cards["yellow"]["level"].values()),
        "pushes": len(pushes),
        "by": by,
    }


def shown(page: Page) -> dict[str, Any]:
    """The same figures as the page shows them."""
    rows = page.locator("#flow-states tbody tr[data-flow]")
    states = rows.evaluate_all(
        "rs => rs.map(r => [r.dataset.flow, r.dataset.state, +r.querySelector('a').textContent])"
    )
    by = {}
    for dim in ("department", "street", "level"):
        found = page.locator(f"#cards-by-{dim} tbody tr[data-key]").evaluate_all(
            "rs => rs.map(r => [r.dataset.key, +r.querySelector('[data-color=red]').textContent,"
            " +r.querySelector('[data-color=yellow]').textContent])"
        )
        by[dim] = {key: (red, yel) for key, red, yel in found}

    def count(card: str) -> int:
        return int(page.locator(f"#{card} [data-count]").text_content() or "-1")

    return {
        "states": {(f, s): n for f, s, n in states},
        "red": count("red-total"),
        "yellow": count("yellow-total"),
        "pushes": count("pushes-today"),
        "by": by,
    }


def pipeline(page: Page) -> dict[str, float]:
    figures = {
        c: page.locator(f"#{c} [data-count]").text_content() or "" for c in ("dead-letters", "queue-depth")
    }
    unsent = page.locator("#outbox-lag .muted").text_content() or ""
    return {
        "dead_letters": int(figures["dead-letters"]),
        "queue_depth": int(figures["queue-depth"]),
        "outbox_unsent": int(unsent.split()[0]),
    }


def test_the_overview_equals_the_api_and_refreshes_without_a_reload(ui: Ui, tmp_path: Any) -> None:
    district(ui, tmp_path)
    page = ui.login()
    api = ui.e2e.http
    first = expected(ui, api)
    assert first["red"] >= 2 and first["pushes"] >= 3  # figures worth comparing
    assert shown(page) == first
    status = api.get("/status").json()
    assert {(f, s): n for f, by in status["instances"].items() for s, n in by.items()} == first["states"]
    rec = status["reconciliation"]
    assert pipeline(page) == {
        "dead_letters": status["dead_letters"],
        "queue_depth": rec["outbox_unfinished"]["count"],
        "outbox_unsent": rec["outbox_unsent"]["count"],
    }
    expect(page.locator("#dead-letters a")).to_have_attribute("href", "/ui/deadletters")
    assert page.locator("#overview-counts").get_attribute("hx-trigger") == "every 5s"

    # more events: a new enterprise's license, and a day passes; the page catches up by itself
    page.evaluate("window.notReloaded = true")
    ui.e2e.license(FRESH, "崂山新开业餐饮店", "餐饮服务；理发服务")
    ui.e2e.stack.settle()
    ui.e2e.tick(25)
    second = expected(ui, api)
    assert second["states"] != first["states"]
    # the new notices are yellow (their claim deadline within 24 hours); the yellow total need not
    # grow: meanwhile earlier instances may turn red, the grid checks' working-day deadlines by the
    # weekday the test runs on (from a Friday evening's start it stayed at 3)
    now = ui.e2e.now()
    fresh = api.get("/instances", params={"limit": 500, "subject": FRESH}).json()["items"]
    notices = [api.get(f"/instances/{i['id']}").json() for i in fresh if i["flow"] == "dual_notification"]
    assert len(notices) == 2
    assert all(yellow(ui, detail, now) for detail in notices)
    assert second["yellow"] >= len(notices)
    deadline = time.monotonic() + 20
    while shown(page) != second and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert shown(page) == second
    assert page.evaluate("window.notReloaded") is True


def test_a_flow_state_count_opens_the_list_of_exactly_those_instances(ui: Ui, tmp_path: Any) -> None:
    district(ui, tmp_path)
    page = ui.login()
    for flow, state in (("dual_notification", "awaiting_claim"), ("grid_check", None)):
        page.goto(ui.url + "/ui/")
        row = page.locator(f'#flow-states tr[data-flow="{flow}"]').first
        state = state or row.get_attribute("data-state")
        link = page.locator(f'#flow-states tr[data-flow="{flow}"][data-state="{state}"] a')
        n = int(link.text_content() or "0")
        link.click()
        expect(page).to_have_url(re.compile(rf"/ui/instances\?flow={flow}&state={state}$"))
        ids = [i["id"] for i in ui.e2e.instances(flow=flow, state=state)]
        assert n == len(ids) >= 1
        assert listed(page) == sorted(ids)
        expect(page.locator("#total")).to_have_text(str(n))
        expect(page.get_by_label("Flow")).to_have_value(flow)
        expect(page.get_by_label("State")).to_have_value(state or "")


def test_a_red_card_count_opens_the_overdue_list_of_its_department_or_street(ui: Ui, tmp_path: Any) -> None:
    district(ui, tmp_path)
    page = ui.login()
    for dim, key in (("department", "SCJG_YP"), ("street", "JINJIALING")):
        page.goto(ui.url + "/ui/")
        link = page.locator(f'#cards-by-{dim} tr[data-key="{key}"] [data-color="red"] a')
        n = int(link.text_content() or "0")
        link.click()
        expect(page).to_have_url(re.compile(rf"/ui/instances\?{dim}={key}&overdue=true$"))
        overdue = ui.e2e.instances(overdue="true")
        ids = sorted(i["id"] for i in overdue if i[dim] == key)
        assert n == len(ids) >= 1
        assert listed(page) == ids


def test_an_expired_session_sends_the_polling_page_to_the_login(ui: Ui, tmp_path: Any) -> None:
    page = ui.login()
    # the fragment itself, without a session: 401 with HX-Redirect (not a redirect htmx would follow)
    answer = httpx.get(
        ui.url + "/ui/overview/counts",
        headers={"HX-Request": "true", "HX-Current-URL": ui.url + "/ui/"},
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/ui/login?next=/ui/"
    page.context.clear_cookies()
    page.wait_for_url(re.compile(r"/ui/login\?next=/ui/$"), timeout=15_000)
    page.get_by_label("Operator token").fill(ui.operator)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/ui/$"))
    expect(page.locator("#red-total")).to_be_visible()


def test_a_scoped_operator_sees_only_their_departments_figures(ui: Ui, tmp_path: Any) -> None:
    district(ui, tmp_path)
    page = ui.login(ui.scoped)
    with ui.e2e.api.client(ui.scoped) as api:
        theirs = expected(ui, api)
    district_wide = expected(ui, ui.e2e.http)
    assert shown(page) == theirs
    assert theirs["states"] != district_wide["states"]
    assert set(theirs["by"]["department"]) <= {"WJJ"}
    assert sum(theirs["states"].values()) < sum(district_wide["states"].values())
    for card in ("dead-letters", "queue-depth", "outbox-lag"):
        expect(page.locator(f"#{card}")).to_have_count(0)
    expect(page.locator("#counts-at")).to_contain_text("department WJJ only")
    expect(page.get_by_text("SCJG_YP")).to_have_count(0)
