"""Flow plug-ins: the registry indexes what the plug-ins bring and refuses two claims of one name."""

from __future__ import annotations

import pytest

from state_machines import toy
from state_machines.base import Flow, State, Trigger, transition
from worker import PLUGINS
from workflows.flows import dual_notification
from workflows.plugins import FlowPlugin, PluginConflict, Registry
from workflows.plugins.events import EventData
from workflows.plugins.routes import EventRoute

OTHER = Flow(
    name="other",
    version=1,
    initial="new",
    states=(State("new"), State("done", final=True)),
    triggers=(Trigger("finish"),),
    transitions=(transition("finish", "new", "done"),),
)


def test_the_composition_roots_plugins_bring_their_flows_events_and_recipients() -> None:
    registry = Registry(PLUGINS)
    assert set(registry.flows) == {
        "toy",
        "license_registration",
        "dual_notification",
        "grid_check",
        "joint_inspection",
        "inspection_follow_up",
    }
    assert {"toy.submitted", "license.issued", "notice.claimed", "permit.issued"} <= set(registry.events)
    assert {"complaint.received", "grid.check.reported", "street.enforcement.reported"} <= set(
        registry.events
    )
    assert set(registry.recipients) == {
        "license_registration",
        "dual_notification",
        "grid_check",
        "joint_inspection",
        "inspection_follow_up",
    }
    # a license is routed by both plug-ins that subscribe to it, dual notification first
    assert [r.handle.__module__ for r in registry.routes["license.issued"]] == [
        "workflows.flows.dual_notification.routes",
        "workflows.flows.grid_check.routes",
        "workflows.flows.joint_inspection.routes",
    ]
    assert set(registry.explainers) == {"license.issued", "scope.changed"}
    # the demo is made of the parts of the plug-ins that bring one, in plug-in order
    assert [(name, factory.__name__) for name, factory in registry.demos.items()] == [
        ("dual_notification", "DualNotificationDemo"),
        ("grid_check", "GridCheckDemo"),
        ("joint_inspection", "JointInspectionDemo"),
    ]


def test_a_flow_claimed_by_two_plugins_refuses_to_start_naming_both() -> None:
    twin = FlowPlugin(name="twin", flows=(toy.FLOW,))
    with pytest.raises(PluginConflict, match="flow 'toy' is claimed by plug-in 'toy' and by plug-in 'twin'"):
        Registry([*PLUGINS, twin])


class OtherLicense(EventData):
    uscc: str


def test_an_event_type_two_plugins_declare_with_two_models_refuses_to_start_naming_both() -> None:
    route = dual_notification.PLUGIN.events[0]
    copycat = FlowPlugin(
        name="copycat", flows=(OTHER,), events=(EventRoute(route.event_type, OtherLicense, route.handle),)
    )
    with pytest.raises(
        PluginConflict,
        match=r"event type 'license\.issued' takes LicenseIssued in plug-in 'dual_notification' and "
        r"OtherLicense in plug-in 'copycat'",
    ):
        Registry([*PLUGINS, copycat])


def test_an_event_type_declared_twice_by_one_plugin_refuses_to_start() -> None:
    route = dual_notification.PLUGIN.events[0]
    twice = FlowPlugin(name="twice", flows=(OTHER,), events=(route, route))
    with pytest.raises(
        PluginConflict, match=r"event type 'license\.issued' is declared twice by plug-in 'twice'"
    ):
        Registry([twice])


def test_an_actor_name_claimed_twice_refuses_to_start() -> None:
    greedy = FlowPlugin(name="greedy", flows=(OTHER,), actors=("toy.advance",))
    with pytest.raises(
        PluginConflict, match=r"actor 'toy\.advance' is claimed by plug-in 'toy' and by plug-in"
    ):
        Registry([*PLUGINS, greedy])


def test_two_plugins_of_one_name_refuse_to_start() -> None:
    with pytest.raises(PluginConflict, match="plug-in 'toy' is claimed"):
        Registry([*PLUGINS, FlowPlugin(name="toy", flows=(OTHER,))])


def test_a_plugin_left_out_is_not_run() -> None:
    registry = Registry(
        [p for p in PLUGINS if p.name not in ("dual_notification", "grid_check", "joint_inspection")]
    )
    assert set(registry.flows) == {"toy"}
    assert "license.issued" not in registry.events
    without_notices = Registry([p for p in PLUGINS if p.name != "dual_notification"])
    assert [r.handle.__module__ for r in without_notices.routes["license.issued"]] == [
        "workflows.flows.grid_check.routes",
        "workflows.flows.joint_inspection.routes",
    ]
