"""Tenant isolation, generated from the URL map.

For every /api/v1 route with an id parameter and every method it serves, tenant A's admin
token aimed at tenant B's object gets a 404 and changes nothing in the database.  Cases are
derived from ``app.url_map``, so a new endpoint is covered the day it is added; a route whose
id parameter has no builder in ``BUILDERS`` fails until someone adds one.
"""

from __future__ import annotations

import re

import pytest

from server.app import create_app
from tests.support.isolation import BUILDERS, MARKER, NOWHERE, World, snapshot

API = "/api/v1/"


# URL parameters that name no object of a tenant (routes with only these are not tenant-scoped).
NOT_TENANT_OBJECTS = {
    "filename": "import templates are the same files for every tenant",
    "trigger": "notification trigger names are the same for every tenant (each tenant's settings are its own)",
}

# Bodies that would change B's data if isolation were broken (a route without an entry sends none).
BODIES = {
    ("PATCH", "/api/v1/groups/<int:group_id>"): lambda w: {"name": "Hijacked", "description": "x"},
    ("PATCH", "/api/v1/users/<int:user_id>"): lambda w: {"first_name": "Hijacked", "active": False},
    ("POST", "/api/v1/groups/<int:group_id>/members"): lambda w: {"user_ids": [w.id("b", "other_user_id")]},
    ("POST", "/api/v1/groups/<int:group_id>/members/copy"): lambda w: {"from_group_id": w.id("b", "source_group_id")},
    ("POST", "/api/v1/groups/<int:group_id>/messages"): lambda w: {"subject": "Hi", "body": "Hello"},
    ("PATCH", "/api/v1/users/<int:user_id>/tasks/<int:task_id>"): lambda w: {"status": "completed"},
    ("PATCH", "/api/v1/imports/<int:import_id>"): lambda w: {"exclude_rows": [1]},
    ("PATCH", "/api/v1/lti/registrations/<int:registration_id>"): lambda w: {"name": "Hijacked"},
    ("PUT", "/api/v1/groups/<int:group_id>/managers/<int:user_id>"): lambda w: {"permissions": ["export"]},
}


def _api_rules():
    app = create_app({"database_url": "sqlite://", "secret_key": "collect-only", "jobs_sweep_interval": 0})
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(API)]


def _cases():
    cases = []
    for rule in _api_rules():
        if not rule.arguments or rule.arguments <= NOT_TENANT_OBJECTS.keys():
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            arguments = sorted(rule.arguments - NOT_TENANT_OBJECTS.keys())
            # All of B's ids, and (for nested routes) each one of B's ids among A's own.
            variants = [tuple(arguments)] + ([(arg,) for arg in arguments] if len(arguments) > 1 else [])
            for foreign in variants:
                label = f"{method} {rule.rule} with B's {'+'.join(foreign)}"
                cases.append(pytest.param(method, rule.rule, arguments, foreign, id=label))
    return cases


CASES = _cases()


def _path(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


def _masked(response, values: dict, foreign) -> str:
    """The response text with the ids the caller itself sent replaced by a placeholder."""
    text = response.get_data(as_text=True)
    for arg in foreign:
        text = re.sub(rf"\b{re.escape(str(values[arg]))}\b", "<id>", text)
    return text


@pytest.fixture
def world(rt, client, tenant, other_tenant) -> World:
    return World(rt, client, tenant, other_tenant)


def test_the_url_map_yields_cases_for_every_known_resource():
    rules = {c.values[1] for c in CASES}
    assert {
        "/api/v1/groups/<int:group_id>",
        "/api/v1/groups/<int:group_id>/members/<int:user_id>",
        "/api/v1/users/<int:user_id>",
        "/api/v1/operations/<int:operation_id>/cancel",
    } <= rules


@pytest.mark.parametrize("method, rule, arguments, foreign", CASES)
def test_another_tenants_object_is_a_404_and_nothing_changes(rt, client, world, method, rule, arguments, foreign):
    unknown = set(arguments) - BUILDERS.keys()
    if unknown:
        pytest.fail(
            f"{rule} has id parameter(s) {sorted(unknown)} that tenant isolation cannot build: "
            f"add a builder to BUILDERS in tests/support/isolation.py (or, if it names no tenant's object, "
            f"to NOT_TENANT_OBJECTS)."
        )
    values = {arg: world.id("b" if arg in foreign else "a", arg) for arg in arguments}
    # The same request naming objects that exist nowhere: B's objects must be indistinguishable from those.
    nowhere = {
        arg: (NOWHERE if isinstance(value, int) else f"nowhere-{arg}") if arg in foreign else value
        for arg, value in values.items()
    }
    body = BODIES.get((method, rule))
    if body:
        body = body(world)
    before = snapshot(rt)
    r = client.open(_path(rule, values), method=method, headers=world.a.admin, json=body)
    assert r.status_code == 404, (_path(rule, values), r.status_code, r.get_data(as_text=True))
    assert snapshot(rt) == before
    unknown = client.open(_path(rule, nowhere), method=method, headers=world.a.admin, json=body)
    assert unknown.status_code == 404
    assert _masked(r, values, foreign) == _masked(unknown, nowhere, foreign)


def test_lists_never_show_another_tenants_objects(client, world):
    world.build_everything()
    list_routes = [
        rule.rule
        for rule in _api_rules()
        if not rule.arguments and "GET" in rule.methods and not rule.rule.endswith(".json")
    ]
    assert "/api/v1/activity" in list_routes
    for route in list_routes:
        mine = client.get(route, headers=world.a.admin)
        assert mine.status_code == 200, (route, mine.get_data(as_text=True))
        assert MARKER not in mine.get_data(as_text=True), route
    assert MARKER in client.get("/api/v1/activity", headers=world.b.admin).get_data(as_text=True)


def test_another_tenants_user_cannot_be_added_to_ones_own_group(rt, client, world):
    mine, theirs = world.id("a", "group_id"), world.id("b", "other_user_id")
    before = snapshot(rt)
    r = client.post(
        f"/api/v1/groups/{mine}/members",
        json={"user_ids": [theirs], "emails": [f"{MARKER}@example.org"]},
        headers=world.a.admin,
    )
    # Exactly what an id or email that exists nowhere gets: nothing reveals B's user.
    assert r.status_code == 400 and set(r.json["errors"]) == {"user_ids", "emails"}
    assert snapshot(rt) == before
