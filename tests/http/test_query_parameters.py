"""Every admin API endpoint refuses a query parameter it does not take (issue 17 item 6).

A misspelt or unsupported filter used to be dropped silently: ``GET /operations?typ=import`` listed
every operation and ``GET /users?stauts=active`` every user. Now each is a 400 in the API's error
shape that names the parameter and lists the ones the endpoint takes, which are exactly the query
parameters of that operation in the OpenAPI document. Routes are walked from the URL map, so an
endpoint is covered the day it is added; its path parameters name real objects of the caller's
tenant (tests/support/isolation.py builds them), so the refusal is not a 404 in disguise.
"""

from __future__ import annotations

import re

from provisioning.models import TRIGGERS
from tests.support.api import new_group, new_user
from tests.support.isolation import World, snapshot

API = "/api/v1/"
UNDOCUMENTED = {"/api/v1/openapi.json"}  # the public document itself, not an endpoint of the API's resources
# Path parameters that name no object: a value that exists for every tenant.
NAMES = {"filename": "members.csv", "trigger": TRIGGERS[0], "field": "department"}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def takes(document, rule: str, method: str) -> str:
    """What the 400 says the endpoint takes: the operation's query parameters in the OpenAPI document."""
    operation = document["paths"][openapi_path(rule)][method.lower()]
    names = sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
    return f"This endpoint takes: {', '.join(names)}." if names else "This endpoint takes no query parameters."


def test_every_route_refuses_a_parameter_it_does_not_take_and_changes_nothing(app, rt, client, tenant, other_tenant):
    world = World(rt, client, tenant, other_tenant)
    document = client.get("/api/v1/openapi.json").json
    routes = [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API) and rule.rule not in UNDOCUMENTED
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    paths = {
        rule: re.sub(
            r"<(?:[^:<>]+:)?([^<>]+)>",
            lambda m: str(NAMES[m.group(1)] if m.group(1) in NAMES else world.id("a", m.group(1))),
            rule,
        )
        for rule, _ in routes
    }
    before = snapshot(rt)
    failures = []
    for rule, method in routes:
        r = client.open(f"{paths[rule]}?bogus=1", method=method, headers=tenant.admin)
        expected = f"Unknown query parameter 'bogus'. {takes(document, rule, method)}"
        if r.status_code != 400 or r.json.get("message") != expected or "bogus" not in r.json.get("errors", {}):
            failures.append(f"{method} {rule} -> {r.status_code} {r.get_data(as_text=True)[:300]}")
    assert len(routes) > 60 and not failures, "\n".join(failures)
    assert snapshot(rt) == before


def test_every_operation_documents_the_400(client):
    document = client.get("/api/v1/openapi.json").json
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
        and operation["responses"].get("400") != {"$ref": "#/components/responses/BAD_REQUEST"}
    ]
    assert not undocumented


def test_a_misspelt_operation_filter_is_a_400_not_every_operation(client, tenant):
    r = client.get("/api/v1/operations?typ=import", headers=tenant.admin)
    assert r.status_code == 400
    assert r.json == {
        "code": 400,
        "status": "Bad Request",
        "message": "Unknown query parameter 'typ'. This endpoint takes: "
        "action, group_id, page, per_page, since, status, type, until.",
        "errors": {
            "typ": [
                "Unknown query parameter. This endpoint takes: "
                "action, group_id, page, per_page, since, status, type, until."
            ]
        },
    }
    assert client.get("/api/v1/operations?type=import", headers=tenant.admin).status_code == 200


def test_a_misspelt_user_filter_is_a_400_and_the_right_spelling_filters(client, tenant):
    new_user(client, tenant, "ann@example.org")
    r = client.get("/api/v1/users?stauts=active", headers=tenant.admin)
    assert r.status_code == 400
    assert r.json["message"] == "Unknown query parameter 'stauts'. This endpoint takes: page, per_page, q, status."
    assert list(r.json["errors"]) == ["stauts"]
    r = client.get("/api/v1/users?status=deactivated", headers=tenant.admin)
    assert r.status_code == 200 and r.json["total"] == 0


def test_several_unknown_parameters_are_all_named_once(client, tenant):
    r = client.get("/api/v1/groups?kind=manual&sort=name&order=asc&sort=id", headers=tenant.admin)
    assert r.status_code == 400
    assert r.json["message"].startswith("Unknown query parameters 'sort', 'order'. This endpoint takes: ")
    assert set(r.json["errors"]) == {"sort", "order"}


def test_a_repeated_known_parameter_behaves_as_before(client, tenant):
    new_user(client, tenant, "ann@example.org")
    r = client.get("/api/v1/users?status=active&status=deactivated", headers=tenant.admin)
    assert r.status_code == 200 and r.json["total"] == 1  # the first value counts, as it always did


def test_an_endpoint_without_parameters_says_it_takes_none(client, tenant):
    group = new_group(client, tenant, "Math")
    r = client.get(f"/api/v1/groups/{group['id']}?expand=members", headers=tenant.admin)
    assert r.status_code == 400
    assert r.json["message"] == "Unknown query parameter 'expand'. This endpoint takes no query parameters."


def test_the_token_is_checked_first_and_the_object_after_the_parameters(client, tenant, other_tenant):
    """401 before 400: the caller must be known. 400 before 404: parameters are checked as the request is
    read, like a body, before any object is looked up, so a missing object and another tenant's answer the
    same 400 and tell nothing apart."""
    assert client.get("/api/v1/users?stauts=active").status_code == 401
    theirs = new_group(client, other_tenant, "Theirs")
    for group_id in (theirs["id"], 9_000_000_000):
        r = client.get(f"/api/v1/groups/{group_id}/members?stauts=active", headers=tenant.admin)
        assert r.status_code == 400 and list(r.json["errors"]) == ["stauts"]
        assert client.get(f"/api/v1/groups/{group_id}/members", headers=tenant.admin).status_code == 404


def test_a_post_with_an_unknown_parameter_changes_nothing(client, tenant):
    r = client.post("/api/v1/groups?dry_run=1", json={"name": "Math"}, headers=tenant.admin)
    assert r.status_code == 400 and list(r.json["errors"]) == ["dry_run"]
    assert client.get("/api/v1/groups", headers=tenant.admin).json["total"] == 0


def test_the_csv_byte_order_mark_is_a_documented_parameter(client, tenant):
    group = new_group(client, tenant, "Math")
    path = f"/api/v1/groups/{group['id']}/members.csv"
    assert client.get(f"{path}?bom=1", headers=tenant.admin).data.startswith("\ufeff".encode())
    assert not client.get(f"{path}?bom=0", headers=tenant.admin).data.startswith("\ufeff".encode())
    r = client.get(f"{path}?bom=maybe", headers=tenant.admin)
    assert r.status_code == 400 and list(r.json["errors"]) == ["bom"]
    r = client.get(f"/api/v1/groups/{group['id']}/members.xlsx?bom=1", headers=tenant.admin)
    assert r.status_code == 400 and list(r.json["errors"]) == ["bom"]
