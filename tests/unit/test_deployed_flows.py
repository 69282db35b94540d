"""``YUNSHANG_FLOWS``: a deployment runs the flow plug-ins it names, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from worker import PLUGINS, compose, deployed
from workflows.errors import BadInput
from workflows.settings import Settings


def test_unset_runs_every_plugin() -> None:
    assert deployed(Settings(flows="")) == PLUGINS


def test_named_plugins_only_in_the_composition_order() -> None:
    chosen = deployed(Settings(flows=" grid_check , dual_notification "))
    assert [plugin.name for plugin in chosen] == ["dual_notification", "grid_check"]
    assert Settings(flows="grid_check,dual_notification").flow_names == ("grid_check", "dual_notification")


def test_an_unknown_plugin_is_named_with_the_known_ones() -> None:
    with pytest.raises(BadInput) as caught:
        deployed(Settings(flows="dual_notification,grid_chek"))
    message = str(caught.value)
    assert "'grid_chek'" in message and "dual_notification" in message and "joint_inspection" in message


def test_a_malformed_list_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(flows="dual_notification;grid_check")
    assert "flows" in str(caught.value) and "dual_notification;grid_check" in str(caught.value)


def test_the_composed_runtime_routes_only_the_deployed_flows(tmp_path: Path) -> None:
    settings = Settings(flows="dual_notification", database_url=f"sqlite:///{tmp_path}/one.db")
    runtime = compose(settings)
    try:
        assert [plugin.name for plugin in runtime.registry.plugins] == ["dual_notification"]
        assert "grid_check" not in runtime.registry.flows and "joint_inspection" not in runtime.registry.flows
        assert "license.issued" in runtime.registry.routes
        assert "grid.check.reported" not in runtime.registry.routes  # the grid check's events: not routed
        assert [route.model for route in runtime.registry.routes["license.issued"]] == [
            runtime.registry.events["license.issued"].model
        ]  # one subscriber, where the full composition has three
    finally:
        runtime.close()
