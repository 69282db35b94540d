"""The instance list in a real browser: each filter gives exactly the instances the JSON API gives, a
header click flips the sort (``aria-sort``), keyset pages of a small size visit every match once in
the chosen order (Next and Previous), the total count is right, a bad filter is a 422 naming the field
with nothing changed, and a department-scoped operator sees only their department's instances."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.e2e.flows.dual_notification.conftest import BAKERY, HOTEL, PHARMACY
from tests.e2e.flows.grid_check.conftest import DIRECTORY, load_directory
from tests.e2e.ui.conftest import Ui
from workflows.time.calendar import SHANGHAI

NAMES = {PHARMACY: "青岛崂山仁心大药房有限公司", HOTEL: "崂山海韵宾馆", BAKERY: "崂山麦香坊面包店"}


def district(ui: Ui, tmp_path: Path) -> None:
    """Three enterprises on two streets: a pharmacy (WJJ and SCJG_YP notices, WJJ claims at once), a
    hotel (an SCJG_YP notice) on JINJIALING, a bakery (an SCJG_SP notice); then 49 hours pass, so the
    unclaimed notices are overdue, and their grid checks are under way."""
    e2e = ui.e2e
    load_directory(e2e, tmp_path, DIRECTORY)
    e2e.license(PHARMACY, NAMES[PHARMACY], "药品零售；理发服务")
    e2e.license(HOTEL, NAMES[HOTEL], "药品零售", street="JINJIALING", grid="JJL-001")
    e2e.license(BAKERY, NAMES[BAKERY], "食品销售")
    e2e.stack.settle()
    e2e.claim(e2e.notice(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ")["id"], "WJJ-007")
    e2e.stack.settle()
    e2e.tick(49)


def listed(page: Page) -> list[int]:
    """The instance ids of the list page shown, in order."""
    page.wait_for_load_state()
    rows = page.locator("#instances tbody tr[data-instance]")
    return [int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.instance)")]


def open_list(ui: Ui, page: Page, **params: str) -> list[int]:
    page.goto(f"{ui.url}/ui/instances?{urlencode(params)}")
    ids = listed(page)
    expect(page.locator("#total")).to_have_text(str(len(ids)))  # all on one page: the total is theirs
    return ids


def api_ids(ui: Ui, **params: str) -> list[int]:
    return [i["id"] for i in ui.e2e.instances(**params)]


def walk(page: Page) -> list[int]:
    """Every page from the one shown, following Next."""
    seen = listed(page)
    while page.locator("#next-page").count():
        page.locator("#next-page").click()
        seen += listed(page)
    return seen


def due_order(items: list[dict[str, Any]]) -> list[int]:
    """The next-due sort by hand: by earliest armed timer (then id), those without one last by id."""
    timed = sorted((datetime.fromisoformat(i["next_due"]), i["id"]) for i in items if i["next_due"])
    return [i for _, i in timed] + sorted(i["id"] for i in items if not i["next_due"])


def test_each_filter_gives_exactly_the_apis_instances(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    page = ui.login()
    page.get_by_role("link", name="Instances", exact=True).click()
    everything = ui.e2e.instances()
    assert len(everything) >= 10
    assert sorted(listed(page)) == sorted(i["id"] for i in everything)
    expect(page.locator("#total")).to_have_text(str(len(everything)))

    # through the form: flow and state
    page.get_by_label("Flow").select_option("dual_notification")
    page.get_by_label("State").fill("awaiting_claim")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"flow=dual_notification&state=awaiting_claim"))
    expected = api_ids(ui, flow="dual_notification", state="awaiting_claim")
    assert len(expected) == 3 and listed(page) == sorted(expected)
    expect(page.locator("#total")).to_have_text("3")

    cases: list[tuple[dict[str, str], list[int]]] = [
        ({"flow": "grid_check"}, api_ids(ui, flow="grid_check")),
        ({"department": "WJJ"}, api_ids(ui, department="WJJ")),
        ({"department": "SCJG_YP"}, api_ids(ui, department="SCJG_YP")),
        ({"subject": HOTEL}, api_ids(ui, subject=HOTEL)),
        ({"overdue": "true"}, api_ids(ui, overdue="true")),
        ({"overdue": "false"}, api_ids(ui, overdue="false")),
        ({"street": "JINJIALING"}, [i["id"] for i in everything if i["street"] == "JINJIALING"]),
        ({"grid": "JJL-001"}, [i["id"] for i in everything if i["grid"] == "JJL-001"]),
        (
            {"flow": "dual_notification", "overdue": "true"},
            api_ids(ui, flow="dual_notification", overdue="true"),
        ),
    ]
    soon = min(datetime.fromisoformat(i["next_due"]) for i in everything if i["next_due"])
    local = (soon + timedelta(seconds=1)).astimezone(SHANGHAI).isoformat()
    cases.append(({"due_before": local}, api_ids(ui, due_before=local)))
    for params, ids in cases:
        assert ids, params  # each filter matches something, and not everything
        assert len(ids) < len(everything), params
        assert open_list(ui, page, **params) == sorted(ids), params

    # a due-before in Beijing time without an offset, typed in the form (minutes: the form's precision)
    latest = max(datetime.fromisoformat(i["next_due"]) for i in everything if i["next_due"])
    wall = (latest + timedelta(minutes=1)).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    page.goto(f"{ui.url}/ui/instances")
    page.get_by_label("Due before (Beijing time)").fill(wall.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"due_before="))
    expected = api_ids(ui, due_before=wall.isoformat())
    assert expected and listed(page) == sorted(expected)

    # the USCC or a part of the name (名称)
    by_name = [
        i["id"] for i in everything if NAMES[PHARMACY] == ui.e2e.instance(i["id"])["context"].get("name")
    ]
    assert by_name and open_list(ui, page, subject="仁心大药房") == sorted(by_name)
    assert open_list(ui, page, subject=PHARMACY) == sorted(api_ids(ui, subject=PHARMACY))
    prefix = sorted(i["id"] for i in everything if (i["subject"] or "").startswith(PHARMACY[:12]))
    assert open_list(ui, page, subject=PHARMACY[:12].lower()) == prefix
    assert open_list(ui, page, subject="没有这家企业") == []
    expect(page.locator("#no-matches")).to_be_visible()


def test_sorting_by_a_header_and_paging_visit_every_match_once(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    everything = ui.e2e.instances()
    ids = sorted(i["id"] for i in everything)
    page = ui.login()
    page.goto(f"{ui.url}/ui/instances?limit=3")
    expect(page.locator('th[data-sort="id"]')).to_have_attribute("aria-sort", "ascending")
    assert walk(page) == ids
    expect(page.locator("#total")).to_have_text(str(len(ids)))

    # Previous goes back to the very rows of the page before
    page.goto(f"{ui.url}/ui/instances?limit=3")
    first = listed(page)
    page.locator("#next-page").click()
    second = listed(page)
    page.locator("#next-page").click()
    page.locator("#prev-page").click()
    assert listed(page) == second
    page.locator("#prev-page").click()
    assert listed(page) == first
    expect(page.locator("#prev-page")).to_have_count(0)

    # a click on the # header flips the order
    page.locator('th[data-sort="id"] a').click()
    expect(page.locator('th[data-sort="id"]')).to_have_attribute("aria-sort", "descending")
    assert walk(page) == ids[::-1]

    # by next due, both ways, pages of 4
    page.goto(f"{ui.url}/ui/instances?limit=4")
    page.locator('th[data-sort="due"] a').click()
    expect(page.locator('th[data-sort="due"]')).to_have_attribute("aria-sort", "ascending")
    expect(page.locator('th[data-sort="id"]')).not_to_have_attribute("aria-sort", re.compile(".*"))
    by_due = due_order(everything)
    assert walk(page) == by_due
    page.locator('th[data-sort="due"] a').click()
    expect(page.locator('th[data-sort="due"]')).to_have_attribute("aria-sort", "descending")
    timed = [i for i in by_due if next(x for x in everything if x["id"] == i)["next_due"]]
    assert walk(page) == timed[::-1] + sorted(set(ids) - set(timed), reverse=True)

    # by flow, then state, created: pages of 2
    for key, field in (("flow", "flow"), ("state", "state"), ("created", "created_at")):
        page.goto(f"{ui.url}/ui/instances?limit=2&sort={key}&dir=desc")
        expect(page.locator(f'th[data-sort="{key}"]')).to_have_attribute("aria-sort", "descending")
        expected = sorted(everything, key=lambda i: (i[field], i["id"]), reverse=True)
        assert walk(page) == [i["id"] for i in expected], key

    # filters and sort together: the page's query keeps both
    page.goto(f"{ui.url}/ui/instances?limit=1&flow=dual_notification&sort=created&dir=asc")
    notices = sorted(ui.e2e.instances(flow="dual_notification"), key=lambda i: (i["created_at"], i["id"]))
    assert walk(page) == [i["id"] for i in notices]
    expect(page.locator("#total")).to_have_text(str(len(notices)))


def test_a_bad_filter_names_the_field_and_changes_nothing(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    before = ui.e2e.counts()
    page = ui.login()
    bad = [
        ({"sort": "password"}, "sort: 'password' is not a sortable column"),
        ({"dir": "up"}, "dir: 'up' is neither asc nor desc"),
        ({"due_before": "2026-13-45"}, "due_before: '2026-13-45' is not a date"),
        ({"due_before": "tomorrow"}, "due_before: 'tomorrow' is not a date"),
        ({"overdue": "maybe"}, "overdue: 'maybe' is not one of true, false"),
        ({"flow": "nosuchflow"}, "flow: 'nosuchflow' is not a flow of this engine"),
        ({"state": "nowhere"}, "state: 'nowhere' is not a state"),
        ({"department": "WJJ' OR 1=1"}, 'department: "WJJ\' OR 1=1" is not a code'),
        ({"after": "not-a-cursor"}, "cursor: 'not-a-cursor' is not a cursor of this list sorted by id"),
        ({"limit": "0"}, "limit"),
    ]
    for params, message in bad:
        with page.expect_response(lambda r: "/ui/instances" in r.url) as answer:
            page.goto(f"{ui.url}/ui/instances?{urlencode(params)}")
        assert answer.value.status == 422, params
        expect(page.get_by_role("alert")).to_contain_text(message)
    # a cursor of another sort is refused too
    page.goto(f"{ui.url}/ui/instances?limit=2&sort=created")
    after = page.locator("#next-page").get_attribute("href") or ""
    with page.expect_response(lambda r: "/ui/instances" in r.url) as answer:
        page.goto(ui.url + after.replace("sort=created", "sort=id"))
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("cursor:")
    assert ui.e2e.counts() == before


def test_a_scoped_operator_lists_only_their_departments_instances(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    with ui.e2e.api.client(ui.scoped) as scoped_api:
        theirs = sorted(i["id"] for i in scoped_api.get("/instances", params={"limit": 500}).json()["items"])
    everything = ui.e2e.instances()
    assert theirs and len(theirs) < len(everything)
    for item in theirs:
        assert ui.e2e.instance(item)["context"].get("department") == "WJJ"
    page = ui.login(ui.scoped)
    assert open_list(ui, page) == theirs
    expect(page.locator("#total")).to_have_text(str(len(theirs)))
    # another department's filter, or another enterprise's USCC, shows nothing of theirs
    assert open_list(ui, page, department="SCJG_YP") == []
    assert open_list(ui, page, subject=HOTEL) == []
    assert open_list(ui, page, overdue="true") == sorted(
        i for i in theirs if i in {x["id"] for x in ui.e2e.instances(overdue="true")}
    )
    expect(page.get_by_text("SCJG_YP")).to_have_count(0)
