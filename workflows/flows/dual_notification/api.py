"""The dual-notification endpoints: an operator's routing of a license registration, the re-routing of a
returned notice, and the scorecard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from workflows.api.actions import IdempotencyKey, act
from workflows.api.deps import Operator, RuntimeDep
from workflows.api.models import ActionBody
from workflows.api.ops import InstanceId
from workflows.flows.dual_notification.routes import manual_route
from workflows.flows.dual_notification.scorecard_view import scorecard_between
from workflows.queries.instances import instance_detail


class RerouteBody(ActionBody):
    department: str = Field(
        min_length=1, max_length=100, description="department code to route the notice to"
    )


class RouteBody(ActionBody):
    permit_items: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        max_length=50,
        description="permit item codes (rules/permit_routing.yaml) the enterprise needs; empty: none",
    )


def router() -> APIRouter:
    """The plug-in's router (built when the app is)."""
    router = APIRouter()

    @router.post("/instances/{instance_id}/reroute", tags=["operations"])
    def post_reroute(
        instance_id: InstanceId,
        body: RerouteBody,
        runtime: RuntimeDep,
        who: Operator,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        """Re-route a returned or unroutable notice to a department (audited)."""
        payload = {"department": body.department}
        return act(runtime, instance_id, "reroute", payload, who, body.reason, idempotency_key)

    @router.post("/instances/{instance_id}/route", tags=["operations"])
    def post_route(
        instance_id: InstanceId,
        body: RouteBody,
        runtime: RuntimeDep,
        who: Operator,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        """Route a license registration whose business scope needed a person (`routing_failed`): each
        permit item chosen gets a notice per department, pushed at once; none chosen records that no
        permit is needed (audited). 409 when the registration is not waiting for routing."""
        instance_detail(runtime.db, instance_id)  # 404 when there is no such instance

        def payload() -> dict[str, Any]:  # not planned again for a retry
            with runtime.db.read() as session:
                return manual_route(session, runtime.engine, instance_id, body.permit_items)

        return act(runtime, instance_id, "route", payload, who, body.reason, idempotency_key)

    @router.get("/scorecard", tags=["queries"])
    def get_scorecard(
        runtime: RuntimeDep,
        _: Operator,
        start: Annotated[
            str | None, Query(description="first day (YYYY-MM-DD, Asia/Shanghai) or aware time")
        ] = None,
        end: Annotated[str | None, Query(description="last day (inclusive) or aware time")] = None,
    ) -> dict[str, Any]:
        """Dual notification per department and overall: notices, claimed within 48 h, overdue now,
        permit-processing rate, average working days from license to permit."""
        return scorecard_between(runtime, start, end).as_json()

    return router
