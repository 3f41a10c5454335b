"""Tenant isolation on /scim/v2 and /ui, generated from the URL map like tests/http/test_tenant_isolation.py.

For every SCIM and UI route with an id parameter and every method it serves, tenant A (its SCIM
token, or its owner signed in to the UI) aimed at tenant B's object gets a 404 and changes nothing
in the database.  A new route with an id parameter nobody can build fails until one is added.
"""

from __future__ import annotations

import re

import pytest

from server.app import create_app
from tests.support.isolation import BUILDERS, MARKER, NOWHERE, UI_FORMS, World, snapshot
from tests.support.signin import sign_in

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# A SCIM route's <raw_id> names a user or a group depending on the resource.
SCIM_IDS = {"Users": "user_id", "Groups": "group_id"}
# Route parameters that name no tenant's object (the same for everyone).
# extension: a file type; trigger: an automatic notification's kind (group_added), each tenant switching its own.
NOT_TENANT_OBJECTS = {"filename", "schema_id", "name", "unknown", "extension", "trigger"}

SCIM_BODIES = {
    "PUT": lambda w, res: {"userName": "hijacked", "active": False} if res == "Users" else {"displayName": "Hijacked"},
    "PATCH": lambda w, res: {
        "schemas": [PATCH_OP],
        "Operations": [
            {
                "op": "replace",
                "path": "active" if res == "Users" else "displayName",
                "value": False if res == "Users" else "Hijacked",
            }
        ],
    },
}


def _rules(prefix: str):
    app = create_app({"database_url": "sqlite://", "secret_key": "collect-only", "jobs_sweep_interval": 0})
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and rule.arguments - NOT_TENANT_OBJECTS
    ]


def _cases(prefix: str):
    cases = []
    for rule in _rules(prefix):
        arguments = sorted(rule.arguments - NOT_TENANT_OBJECTS)
        variants = [tuple(arguments)] + ([(arg,) for arg in arguments] if len(arguments) > 1 else [])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for foreign in variants:
                cases.append(
                    pytest.param(
                        method,
                        rule.rule,
                        rule.endpoint,
                        arguments,
                        foreign,
                        id=f"{method} {rule.rule} with B's {'+'.join(foreign)}",
                    )
                )
    return cases


def _path(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


@pytest.fixture
def world(rt, client, tenant, other_tenant) -> World:
    return World(rt, client, tenant, other_tenant)


def test_the_url_map_yields_scim_and_ui_cases():
    scim = {c.values[1] for c in _cases("/scim/v2/")}
    ui = {c.values[1] for c in _cases("/ui/")}
    assert {"/scim/v2/Users/<raw_id>", "/scim/v2/Groups/<raw_id>"} <= scim
    assert any(r.startswith("/ui/groups/<") for r in ui) and any(r.startswith("/ui/operations/<") for r in ui)


@pytest.mark.parametrize("method, rule, endpoint, arguments, foreign", _cases("/scim/v2/"))
def test_another_tenants_scim_resource_is_a_404_and_nothing_changes(
    rt, client, world, method, rule, endpoint, arguments, foreign
):
    resource = rule.split("/")[3]
    assert arguments == ["raw_id"] and resource in SCIM_IDS, f"{rule}: teach this test its id parameter"
    theirs = world.id("b", SCIM_IDS[resource])
    body = SCIM_BODIES.get(method, lambda w, res: None)(world, resource)
    before = snapshot(rt)
    r = client.open(_path(rule, {"raw_id": theirs}), method=method, headers=world.a.scim, json=body)
    assert r.status_code == 404 and r.json["status"] == "404", (rule, r.status_code, r.get_data(as_text=True))
    assert MARKER not in r.get_data(as_text=True)
    assert snapshot(rt) == before
    nowhere = client.open(_path(rule, {"raw_id": NOWHERE}), method=method, headers=world.a.scim, json=body)
    assert nowhere.status_code == 404
    assert r.json["detail"].replace(str(theirs), "<id>") == nowhere.json["detail"].replace(str(NOWHERE), "<id>")


@pytest.mark.parametrize("method, rule, endpoint, arguments, foreign", _cases("/ui/"))
def test_another_tenants_object_in_the_ui_is_a_404_and_nothing_changes(
    rt, client, world, method, rule, endpoint, arguments, foreign
):
    unknown = set(arguments) - BUILDERS.keys()
    assert not unknown, f"{rule}: add a builder for {sorted(unknown)} to tests/support/isolation.py"
    owner = sign_in(client, rt, world.a.id)  # tenant A's owner: every permission within A
    values = {"extension": "csv", **{arg: world.id("b" if arg in foreign else "a", arg) for arg in arguments}}
    form = UI_FORMS.get(endpoint, lambda w: {})(world)
    before = snapshot(rt)
    if method == "POST":
        r = owner.post(_path(rule, values), form)
    else:
        r = owner.get(_path(rule, values))
    assert r.status_code == 404, (_path(rule, values), r.status_code, r.get_data(as_text=True)[:300])
    assert MARKER not in r.get_data(as_text=True)
    assert snapshot(rt) == before
