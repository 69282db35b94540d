"""Every time a person reads in the CLI is in one zone: Asia/Shanghai, with its offset."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from tests.support import Stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app

STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def test_show_tasks_and_status_print_every_time_in_asia_shanghai(stack: Stack) -> None:
    iid = stack.start_toy("zone-1")  # armed: a review deadline two hours on
    stack.settle()
    env = {"YUNSHANG_DATABASE_URL": stack.runtime.settings.database_url, "YUNSHANG_CLOCK": "simulated"}
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    printed = ""
    for command in (["show", str(iid)], ["tasks"], ["status"], ["clock", "show"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 0, (command, result.output)
        printed += result.output
    zones = [m.group(1) for m in STAMP.finditer(printed)]
    assert len(zones) >= 4, printed  # history, timer, task due, next due, clock
    assert set(zones) == {"+08:00"}, printed
