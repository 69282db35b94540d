"""``yunshang emit`` of a license shows everything it started: the registration, its notices, the grid
information check."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.e2e.flows.dual_notification.conftest import PHARMACY, cloudevent, license_data
from tests.e2e.flows.grid_check.conftest import Grid
from worker import PLUGINS, compose
from workflows.cli.app import build_app


def test_emit_of_a_license_lists_the_instances_it_started(grid: Grid, tmp_path: Path) -> None:
    api = grid.e2e.api
    data = license_data(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售;食品销售", grid.e2e.now())
    path = tmp_path / "license.json"
    path.write_text(json.dumps(cloudevent("license.issued", data, id="lic-cli")), encoding="utf-8")
    env = {"YUNSHANG_API_URL": api.url, "YUNSHANG_API_TOKEN": api.admin}
    result = CliRunner().invoke(build_app(compose, PLUGINS), ["emit", str(path)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("license.issued: accepted → matched, assigned, listed []")
    started = lines[1:]
    assert any(f"license_registration notified {PHARMACY}" in line and "→ #" in line for line in started)
    assert any(f"grid_check assigned {PHARMACY}:info_check" in line for line in started)
    notices = [line for line in started if "dual_notification awaiting_claim" in line]
    assert len(notices) == 2 and all(line.lstrip().startswith("↳ #") for line in notices)
    # its history reads in the order it happened (by sequence, not by a timestamp two rows share)
    [registration] = grid.e2e.instances(flow="license_registration")
    history = grid.e2e.instance(registration["id"])["history"]
    assert [h["trigger"] for h in history] == ["start", "register"]
    assert [h["id"] for h in history] == sorted(h["id"] for h in history)
