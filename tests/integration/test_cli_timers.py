"""``yunshang timers suspend|resume`` and ``show``: a suspended clock printed with its budget."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.support import Stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app


def test_suspend_show_and_resume_from_the_cli(stack: Stack) -> None:
    iid = stack.start_toy("cli-clock")
    env = {"YUNSHANG_DATABASE_URL": stack.runtime.settings.database_url, "YUNSHANG_CLOCK": "simulated"}
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    refused = runner.invoke(app, ["timers", "resume", str(iid), "--reason", "r"], env=env)
    assert refused.exit_code == 1 and "timer: timer review_deadline" in refused.output
    held = runner.invoke(
        app, ["timers", "suspend", str(iid), "--reason", "延期", "--operator", "li.wei"], env=env
    )
    assert held.exit_code == 0, held.output
    assert f"#{iid} review_deadline suspended with " in held.output and " left (was due " in held.output
    shown = runner.invoke(app, ["show", str(iid)], env=env).output
    assert "timer review_deadline" in shown and "suspended since" in shown and "left (was due" in shown
    assert "timer_suspended" in shown and "li.wei" in shown
    back = runner.invoke(app, ["timers", "resume", str(iid), "--reason", "done"], env=env)
    assert back.exit_code == 0 and "resumed with " in back.output and ": due " in back.output
