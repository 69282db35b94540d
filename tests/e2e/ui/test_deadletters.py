"""The dead letters screen in a real browser: a real dead letter (a toy decision for a case that did not
exist yet, retried until it died) with its error, traceback, actor, queue and instance; requeued one
or many with a reason, which the JSON API and the page then show; a blank reason, no choice, a
missing or wrong CSRF token and a department-scoped operator are refused with nothing requeued."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.ui.conftest import Ui
from tests.support import wait_until
from workflows.engine.commands import Cause
from workflows.ui.session import csrf_token


def submit(ui: Ui, case: str) -> int:
    """A toy case submitted through the intake; its instance id."""
    body = ui.e2e.emit("toy.submitted", {"case": case}, id=f"submit-{case}", source="/t")
    return int(body["instances"][0])


def dead_letter(ui: Ui, case: str) -> dict[str, Any]:
    """A decision for toy case ``case`` before the case exists: retried until it is dead-lettered."""
    rt = ui.e2e.stack.runtime
    before = len(ui.e2e.get("/deadletters"))
    with rt.transaction() as session:
        rt.engine.enqueue(
            session,
            rt.engine.command(
                "toy",
                "decide",
                cause=Cause(kind="event", id=f"decide-{case}"),
                dedupe_key=f"decide-{case}",
                payload={"decision": "approve"},
                business_key=case,
            ),
        )
    wait_until(lambda: len(ui.e2e.get("/deadletters")) == before + 1, what=f"the dead letter of {case}")
    found: dict[str, Any] = ui.e2e.get("/deadletters")[-1]
    assert f"no toy instance with business key {case!r}" in found["error"]
    return found


def waiting_ids(ui: Ui) -> set[int]:
    return {d["id"] for d in ui.e2e.get("/deadletters")}


def audited(ui: Ui) -> dict[int, dict[str, Any]]:
    return {d["id"]: d for d in ui.e2e.get("/deadletters", include_requeued="true")}


def test_requeue_one_dead_letter_with_a_reason_from_the_page(ui: Ui) -> None:
    dead = dead_letter(ui, "later")
    iid = submit(ui, "later")  # the case arrives: the decision can now be applied
    page = ui.login()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dead letters").click()
    expect(page).to_have_url(re.compile(r"/ui/deadletters$"))
    row = page.locator(f'#dead-letters tr[data-dead="{dead["id"]}"]')
    expect(row.locator(".actor")).to_have_text("toy.advance")
    expect(row.locator(".queue")).to_have_text("toy")
    expect(row.locator(".instance a")).to_have_text(f"#{iid}")
    expect(row.locator(".instance a")).to_have_attribute("href", f"/ui/instances/{iid}")
    expect(row.locator(".error-line")).to_contain_text("no toy instance with business key 'later'")
    traceback = row.locator("pre.traceback")
    expect(traceback).to_be_hidden()
    row.get_by_text("Traceback and message").click()
    expect(traceback).to_be_visible()
    expect(traceback).to_contain_text("Traceback")
    expect(row.locator("pre.message")).to_contain_text('"business_key": "later"')

    page.get_by_label("Reason").fill("the case arrived 案件已到")
    page.get_by_role("button", name=f"Requeue dead letter #{dead['id']}").click()
    expect(page).to_have_url(re.compile(r"include_requeued=true"))
    expect(page.locator("#requeued-notice")).to_have_text(f"Requeued #{dead['id']}.")
    expect(row.locator(".requeued-by")).to_have_text("requeued by ui-operator")
    expect(row.locator(".requeue-reason")).to_have_text("the case arrived 案件已到")

    ui.e2e.stack.settle()
    assert waiting_ids(ui) == set()
    mine = audited(ui)[dead["id"]]
    assert (mine["requeued_by"], mine["requeue_reason"]) == ("ui-operator", "the case arrived 案件已到")
    assert ui.e2e.instance(iid)["state"] == "decided"  # the requeued decision was applied


def test_requeue_many_with_checkboxes(ui: Ui) -> None:
    letters = [dead_letter(ui, f"many-{n}") for n in range(3)]
    ids = [submit(ui, f"many-{n}") for n in range(3)]
    page = ui.login()
    page.goto(ui.url + "/ui/deadletters")
    expect(page.locator("#dead-letters tbody tr[data-dead]")).to_have_count(3)
    for chosen in letters[:2]:
        page.get_by_label(f"Select dead letter #{chosen['id']}").check()
    page.get_by_label("Reason").fill("retry after the fix")
    page.get_by_role("button", name="Requeue selected").click()
    expect(page.locator("#requeued-notice")).to_have_text(
        f"Requeued #{letters[0]['id']}, #{letters[1]['id']}."
    )
    for chosen in letters[:2]:
        expect(page.locator(f'tr[data-dead="{chosen["id"]}"] .requeue-reason')).to_have_text(
            "retry after the fix"
        )
    # the third one's message stays unfinished (dead): wait for the two decisions, not for all
    decided = lambda: [ui.e2e.instance(i)["state"] for i in ids[:2]] == ["decided"] * 2  # noqa: E731
    wait_until(decided, what="the two requeued decisions")
    found = audited(ui)
    assert [found[d["id"]].get("requeue_reason") for d in letters[:2]] == ["retry after the fix"] * 2
    assert all(found[d["id"]]["requeued_by"] == "ui-operator" for d in letters[:2])
    assert "requeued_by" not in found[letters[2]["id"]]  # the third is untouched
    assert waiting_ids(ui) == {letters[2]["id"]}
    states = [ui.e2e.instance(i)["state"] for i in ids]
    assert states == ["decided", "decided", "awaiting_review"]


def test_a_blank_reason_or_no_choice_is_refused_and_nothing_is_requeued(ui: Ui) -> None:
    dead = dead_letter(ui, "blank")
    page = ui.login()
    page.goto(ui.url + "/ui/deadletters")
    page.get_by_label(f"Select dead letter #{dead['id']}").check()
    page.get_by_label("Reason").fill("   ")
    with page.expect_response(lambda r: r.url.endswith("/ui/deadletters/requeue")) as sent:
        page.get_by_role("button", name="Requeue selected").click()
    assert sent.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("reason: say why")
    expect(page.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(f"Select dead letter #{dead['id']}")).to_be_checked()  # the choice is kept
    assert waiting_ids(ui) == {dead["id"]}
    assert "requeued_by" not in audited(ui)[dead["id"]]

    page.get_by_label(f"Select dead letter #{dead['id']}").uncheck()
    page.get_by_label("Reason").fill("a reason but no choice")
    with page.expect_response(lambda r: r.url.endswith("/ui/deadletters/requeue")) as sent:
        page.get_by_role("button", name="Requeue selected").click()
    assert sent.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("dead: choose the dead letters")
    assert waiting_ids(ui) == {dead["id"]}


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(ui: Ui) -> None:
    dead = dead_letter(ui, "csrf")
    page = ui.login()
    url = ui.url + "/ui/deadletters/requeue"
    forms: list[dict[str, str | float | bool]] = [
        {"dead": str(dead["id"]), "reason": "forged"},
        {"dead": str(dead["id"]), "reason": "forged", "csrf": "0" * 64},
        {"dead": str(dead["id"]), "reason": "forged", "csrf": csrf_token(ui.scoped)},  # another session's
    ]
    for form in forms:
        answer = page.request.post(url, form=form, max_redirects=0)
        assert answer.status == 403, form
        assert "CSRF token is missing or wrong" in answer.text()
    assert waiting_ids(ui) == {dead["id"]}
    assert "requeued_by" not in audited(ui)[dead["id"]]
    # the same request with the session's own token goes through (the case exists by then, so the
    # requeued decision applies: a message that died again would be recorded dead anew)
    submit(ui, "csrf")
    ok = page.request.post(
        url,
        form={"dead": str(dead["id"]), "reason": "real", "csrf": csrf_token(ui.operator)},
        max_redirects=0,
    )
    assert ok.status == 303
    assert audited(ui)[dead["id"]]["requeue_reason"] == "real"


def test_a_scoped_operator_is_refused(ui: Ui) -> None:
    dead = dead_letter(ui, "scoped")
    page = ui.login(ui.scoped)
    response = page.goto(ui.url + "/ui/deadletters")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("scoped to department WJJ")
    expect(page.locator("#dead-letters")).to_have_count(0)
    answer = page.request.post(
        ui.url + "/ui/deadletters/requeue",
        form={"dead": str(dead["id"]), "reason": "mine", "csrf": csrf_token(ui.scoped)},
        max_redirects=0,
    )
    assert answer.status == 403
    assert "scoped to department WJJ" in answer.text()
    assert waiting_ids(ui) == {dead["id"]}
