"""The dashboard in a real browser: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright for
Python, against the real app under uvicorn on both stacks, with the default rules and every plug-in.

``ui`` gives the running stack (``ui.e2e``: post events, tick the clock, query the JSON API), a
district operator's and a department-scoped operator's tokens, and ``ui.page``: a fresh browser page.
Each test's last screen is saved as ``test-artifacts/ui/<test>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.e2e.flows.dual_notification.conftest import E2E, e2e_stack
from workflows.intake import tokens

CHROMIUM = os.environ.get("YUNSHANG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `apt-get install chromium fonts-noto-cjk` (.ci/run does)")
    found = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
    yield found
    found.close()


@dataclass
class Ui:
    e2e: E2E
    page: Page
    #: a district-wide operator token
    operator: str
    #: an operator token scoped to department ``scoped_department``
    scoped: str
    scoped_department: str = "WJJ"

    @property
    def url(self) -> str:
        return self.e2e.api.url

    def login(self, token: str | None = None, page: Page | None = None) -> Page:
        """Log in through the form; returns the page, on the overview."""
        page = page or self.page
        page.goto(self.url + "/ui/login")
        page.get_by_label("Operator token").fill(token or self.operator)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/ui/($|\?)"))
        return page


@pytest.fixture
def ui(stack_kind: str, tmp_path: Path, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Ui]:
    with e2e_stack(stack_kind, tmp_path) as e2e:
        rt = e2e.stack.runtime
        operator = tokens.create(rt.db, rt.clock, "ui-operator", "operator")
        scoped = tokens.create(rt.db, rt.clock, "ui-wjj", "operator", department="WJJ")
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1360, "height": 900}
        )
        page = context.new_page()
        try:
            yield Ui(e2e, page, operator, scoped)
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            finally:
                context.close()
