"""``yunshang --version``, and ``--host`` / ``--port`` of the serving commands over the environment."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.cli.common import listen


def test_version_is_printed() -> None:
    result = CliRunner().invoke(build_app(compose, PLUGINS), ["--version"])
    assert (result.exit_code, result.output.strip()) == (0, f"yunshang {version('yunshang')}")


def test_host_and_port_options_override_the_environment_only_when_given() -> None:
    assert listen("0.0.0.0", 9001) == {"api_host": "0.0.0.0", "api_port": 9001}
    assert listen(None, None) == {}  # YUNSHANG_API_HOST / YUNSHANG_API_PORT apply
    app = build_app(compose, PLUGINS)
    for command in ("serve", "api", "demo"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--host" in text and "--port" in text and "YUNSHANG_API_PORT" in text, command
    bad = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert bad.exit_code == 2 and "65535" in bad.output
