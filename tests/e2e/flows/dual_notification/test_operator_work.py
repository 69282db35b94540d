"""An operator's view of the work and actions on it, through the HTTP API on both stacks: the open work
a person holds (``GET /tasks?person=``, ``yunshang tasks --person``), and operator actions retried
under one ``Idempotency-Key`` having one effect."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from tests.e2e.flows.dual_notification.conftest import E2E, PHARMACY
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.runtime import Runtime

NAME = "青岛崂山仁心大药房有限公司"
OFFICER = "药监科 李"


def pharmacy_notices(e2e: E2E) -> tuple[int, int]:
    e2e.license(PHARMACY, NAME, "药品零售；食品销售")
    e2e.stack.settle()
    notices = e2e.notices(PHARMACY)
    return notices[("DRUG_RETAIL", "SCJG_YP")]["id"], notices[("FOOD_BUSINESS", "SCJG_SP")]["id"]


def cli_tasks(e2e: E2E, *args: str) -> Any:
    made: list[Runtime] = []

    def composing(_: Any, **kwargs: Any) -> Runtime:  # the stack's own settings
        made.append(compose(e2e.stack.runtime.settings, **kwargs))
        return made[-1]

    try:
        done = CliRunner().invoke(build_app(composing, PLUGINS), ["tasks", *args, "--json"])
    finally:
        for runtime in made:
            runtime.close()
    assert done.exit_code == 0, done.output
    return json.loads(done.output[done.output.index("[") :])


def test_a_claimed_notice_is_the_open_work_of_the_person_who_claimed_it(e2e: E2E) -> None:
    drug, food = pharmacy_notices(e2e)
    assert e2e.get("/tasks", person=OFFICER)["items"] == []
    e2e.claim(drug, OFFICER)
    e2e.stack.settle()

    [held] = e2e.get("/tasks", person=OFFICER)["items"]
    assert (held["id"], held["state"], held["person"]) == (drug, "claimed", OFFICER)
    assert e2e.get("/tasks", person="食品科 赵")["items"] == []
    assert {i["id"]: i["person"] for i in e2e.get("/tasks", flow="dual_notification")["items"]} == {
        drug: OFFICER,
        food: None,
    }
    assert [i["id"] for i in cli_tasks(e2e, "--person", OFFICER)] == [drug]

    # returned by the department and re-routed to another one: nobody holds it any more
    e2e.emit("notice.returned", {"notice": drug, "reason": "not_our_item"}, source="/departments/app")
    e2e.stack.settle()
    rerouted = e2e.http.post(f"/instances/{drug}/reroute", json={"reason": "错派", "department": "SCJG_SP"})
    assert rerouted.status_code == 200, rerouted.text
    assert e2e.get("/tasks", person=OFFICER)["items"] == []
