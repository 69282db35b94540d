"""``yunshang tokens create|list``: a source token is bound to the CloudEvents sources it posts as."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.intake import tokens
from workflows.store.db import Database


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YUNSHANG_DATABASE_URL": f"sqlite:///{tmp_path}/tokens.db", "YUNSHANG_API_TOKENS": "[]"}


def test_a_source_token_needs_its_source_and_posts_only_as_it(env: dict[str, str]) -> None:
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    unbound = runner.invoke(app, ["tokens", "create", "reg", "--event-type", "license.issued"], env=env)
    assert unbound.exit_code == 1
    assert "needs at least one --source" in unbound.output
    made = runner.invoke(
        app,
        ["tokens", "create", "reg", "--event-type", "license.issued", "--source", "/registration/370212"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    listed = runner.invoke(app, ["tokens", "list"], env=env)
    assert "as /registration/370212" in listed.output
    # the stored token verifies as a principal bound to that source only
    db = Database(env["YUNSHANG_DATABASE_URL"])
    try:
        principal = tokens.verify(db, token)
    finally:
        db.dispose()
    assert principal is not None
    assert principal.may_post_as("/registration/370212") and not principal.may_post_as("/hotline/12345")


def test_an_operator_token_may_be_scoped_to_a_department(env: dict[str, str]) -> None:
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    refused = runner.invoke(
        app,
        ["tokens", "create", "src", "--event-type", "*", "--source", "/s", "--department", "WJJ"],
        env=env,
    )
    assert refused.exit_code == 1
    assert "only an operator token is scoped to a department" in refused.output
    made = runner.invoke(
        app, ["tokens", "create", "wjj", "--kind", "operator", "--department", "WJJ"], env=env
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    listed = runner.invoke(app, ["tokens", "list"], env=env)
    assert "department WJJ" in listed.output
    assert "src" not in listed.output  # the refused one was not stored
    db = Database(env["YUNSHANG_DATABASE_URL"])
    try:
        principal = tokens.verify(db, token)
    finally:
        db.dispose()
    assert principal is not None and principal.department == "WJJ" and principal.operator
