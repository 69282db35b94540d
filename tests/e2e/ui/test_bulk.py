"""The bulk actions screen in a real browser: a dry run freezes exactly the matching instances, the
confirmation acts on that set once (instances that arrive after the dry run are untouched, one closed
meanwhile is skipped, a second apply is refused with 409), each affected instance's history names the
operator and the reason, an instance the action does not apply to is skipped and reported; a blank
reason, a missing CSRF token and a department-scoped operator are refused with nothing changed."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.flows.dual_notification.conftest import PHARMACY, cloudevent
from tests.e2e.ui.conftest import Ui
from tests.e2e.ui.test_deadletters import dead_letter, submit
from workflows.store.models import BulkSelection
from workflows.ui.session import csrf_token

REASON = "重复登记 duplicate registrations"


def dry_run(page: Page, ui: Ui, action: str, reason: str = REASON, **filters: str) -> Page:
    """Fill the bulk form and run the dry run (``filters``: the form's labels → values)."""
    page.goto(ui.url + "/ui/bulk")
    page.get_by_label("Action").select_option(action)
    for label, value in filters.items():
        field = page.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Dry run").click()
    return page


def selections(ui: Ui) -> list[BulkSelection]:
    with ui.e2e.stack.runtime.db.read() as session:
        return list(session.execute(select(BulkSelection).order_by(BulkSelection.id)).scalars())


def operator_entries(ui: Ui, iid: int) -> list[dict[str, Any]]:
    return [h for h in ui.e2e.instance(iid)["history"] if h["cause"]["kind"] == "operator"]


def test_the_apply_acts_on_exactly_the_frozen_set_once(ui: Ui) -> None:
    frozen = [submit(ui, f"frozen-{n}") for n in range(4)]
    page = ui.login()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bulk actions").click()
    dry_run(page, ui, "cancel", Flow="toy", State="awaiting_review")
    expect(page).to_have_url(re.compile(r"/ui/bulk/\d+$"))
    expect(page.locator("#bulk-count")).to_have_text("4")
    links = page.locator("#bulk-sample a")
    expect(links).to_have_count(4)
    assert [links.nth(i).get_attribute("href") for i in range(4)] == [f"/ui/instances/{i}" for i in frozen]
    (row,) = selections(ui)
    assert (row.action, row.instance_ids, row.count, row.created_by) == ("cancel", frozen, 4, "ui-operator")
    assert row.filter == {"flow": "toy", "state": "awaiting_review"}
    assert row.applied_at is None
    assert all(ui.e2e.instance(i)["state"] == "awaiting_review" for i in frozen)  # a dry run changes nothing

    # after the dry run: two new matching cases arrive, one frozen case is cancelled by someone else
    later = [submit(ui, f"later-{n}") for n in range(2)]
    closed = frozen[1]
    answer = ui.e2e.http.post(f"/instances/{closed}/cancel", json={"reason": "closed meanwhile"})
    assert answer.status_code == 200, answer.text
    second = ui.login(page=page.context.new_page())
    second.goto(page.url)  # the same confirmation, open in a second tab

    page.get_by_role("button", name="Apply cancel to these 4 instances").click()
    expect(page.locator("#applied-count")).to_have_text("3")
    expect(page.locator("#skipped-count")).to_have_text("1")
    expect(page.locator("#bulk-items tbody tr")).to_have_count(4)
    expect(page.locator(f'#bulk-items tr[data-instance="{closed}"]')).to_have_attribute(
        "data-status", "skipped"
    )
    expect(page.locator(f'#bulk-items tr[data-instance="{closed}"]')).to_contain_text("closed (cancelled)")
    expect(page.locator("#applied-by")).to_contain_text("ui-operator")
    ui.e2e.stack.settle()
    for iid in frozen:
        assert ui.e2e.instance(iid)["state"] == "cancelled"
        if iid != closed:
            (entry,) = operator_entries(ui, iid)
            assert (entry["trigger"], entry["cause"]["operator"], entry["reason"]) == (
                "cancel",
                "ui-operator",
                REASON,
            )
    assert [h["reason"] for h in operator_entries(ui, closed)] == ["closed meanwhile"]  # not cancelled twice
    for iid in later:
        assert ui.e2e.instance(iid)["state"] == "awaiting_review"
        assert operator_entries(ui, iid) == []
    (row,) = selections(ui)
    assert row.applied_by == "ui-operator" and row.result is not None
    assert (row.result["applied"], row.result["skipped"]) == (3, 1)

    # the second tab's confirmation is refused: nothing is done twice
    before = ui.e2e.counts()
    with second.expect_response(lambda r: r.url.endswith("/apply")) as sent:
        second.get_by_role("button", name="Apply cancel to these 4 instances").click()
    assert sent.value.status == 409
    expect(second.get_by_role("alert")).to_contain_text("applied already")
    assert ui.e2e.counts() == before
    assert all(ui.e2e.instance(i)["state"] == "awaiting_review" for i in later)


def test_reroute_skips_the_instances_whose_flow_offers_no_reroute(ui: Ui) -> None:
    ui.e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
    ui.e2e.stack.settle()
    every = ui.e2e.instances(subject=PHARMACY)
    notices = [i["id"] for i in every if i["flow"] == "dual_notification"]
    others = [i["id"] for i in every if i["flow"] != "dual_notification"]
    assert notices and others
    page = ui.login()
    reason = "misrouted: 卫健委 handles it"
    with page.expect_response(lambda r: r.url.endswith("/ui/bulk/dry-run")) as sent:
        dry_run(page, ui, "reroute", reason, **{"Enterprise USCC": PHARMACY})
    assert sent.value.status == 422  # a re-route needs its target department
    expect(page.get_by_role("alert")).to_contain_text("to_department: give the department code")
    assert selections(ui) == []
    page.get_by_label("Re-route to department").fill("WJJ")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#bulk-count")).to_have_text(str(len(every)))
    page.get_by_role("button", name=f"Apply reroute to these {len(every)} instances").click()
    expect(page.locator("#applied-count")).to_have_text(str(len(notices)))
    expect(page.locator("#skipped-count")).to_have_text(str(len(others)))
    for iid in others:
        flow = next(i["flow"] for i in every if i["id"] == iid)
        expect(page.locator(f'#bulk-items tr[data-instance="{iid}"]')).to_contain_text(
            f"the flow {flow} has no reroute trigger"
        )
        assert operator_entries(ui, iid) == []
    ui.e2e.stack.settle()
    for iid in notices:
        detail = ui.e2e.instance(iid)
        assert (detail["state"], detail["context"]["department"]) == ("awaiting_claim", "WJJ")
        (entry,) = operator_entries(ui, iid)
        assert (entry["trigger"], entry["cause"]["operator"], entry["reason"]) == (
            "reroute",
            "ui-operator",
            reason,
        )


def test_requeue_and_recompute_over_a_filter(ui: Ui) -> None:
    dead = dead_letter(ui, "stuck")
    stuck, fine = submit(ui, "stuck"), submit(ui, "fine")
    page = ui.login()
    dry_run(page, ui, "requeue", "the case arrived", Flow="toy")
    expect(page.locator("#bulk-count")).to_have_text("2")
    page.get_by_role("button", name="Apply requeue to these 2 instances").click()
    expect(page.locator("#applied-count")).to_have_text("1")
    expect(page.locator(f'#bulk-items tr[data-instance="{stuck}"]')).to_contain_text(
        f"requeued dead letter #{dead['id']}"
    )
    expect(page.locator(f'#bulk-items tr[data-instance="{fine}"]')).to_contain_text("no dead letter")
    ui.e2e.stack.settle()
    assert ui.e2e.instance(stuck)["state"] == "decided"  # the requeued decision was applied
    (entry,) = operator_entries(ui, stuck)
    assert (entry["trigger"], entry["cause"]["operator"], entry["reason"]) == (
        "dead_letters_requeued",
        "ui-operator",
        "the case arrived",
    )
    (audit,) = ui.e2e.get("/deadletters", include_requeued="true")
    assert (audit["requeued_by"], audit["requeue_reason"]) == ("ui-operator", "the case arrived")

    # the rules did not change: recomputing moves no deadline, and says so per instance
    due = [t["due_at"] for t in ui.e2e.instance(fine)["timers"]]
    dry_run(page, ui, "recompute", "check the deadlines", Flow="toy", State="awaiting_review")
    expect(page.locator("#bulk-count")).to_have_text("1")
    page.get_by_role("button", name="Apply recompute to these 1 instances").click()
    expect(page.locator(f'#bulk-items tr[data-instance="{fine}"]')).to_contain_text(
        "where the rules in force put them"
    )
    assert [t["due_at"] for t in ui.e2e.instance(fine)["timers"]] == due
    assert operator_entries(ui, fine) == []


def test_a_large_selection_shows_a_sample_and_is_applied_in_chunks(ui: Ui) -> None:
    events = [
        cloudevent("toy.submitted", {"case": f"big-{n}"}, id=f"big-{n}", source="/t") for n in range(120)
    ]
    sent = ui.e2e.http.post(
        "/events", content=json.dumps(events), headers={"content-type": "application/cloudevents-batch+json"}
    )
    assert sent.status_code == 202, sent.text
    ids = sorted(i["id"] for i in ui.e2e.instances(flow="toy"))
    assert len(ids) == 120
    page = ui.login()
    page.goto(ui.url + "/ui/bulk?action=cancel&flow=toy&state=awaiting_review")  # a link fills the form in
    expect(page.get_by_label("Flow", exact=True)).to_have_value("toy")
    expect(page.get_by_label("State", exact=True)).to_have_value("awaiting_review")
    page.get_by_label("Reason").fill("a big clean-up")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#bulk-count")).to_have_text("120")
    expect(page.get_by_role("heading", name="The first 20")).to_be_visible()
    links = page.locator("#bulk-sample a")
    expect(links).to_have_count(20)
    assert [links.nth(i).get_attribute("href") for i in range(20)] == [f"/ui/instances/{i}" for i in ids[:20]]
    page.get_by_role("button", name="Apply cancel to these 120 instances").click()
    expect(page.locator("#applied-count")).to_have_text("120")
    expect(page.locator("#skipped-count")).to_have_text("0")
    expect(page.locator("#bulk-chunks")).to_have_text("(in 2 chunks of up to 100)")
    expect(page.locator("#bulk-items tbody tr[data-status=applied]")).to_have_count(120)
    assert len(ui.e2e.instances(flow="toy", state="cancelled")) == 120


def test_a_blank_reason_is_refused_at_the_dry_run_and_at_the_apply(ui: Ui) -> None:
    ids = [submit(ui, f"blank-{n}") for n in range(2)]
    page = ui.login()
    before = ui.e2e.counts()
    with page.expect_response(lambda r: r.url.endswith("/ui/bulk/dry-run")) as sent:
        dry_run(page, ui, "cancel", "   ", Flow="toy")
    assert sent.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("reason: say why")
    expect(page.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Flow", exact=True)).to_have_value("toy")  # the form keeps what was given
    assert ui.e2e.counts() == before  # no selection, nothing else

    dry_run(page, ui, "cancel", Flow="toy")
    expect(page.locator("#bulk-count")).to_have_text("2")
    before = ui.e2e.counts()
    page.get_by_label("Reason").fill("  ")
    with page.expect_response(lambda r: r.url.endswith("/apply")) as sent:
        page.get_by_role("button", name="Apply cancel to these 2 instances").click()
    assert sent.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("reason: say why")
    assert ui.e2e.counts() == before
    assert selections(ui)[-1].applied_at is None
    assert [ui.e2e.instance(i)["state"] for i in ids] == ["awaiting_review"] * 2


def test_a_post_without_or_with_a_wrong_csrf_token_changes_nothing(ui: Ui) -> None:
    submit(ui, "csrf")
    page = ui.login()
    dry_run(page, ui, "cancel", Flow="toy")
    expect(page.locator("#bulk-count")).to_have_text("1")
    (row,) = selections(ui)
    before = ui.e2e.counts()
    forms: list[dict[str, str | float | bool]] = [
        {"reason": "forged"},
        {"reason": "forged", "csrf": "f" * 64},
    ]
    for form in forms:
        answer = page.request.post(f"{ui.url}/ui/bulk/{row.id}/apply", form=form, max_redirects=0)
        assert answer.status == 403
        assert "CSRF token is missing or wrong" in answer.text()
        forged = page.request.post(
            f"{ui.url}/ui/bulk/dry-run", form={**form, "action": "cancel"}, max_redirects=0
        )
        assert forged.status == 403
    assert ui.e2e.counts() == before
    assert selections(ui)[0].applied_at is None


def test_a_scoped_operator_is_refused_on_both_screens(ui: Ui) -> None:
    iid = submit(ui, "scoped")
    page = ui.login(ui.scoped)
    for path in ("/ui/bulk", "/ui/deadletters"):
        response = page.goto(ui.url + path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("scoped to department WJJ")
    before = ui.e2e.counts()
    token = csrf_token(ui.scoped)
    made = page.request.post(
        f"{ui.url}/ui/bulk/dry-run",
        form={"csrf": token, "action": "cancel", "flow": "toy", "reason": "mine"},
        max_redirects=0,
    )
    assert made.status == 403
    assert ui.e2e.counts() == before
    assert ui.e2e.instance(iid)["state"] == "awaiting_review"


def test_an_interrupted_apply_is_offered_for_resuming_and_finishes_the_rest(ui: Ui) -> None:
    from datetime import timedelta

    from workflows.queries.bulk import STALE, claim, selection
    from workflows.queries.bulk_apply import _Action

    rt = ui.e2e.stack.runtime
    ids = [submit(ui, f"resume-{n}") for n in range(3)]
    page = ui.login()
    dry_run(page, ui, "cancel", Flow="toy", State="awaiting_review")
    (row,) = selections(ui)
    chosen, _ = claim(rt.db, rt.clock, row.id, "crashed-operator")  # its process dies after one instance
    _Action(rt, chosen, "crashed-operator", REASON).chunk(ids[:1])
    page.reload()
    expect(page.locator("#bulk-running")).to_contain_text("reload for the result")
    expect(page.get_by_role("button", name=re.compile("^Resume"))).to_have_count(0)
    ui.e2e.stack.clock.advance(STALE + timedelta(minutes=1))
    page.reload()
    expect(page.locator("#bulk-running")).to_contain_text("the apply was interrupted")
    page.get_by_label(re.compile("Reason .* for finishing it")).fill("finishing the crashed apply")
    page.get_by_role("button", name="Resume cancel on the rest of these 3 instances").click()
    expect(page.locator("#applied-count")).to_have_text("2")
    expect(page.locator("#skipped-count")).to_have_text("1")
    expect(page.locator(f"#bulk-items tr[data-instance='{ids[0]}']")).to_contain_text("already done")
    finished = selection(rt.db, row.id).result
    assert chosen.applied_at is not None and finished is not None
    assert finished["resumed_from"] == chosen.applied_at.isoformat()
    assert len(ui.e2e.instances(flow="toy", state="cancelled")) == 3
    expect(page.get_by_role("button", name=re.compile("^Resume"))).to_have_count(0)
