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


def reroute(e2e: E2E, notice: int, key: str | bytes | None, department: str = "SCJG_SP") -> Any:
    raw = key.encode() if isinstance(key, str) else key
    headers = [(b"Idempotency-Key", raw)] if raw is not None else []
    return e2e.http.post(
        f"/instances/{notice}/reroute", json={"reason": "改派", "department": department}, headers=headers
    )


def test_a_reroute_retried_under_one_idempotency_key_pushes_the_notice_once(e2e: E2E) -> None:
    drug, food = pharmacy_notices(e2e)
    first, again = reroute(e2e, drug, "reroute-drug-1"), reroute(e2e, drug, "reroute-drug-1")
    assert (first.status_code, first.json()) == (200, {"status": "applied", "state": "awaiting_claim"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate", "state": "awaiting_claim"})
    e2e.stack.settle()
    assert len(e2e.deliveries(drug, kind="notice")) == 2  # the first push and the one re-route
    assert [h.trigger for h in e2e.stack.history(drug)].count("reroute") == 1
    [row] = [h for h in e2e.stack.history(drug) if h.trigger == "reroute"]
    assert row.dedupe_key == f"operator:{drug}:reroute:reroute-drug-1"

    # the key names one action on one instance: the same key cancels another notice
    cancel = e2e.http.post(
        f"/instances/{food}/cancel", json={"reason": "重复"}, headers={"Idempotency-Key": "reroute-drug-1"}
    )
    assert cancel.json() == {"status": "applied", "state": "cancelled"}
    # a rejected action retried is rejected again, and recorded once
    refused = [reroute(e2e, food, "reroute-food") for _ in range(2)]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(409, "rejected")] * 2
    assert [(h.trigger, h.outcome) for h in e2e.stack.history(food)][-1:] == [("reroute", "rejected")]
    assert [h.trigger for h in e2e.stack.history(food)].count("reroute") == 1

    # without the header every request is an action of its own, as before
    assert [reroute(e2e, drug, None).json()["status"] for _ in range(2)] == ["applied", "applied"]
    # a key of 200 characters is taken; the dedupe key stays within the history's column
    assert reroute(e2e, drug, "k" * 200).json()["status"] == "applied"
    assert reroute(e2e, drug, "k" * 200).json()["status"] == "duplicate"
    assert max(len(h.dedupe_key) for h in e2e.stack.history(drug)) <= 250
    e2e.stack.settle()
    assert len(e2e.deliveries(drug, kind="notice")) == 5

    before = e2e.counts()
    for bad in ("", "k" * 201, "caf\xe9".encode("latin-1"), b"tab\there"):
        refused_key = reroute(e2e, drug, bad)
        assert refused_key.status_code == 422, bad
        assert refused_key.json()["code"] == "bad_input"
        assert refused_key.json()["detail"].startswith("Idempotency-Key"), refused_key.json()
    assert e2e.counts() == before


def test_a_route_retried_under_one_idempotency_key_answers_as_a_duplicate(e2e: E2E) -> None:
    e2e.license(PHARMACY, "青岛崂山康健医疗器械有限公司", "医疗器械经营；食品销售")
    e2e.stack.settle()
    [registration] = e2e.instances(flow="license_registration", subject=PHARMACY)
    body = {"permit_items": ["MEDICAL_DEVICE_III"], "reason": "三类医疗器械"}
    headers = {"Idempotency-Key": "route-1"}
    first = e2e.http.post(f"/instances/{registration['id']}/route", json=body, headers=headers)
    assert first.json() == {"status": "applied", "state": "notified"}
    e2e.stack.settle()
    before = e2e.counts()
    again = e2e.http.post(f"/instances/{registration['id']}/route", json=body, headers=headers)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate", "state": "notified"})
    e2e.stack.settle()
    assert e2e.counts() == before
    assert len(e2e.notices(PHARMACY)) == 3


def test_every_operator_action_documents_the_idempotency_key_header(e2e: E2E) -> None:
    paths = e2e.get("/openapi.json")["paths"]
    for action in ("cancel", "reroute", "route"):
        parameters = paths[f"/instances/{{instance_id}}/{action}"]["post"]["parameters"]
        [header] = [p for p in parameters if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("Idempotency-Key", False)
        assert "retry" in header["description"]


def cli_tasks_text(e2e: E2E, *args: str) -> str:
    made: list[Runtime] = []

    def composing(_: Any, **kwargs: Any) -> Runtime:
        made.append(compose(e2e.stack.runtime.settings, **kwargs))
        return made[-1]

    try:
        done = CliRunner().invoke(build_app(composing, PLUGINS), ["tasks", *args])
    finally:
        for runtime in made:
            runtime.close()
    assert done.exit_code == 0, done.output
    return str(done.output)


def test_tasks_says_when_its_list_is_cut_and_how_many_there_are(e2e: E2E) -> None:
    pharmacy_notices(e2e)
    total = len(cli_tasks(e2e, "--limit", "500"))
    assert total >= 3  # the registration and its two notices
    cut = cli_tasks_text(e2e, "--limit", "2")
    assert (
        cut.splitlines()[-1]
        == f"... 2 of {total} open tasks shown; see more with --limit {total} (or --json)"
    )
    whole = cli_tasks_text(e2e, "--limit", str(total))
    assert "open tasks shown" not in whole
    assert len(whole.strip().splitlines()) == total
