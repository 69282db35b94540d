"""The rules screen in a real browser, both stacks: the active version as ``yunshang rules versions``
reports it, the lint report of a rejected edit with its file:line, the diff of two versions, the dry
run of a pasted event (the same text as ``yunshang rules explain``, nothing changed), a malformed event
refused naming its line and column, and a department-scoped operator refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from tests.e2e.flows.dual_notification.conftest import PHARMACY, cloudevent, license_data
from tests.e2e.ui.conftest import Ui
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.settings import RULES_DIR
from workflows.ui.session import csrf_token

CLI = build_app(compose, PLUGINS)
CLAIM = "      claim_deadline:"
BROKEN = "      claim_deadline: 48小时                # broken on purpose"
#: where the linter finds the broken line: deadlines.yaml, line 14, column 7
WHERE = "deadlines.yaml:14:7"
AT = "2026-12-03T10:00:00+08:00"


def cli(ui: Ui, *args: str, code: int = 0) -> str:
    """``yunshang …`` on the stack's database and simulated clock, as an operator runs it."""
    settings = ui.e2e.stack.runtime.settings
    env = {"YUNSHANG_DATABASE_URL": settings.database_url, "YUNSHANG_CLOCK": "simulated"}
    result = CliRunner().invoke(CLI, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def edit(folder: Path, start: str, line: str) -> None:
    path = folder / "deadlines.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    [hit] = [i for i, text in enumerate(lines) if text.startswith(start)]
    lines[hit] = line + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def three_versions(ui: Ui, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """v1 the shipped rules, v2 with a 72-hour claim, then a rejected edit (``48小时``); the CLI's
    ``rules versions --json`` afterwards."""
    folder = tmp_path / "rules-edit"
    folder.mkdir()
    for source in RULES_DIR.glob("*.yaml"):
        shutil.copy(source, folder / source.name)
    cli(ui, "rules", "reload", "--dir", str(folder), "--note", "first", "--author", "li.wei")
    edit(folder, CLAIM, "      claim_deadline: 72h")
    cli(ui, "rules", "reload", "--dir", str(folder), "--note", "claim in 72h", "--author", "zhang.min")
    edit(folder, CLAIM, BROKEN)
    rejected = cli(
        ui, "rules", "reload", "--dir", str(folder), "--note", "typo", "--author", "wang.fang", code=1
    )
    assert WHERE in rejected
    listing: dict[str, Any] = json.loads(cli(ui, "rules", "versions", "--json"))
    return listing, folder


def open_rules(ui: Ui) -> Page:
    page = ui.login()
    page.get_by_role("link", name="Rules", exact=True).click()
    expect(page).to_have_url(re.compile(r"/ui/rules$"))
    return page


def test_the_active_version_and_the_rejected_edits_lint_report(ui: Ui, tmp_path: Path) -> None:
    listing, folder = three_versions(ui, tmp_path)
    [active] = [v for v in listing["versions"] if v["status"] == "active"]
    assert (active["id"], active["author"]) == (2, "zhang.min")
    page = open_rules(ui)

    expect(page.locator('[data-fact="version"] dd')).to_have_text(active["version"])
    expect(page.locator('[data-fact="id"] dd')).to_have_text(f"#{active['id']}")
    expect(page.locator('[data-fact="hash"] dd')).to_have_text(active["content_hash"])
    expect(page.locator('[data-fact="author"] dd')).to_have_text("zhang.min")
    expect(page.locator('[data-fact="note"] dd')).to_have_text("claim in 72h")
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(len(listing["versions"]))
    for stored in listing["versions"]:
        row = page.locator(f'#versions tr[data-id="{stored["id"]}"]')
        expect(row).to_have_attribute("data-version", stored["version"])
        expect(row.locator("td.status")).to_have_text(stored["status"])
    # this stack's engine runs on the folder it started with (no follower): the shipped rules, stored
    # as #1; a case started now records that version (GET /instances/{id}), and the page says so
    ui.e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
    ui.e2e.stack.settle()
    [notice] = ui.e2e.instances(flow="dual_notification", subject=PHARMACY)
    recorded = ui.e2e.instance(notice["id"])["rules_version"]
    assert recorded == listing["versions"][0]["version"] != active["version"]
    page.reload()
    in_force = page.locator('[data-fact="in-force"] dd')
    expect(in_force).to_contain_text(recorded)
    expect(in_force).to_contain_text("not yet following the active version")

    # the rejected edit: its problem with file:line:column, who and when, and the active one stays
    section = page.locator("#last-rejection")
    expect(section).to_contain_text("wang.fang")
    expect(section).to_contain_text("The active version stays in force.")
    expect(section).to_contain_text(str(folder))
    problem = page.locator(f'#lint-report tr[data-where="{WHERE}"]')
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("deadline '48小时' is not a duration")
    expect(problem).to_contain_text("error")
    [rejected] = [v for v in listing["versions"] if v["status"] == "rejected"]
    page.get_by_text("The whole report").click()
    expect(page.locator("#lint-report-text")).to_have_text(rejected["lint_report"])


def test_the_diff_between_two_versions_shows_the_changed_line(ui: Ui, tmp_path: Path) -> None:
    three_versions(ui, tmp_path)
    page = ui.login()
    # an unknown version is named, with the control it came from
    page.goto(f"{ui.url}/ui/rules/diff?a=nope&b=2")
    expect(page.locator("#diff-error")).to_contain_text("From version (old): 'nope' is not a rule version")
    expect(page.get_by_label("From version")).to_have_attribute("aria-invalid", "true")
    # the rejected edit against the active version: the file diff, no rule-terms comparison
    page.goto(f"{ui.url}/ui/rules/diff?a=active&b=3")
    expect(page.locator('tr[data-kind="added"] td.text')).to_have_text(BROKEN)
    expect(page.locator("#rule-changes-unavailable")).to_contain_text("#3 ")
    expect(page.locator("#rule-changes-unavailable")).to_contain_text("was rejected")

    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_role("link", name="Diff 对比").click()
    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/ui/rules/diff\?a=1&b=2$"))

    # the change in rule terms, as `yunshang rules diff 1 2` prints it
    printed = cli(ui, "rules", "diff", "1", "2").strip()
    assert printed == "~ deadline dual_notification/awaiting_claim/claim_deadline: 48h → 72h"
    expect(page.locator("#rule-changes li")).to_have_text([printed])
    files = page.locator("section.rules-file")
    expect(files).to_have_count(1)
    expect(files.first).to_have_attribute("data-file", "deadlines.yaml")
    removed = files.locator('tr[data-kind="removed"]')
    added = files.locator('tr[data-kind="added"]')
    expect(removed).to_have_count(1)
    expect(added).to_have_count(1)
    expect(removed.locator("td.text")).to_have_text(re.compile(r"^\s+claim_deadline: 48h\s"))
    expect(added.locator("td.text")).to_have_text("      claim_deadline: 72h")
    # marked in text, not by colour alone: a sign, and words for a screen reader
    expect(removed.locator("td.sign")).to_have_text("−removed")
    expect(added.locator("td.sign")).to_have_text("+added")
    expect(removed.locator("td.num").first).to_have_text("14")
    expect(added.locator("td.num").nth(1)).to_have_text("14")
    expect(page.locator("#diff-summary")).to_contain_text("1 of 6 files changed")


def post_event(page: Page, text: str) -> None:
    page.get_by_label("Event (CloudEvent JSON)").fill(text)
    page.get_by_role("button", name="Explain (dry run)").click()


def test_explaining_an_event_shows_the_dry_run_and_changes_nothing(ui: Ui, tmp_path: Path) -> None:
    three_versions(ui, tmp_path)
    ui.e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
    ui.e2e.stack.settle()
    event = cloudevent(
        "license.issued",
        license_data(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售；理发服务", ui.e2e.now()),
        id="explain-1",
    )
    before = ui.e2e.counts()
    instances = ui.e2e.instances()

    page = open_rules(ui)
    page.get_by_role("link", name="Explain an event 试算").click()
    page.get_by_label("Counted from").fill(AT)
    expect(page.locator("#rules option:checked")).to_contain_text("the active version")
    post_event(page, json.dumps(event, ensure_ascii=False, indent=2))

    path = tmp_path / "event.json"
    path.write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
    printed = cli(ui, "rules", "explain", str(path), "--version", "active", "--at", AT)
    expect(page.locator("#explanation")).to_have_text(printed.rstrip("\n"))
    expect(page.locator("#explanation")).to_contain_text("72h")  # the active version's claim window
    assert ui.e2e.counts() == before
    assert ui.e2e.instances() == instances

    # an event type no plug-in explains: a clear error, nothing changed
    post_event(page, json.dumps({**event, "type": "licence.revoked"}, ensure_ascii=False))
    expect(page.locator("#explain-error")).to_contain_text(
        "explain reads license.issued and scope.changed events; this one is 'licence.revoked'"
    )
    expect(page.locator("#explanation")).to_have_count(0)
    assert ui.e2e.counts() == before


def test_malformed_json_is_refused_naming_line_and_column(ui: Ui, tmp_path: Path) -> None:
    ui.e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
    ui.e2e.stack.settle()
    before = ui.e2e.counts()
    page = ui.login()
    page.goto(f"{ui.url}/ui/rules/explain")
    text = '{\n  "specversion": "1.0",\n  "id": "x"\n  "type": "license.issued"\n}'
    post_event(page, text)
    error = page.locator("#explain-error")
    expect(error).to_contain_text("Event: not JSON at line 4, column 3: Expecting ',' delimiter")
    textarea = page.get_by_label("Event (CloudEvent JSON)")
    expect(textarea).to_have_attribute("aria-invalid", "true")
    expect(textarea).to_have_value(text)  # kept, to be corrected
    expect(page.locator("#explanation")).to_have_count(0)
    assert ui.e2e.counts() == before

    # a POST without the form's CSRF token is refused, and changes nothing either
    response = page.request.post(f"{ui.url}/ui/rules/explain", form={"event": "{}"})
    assert response.status == 403
    assert ui.e2e.counts() == before


def test_a_department_scoped_operator_is_refused(ui: Ui, tmp_path: Path) -> None:
    three_versions(ui, tmp_path)
    page = ui.login(ui.scoped)
    expect(page.get_by_role("link", name="Rules", exact=True)).to_have_count(0)
    for path in ("/ui/rules", "/ui/rules/diff?a=1&b=2", "/ui/rules/explain"):
        response = page.goto(ui.url + path)
        assert response is not None and response.status == 403
        expect(page.locator("p.error")).to_contain_text("scoped to department WJJ")
        expect(page.locator("#versions, #diff, #explain-form")).to_have_count(0)
    before = ui.e2e.counts()
    form: dict[str, str | float | bool] = {
        "event": json.dumps({"type": "license.issued"}),
        "csrf": csrf_token(ui.scoped),
    }
    refused = page.request.post(f"{ui.url}/ui/rules/explain", form=form)
    assert refused.status == 403
    assert "scoped to department WJJ" in refused.text()
    assert ui.e2e.counts() == before
