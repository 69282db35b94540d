"""A department-scoped operator token sees and acts on only its department's work through the JSON
API; every route that does not limit itself to a department refuses it (deny by default)."""

from __future__ import annotations

from tests.e2e.api.test_operators import PUBLIC
from tests.e2e.flows.dual_notification.conftest import E2E, HOTEL, PHARMACY
from workflows.api.app import create_app
from workflows.intake import tokens

#: the routes that limit themselves to the caller's department (``ScopedOperator``)
SCOPED_ROUTES = {
    ("GET", "/instances"),
    ("GET", "/instances/{instance_id}"),
    ("GET", "/tasks"),
    ("POST", "/instances/{instance_id}/cancel"),
    ("POST", "/instances/{instance_id}/suspend"),
    ("POST", "/instances/{instance_id}/resume"),
}


def _licensed(e2e: E2E) -> tuple[dict[str, object], dict[str, object]]:
    e2e.license(HOTEL, "青岛崂山海韵宾馆有限公司", "住宿服务")  # WJJ and GAFJ
    e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")  # market supervision
    e2e.stack.settle()
    ours = e2e.notice(HOTEL, "PUBLIC_PLACE_HYGIENE", "WJJ")
    theirs = e2e.notice(HOTEL, "HOTEL_SPECIAL_TRADE", "GAFJ")
    return ours, theirs


def test_a_scoped_operator_sees_only_its_departments_instances(e2e: E2E) -> None:
    ours, theirs = _licensed(e2e)
    rt = e2e.stack.runtime
    wjj = tokens.create(rt.db, rt.clock, "wjj-desk", "operator", department="WJJ")
    everything = e2e.instances()
    assert len({i["department"] for i in everything if i["department"]}) >= 3
    with e2e.api.client(wjj) as c:
        listed = c.get("/instances", params={"limit": 500}).json()["items"]
        assert [i["id"] for i in listed] == [i["id"] for i in everything if i["department"] == "WJJ"]
        assert [i["id"] for i in listed] == [ours["id"]]
        asked_for_other = c.get("/instances", params={"department": "GAFJ"}).json()["items"]
        assert asked_for_other == []  # a filter cannot widen the scope
        tasks = c.get("/tasks").json()["items"]
        assert [t["id"] for t in tasks] == [ours["id"]]
        assert c.get(f"/instances/{ours['id']}").status_code == 200
        hidden = c.get(f"/instances/{theirs['id']}")
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "instance_not_found"


def test_a_scoped_operator_cannot_act_on_another_departments_case(e2e: E2E) -> None:
    ours, theirs = _licensed(e2e)
    rt = e2e.stack.runtime
    wjj = tokens.create(rt.db, rt.clock, "wjj-desk", "operator", department="WJJ")
    before = e2e.instance(int(str(theirs["id"])))
    with e2e.api.client(wjj) as c:
        for action, body in (("cancel", {"reason": "not ours"}), ("suspend", {"reason": "延期"})):
            refused = c.post(f"/instances/{theirs['id']}/{action}", json=body)
            assert refused.status_code == 404, (action, refused.text)
        after = e2e.instance(int(str(theirs["id"])))
        assert (after["state"], after["history"], after["timers"]) == (
            before["state"],
            before["history"],
            before["timers"],
        )
        done = c.post(f"/instances/{ours['id']}/cancel", json={"reason": "enterprise closed"})
        assert done.status_code == 200, done.text
    cancelled = e2e.instance(int(str(ours["id"])))
    assert cancelled["state"] == "cancelled"
    assert cancelled["history"][-1]["cause"]["operator"] == "wjj-desk"


def test_every_other_operator_route_refuses_a_scoped_token(e2e: E2E) -> None:
    rt = e2e.stack.runtime
    wjj = tokens.create(rt.db, rt.clock, "wjj-desk", "operator", department="WJJ")
    paths = create_app(rt).openapi()["paths"]
    others = [
        (method.upper(), path)
        for path, methods in paths.items()
        if path not in PUBLIC and path != "/events"
        for method in methods
        if (method.upper(), path) not in SCOPED_ROUTES
    ]
    assert ("GET", "/deadletters") in others and ("GET", "/status") in others
    with e2e.api.client(wjj) as c:
        for method, template in others:
            path = template.replace("{instance_id}", "1").replace("{dead_id}", "1")
            path = path.replace("{plan_id}", "1").replace("{draw_id}", "1")
            answer = c.request(method, path, json={})
            assert answer.status_code == 403, (method, path, answer.text)
            assert "scoped to department WJJ" in answer.json()["detail"]


def test_only_an_operator_token_takes_a_department(e2e: E2E) -> None:
    rt = e2e.stack.runtime
    for kind, department, words in (
        ("source", "WJJ", "only an operator token"),
        ("admin", "WJJ", "only an operator token"),
        ("operator", "wjj; drop", "give a department code"),
    ):
        try:
            tokens.create(rt.db, rt.clock, f"bad-{kind}", kind, ["*"], sources=["/s"], department=department)  # type: ignore[arg-type]
        except Exception as exc:
            assert words in str(exc)
        else:
            raise AssertionError(f"a {kind} token with department {department!r} was created")
    assert [t.name for t in tokens.list_tokens(rt.db) if t.name.startswith("bad-")] == []
