"""Flow plug-ins' contracts with each other: declared warning timers, triggers sent through the
target flow's declaration and payload model (``TriggerRef``), refused when the target disagrees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from state_machines.base import Flow, State, Timer, TimerKind, Trigger, TriggerRef, transition
from state_machines.referrals import GRID_CHECK, REFER, REFER_TO_GRID_CHECK, Referral
from worker import PLUGINS
from workflows.plugins import FlowContractBroken, FlowPlugin, Registry


class Mismatch(BaseModel):
    pass


def grid_check(payload: type[BaseModel] | None) -> FlowPlugin:
    """A stand-in for the grid-check flow a later issue builds: it takes ``refer``."""
    flow = Flow(
        name=GRID_CHECK,
        version=1,
        initial="assigned",
        states=(State("assigned", timers=(Timer("acknowledge_reminder", "remind", kind="warning"),)),),
        triggers=(Trigger(REFER, payload), Trigger("remind")),
        transitions=(transition(REFER, "assigned", None), transition("remind", "assigned", None)),
    )
    return FlowPlugin(GRID_CHECK, (flow,))


#: the composition root's plug-ins but the real grid check, which the stand-in replaces
OTHERS = [p for p in PLUGINS if p.name != GRID_CHECK]


def test_warning_timers_are_the_declared_ones_not_a_name_suffix() -> None:
    assert Registry(PLUGINS).warning_timers == {
        ("dual_notification", "claim_warning"),
        ("grid_check", "first_check_warning"),
        ("grid_check", "enforcement_warning"),
        ("grid_check", "case_warning"),
        ("joint_inspection", "completion_warning"),
        ("joint_inspection", "publication_warning"),
    }
    registry = Registry([*OTHERS, grid_check(Referral)])
    assert ("grid_check", "acknowledge_reminder") in registry.warning_timers
    assert Timer("x_warning", "t").kind == TimerKind.deadline  # the name says nothing


def test_a_target_flow_that_takes_the_referral_model_is_accepted() -> None:
    registry = Registry([*OTHERS, grid_check(Referral)])
    assert set(registry.flows) >= {"dual_notification", "grid_check"}
    # the real grid check keeps both halves: it takes the referral, and it asks dual notification for
    # permits with the model dual notification declares
    real = Registry(PLUGINS)
    assert real.flows["grid_check"].trigger(REFER) is not None


@pytest.mark.parametrize(
    ("payload", "says"), [(None, "takes no payload"), (Mismatch, "takes a Mismatch payload")]
)
def test_a_target_flow_declaring_the_trigger_differently_is_refused(
    payload: type[BaseModel] | None, says: str
) -> None:
    with pytest.raises(FlowContractBroken) as caught:
        Registry([*OTHERS, grid_check(payload)])
    assert str(caught.value) == (
        "flow 'dual_notification' sends grid_check.refer with a Referral payload, but in flow "
        f"'grid_check' that trigger {says}: declare Trigger('refer', Referral) in grid_check"
    )


def test_a_trigger_ref_emits_only_its_own_payload_model() -> None:
    at = datetime(2026, 10, 1, 9, tzinfo=UTC)
    referral = Referral(uscc="91370212MA3QK7T84W", source="dual_notification", reason="x", referred_at=at)
    emit = REFER_TO_GRID_CHECK.emit(referral, business_key="k", start=True)
    assert (emit.target, emit.trigger, emit.business_key, emit.start) == ("grid_check", "refer", "k", True)
    assert Referral.model_validate(emit.payload) == referral
    with pytest.raises(TypeError, match=r"grid_check.refer takes a Referral payload, not Mismatch"):
        TriggerRef(GRID_CHECK, REFER, Referral).emit(Mismatch(), business_key="k")
