"""``yunshang emit`` against a running API: what an accepted event started, and a refused token named
with where it came from and how to get a good one (a new user's first two stumbles)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.e2e.api.conftest import Api
from worker import PLUGINS, compose
from workflows.cli.app import build_app


def _emit(api: Api, tmp_path: Path, token: str | None, dev_token: str | None = None) -> tuple[int, str]:
    event = {
        "specversion": "1.0",
        "id": "cli-1",
        "source": "/s",
        "type": "toy.submitted",
        "data": {"case": "c1"},
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    env = {"YUNSHANG_API_URL": api.url, "YUNSHANG_DEV_TOKEN_FILE": str(tmp_path / "dev-token")}
    if token is not None:
        env["YUNSHANG_API_TOKEN"] = token
    if dev_token is not None:
        (tmp_path / "dev-token").write_text(dev_token + "\n", encoding="utf-8")
    result = CliRunner().invoke(build_app(compose, PLUGINS), ["emit", str(path)], env=env)
    return result.exit_code, result.output


def test_emit_shows_what_the_event_started(api: Api, tmp_path: Path) -> None:
    code, output = _emit(api, tmp_path, api.admin)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("/s#cli-1 toy.submitted: accepted → started")
    assert lines[1].startswith("  → #") and "toy awaiting_review c1" in lines[1]


def test_a_refused_token_names_where_it_came_from_and_how_to_get_one(api: Api, tmp_path: Path) -> None:
    code, output = _emit(api, tmp_path, None, dev_token="ys_dev_from_an_old_demo")
    assert code == 1
    assert "401: unknown or revoked token" in output
    assert "the token sent (ys_dev_f…) came from" in output and "dev-token (the development token" in output
    assert "Set YUNSHANG_API_TOKEN" in output and "yunshang tokens create NAME --kind source" in output
