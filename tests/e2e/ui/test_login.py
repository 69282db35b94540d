"""Logging in with an operator token; a bad token is refused; the session cookie's attributes."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.ui.conftest import Ui


def test_a_page_without_a_session_goes_to_the_login_and_back(ui: Ui) -> None:
    page = ui.page
    page.goto(ui.url + "/ui/?flow=dual_notification")
    expect(page).to_have_url(re.compile(r"/ui/login\?next=/ui/%3Fflow%3Ddual_notification"))
    page.get_by_label("Operator token").fill(ui.operator)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/ui/\?flow=dual_notification$"))
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["yunshang_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""  # no script can read it


def test_a_bad_token_is_refused_and_sets_no_session(ui: Ui) -> None:
    page = ui.page
    page.goto(ui.url + "/ui/login")
    page.get_by_label("Operator token").fill("ys_not-a-token-at-all-000")
    with page.expect_response(lambda r: r.url.endswith("/ui/login") and r.request.method == "POST") as sent:
        page.get_by_role("button", name="Log in").click()
    assert sent.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("unknown or revoked token")
    assert all(c["name"] != "yunshang_session" for c in page.context.cookies())
    page.goto(ui.url + "/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login"))


def test_a_source_token_is_not_an_operator(ui: Ui) -> None:
    page = ui.page
    page.goto(ui.url + "/ui/login")
    page.get_by_label("Operator token").fill(ui.e2e.api.source)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("is not an operator token")
    assert all(c["name"] != "yunshang_session" for c in page.context.cookies())


def test_logout_ends_the_session(ui: Ui) -> None:
    page = ui.login()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.goto(ui.url + "/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login"))


def test_the_navigation_shows_a_scoped_operator_only_the_pages_it_may_open(ui: Ui) -> None:
    district_only = ["Dead letters", "Bulk actions", "Rules", "Grid scorecard", "Draws"]
    everywhere = ["Overview", "Instances", "Enterprises", "Scorecard", "Notice scorecard", "Grid tasks"]
    page = ui.login()
    nav = page.get_by_role("navigation", name="Main")
    for label in district_only + everywhere:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    scoped = ui.login(ui.scoped)
    nav = scoped.get_by_role("navigation", name="Main")
    for label in everywhere:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in district_only:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    scoped.goto(ui.url + "/ui/scorecard")
    expect(scoped.get_by_role("link", name="Grid scorecard")).to_have_count(0)
    expect(scoped.get_by_role("main").get_by_role("link", name="Notice scorecard")).to_be_visible()
