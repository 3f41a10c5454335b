"""Tenant isolation, generated from the URL map.

For every /api/v1 route with an id parameter and every method it serves, tenant A's admin
token aimed at tenant B's object gets a 404 and changes nothing in the database.  Cases are
derived from ``app.url_map``, so a new endpoint is covered the day it is added; a route whose
id parameter has no builder in ``BUILDERS`` fails until someone adds one.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from provisioning.lti.launch import ensure_context, ensure_course
from provisioning.lti.registrations import register_platform
from provisioning.models import ApiToken, Base, Task
from provisioning.activity import Actor
from provisioning.services.tasks import add_tasks
from server.app import create_app
from tests.test_groups_api import new_group
from tests.test_users_api import new_user

API = "/api/v1/"
MARKER = "tenant-b-secret"


class World:
    """Tenant A (the caller) and tenant B (the target); each object is built on first use, per tenant."""

    def __init__(self, rt, client, a, b) -> None:
        self.rt, self.client, self.handles = rt, client, {"a": a, "b": b}
        self.a, self.b = a, b
        self._made: dict[tuple[str, str], int | str] = {}

    def id(self, owner: str, name: str):
        """The id named ``name`` (a URL parameter or a helper object) of tenant ``owner``."""
        key = (owner, name)
        if key not in self._made:
            self._made[key] = BUILDERS[name](self, owner, self.handles[owner])
        return self._made[key]

    def build_everything(self) -> None:
        for owner in self.handles:
            for name in BUILDERS:
                self.id(owner, name)


def _tag(owner: str) -> str:
    return MARKER if owner == "b" else "tenant-a"


def _user(w: World, owner, handle):
    return new_user(w.client, handle, f"{_tag(owner)}@example.org", first_name=_tag(owner))["id"]


def _other_user(w: World, owner, handle):
    return new_user(w.client, handle, f"{_tag(owner)}-other@example.org")["id"]


def _group_with_member(w: World, owner, handle, name="group"):
    group = new_group(w.client, handle, f"{_tag(owner)} {name}")
    r = w.client.post(f"/api/v1/groups/{group['id']}/members", json={"user_ids": [w.id(owner, "user_id")]},
                      headers=handle.admin)
    assert r.status_code == 200, r.json
    return group["id"]


def _operation(w: World, owner, handle):
    r = w.client.post(f"/api/v1/groups/{w.id(owner, 'group_id')}/members/copy",
                      json={"from_group_id": w.id(owner, "source_group_id")}, headers=handle.admin)
    assert r.status_code == 202, r.json
    return r.json["operation_id"]


def _import(w: World, owner, handle):
    csv = f"email\n{_tag(owner)}-other@example.org\n".encode()
    r = w.client.post("/api/v1/imports", headers=handle.admin, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(csv), "members.csv"), "group_id": str(w.id(owner, "group_id"))})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _task(w: World, owner, handle):
    with w.rt.db.transaction() as s:
        add_tasks(s, handle.id, [w.id(owner, "user_id")], f"{_tag(owner)} task", None, "test")
        return s.scalar(select(Task.id).where(Task.tenant_id == handle.id))


def _roster_course(w: World, owner, handle):
    reg = register_platform(w.rt, handle.id, issuer=f"https://{owner}.lms.example", client_id="tool",
                            auth_login_url=f"https://{owner}.lms.example/auth",
                            auth_token_url=f"https://{owner}.lms.example/token",
                            key_set_url=f"https://{owner}.lms.example/jwks", deployment_ids=["1"],
                            actor=Actor("test", "cli"))
    with w.rt.db.transaction() as s:
        course = ensure_course(s, handle.id, f"{_tag(owner)}-course", "Course")
        ensure_context(s, reg, f"{owner}-context", course.id, f"https://{owner}.lms.example/memberships")
        return course.external_id


# How to build tenant A's and tenant B's object for each URL parameter (and the helpers they need).
# A route with a parameter missing here fails the test below until someone adds a builder.
BUILDERS = {
    "user_id": _user,
    "other_user_id": _other_user,
    "group_id": _group_with_member,
    "source_group_id": lambda w, owner, handle: _group_with_member(w, owner, handle, "source"),
    "operation_id": _operation,
    "import_id": _import,
    "task_id": _task,
    "external_id": _roster_course,
}
# URL parameters that name no object of a tenant (routes with only these are not tenant-scoped).
NOT_TENANT_OBJECTS = {"filename": "import templates are the same files for every tenant"}

# Bodies that would change B's data if isolation were broken (a route without an entry sends none).
BODIES = {
    ("PATCH", "/api/v1/groups/<int:group_id>"): lambda w: {"name": "Hijacked", "description": "x"},
    ("PATCH", "/api/v1/users/<int:user_id>"): lambda w: {"first_name": "Hijacked", "active": False},
    ("POST", "/api/v1/groups/<int:group_id>/members"): lambda w: {"user_ids": [w.id("b", "other_user_id")]},
    ("POST", "/api/v1/groups/<int:group_id>/members/copy"): lambda w: {"from_group_id": w.id("b", "source_group_id")},
    ("POST", "/api/v1/groups/<int:group_id>/messages"): lambda w: {"subject": "Hi", "body": "Hello"},
    ("PATCH", "/api/v1/users/<int:user_id>/tasks/<int:task_id>"): lambda w: {"status": "completed"},
    ("PATCH", "/api/v1/imports/<int:import_id>"): lambda w: {"exclude_rows": [1]},
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
NOWHERE = 9_000_000_000  # an id no test creates


def _path(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


def _masked(response, values: dict, foreign) -> str:
    """The response text with the ids the caller itself sent replaced by a placeholder."""
    text = response.get_data(as_text=True)
    for arg in foreign:
        text = re.sub(rf"\b{re.escape(str(values[arg]))}\b", "<id>", text)
    return text


def _snapshot(rt) -> dict[str, list[tuple]]:
    """Every row of every table (a token's last_used_at aside: using A's token may stamp it)."""
    state = {}
    with rt.db.read() as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if not (table.name == ApiToken.__tablename__
                                                       and c.name == "last_used_at")]
            rows = s.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            state[table.name] = [tuple(row) for row in rows]
    return state


@pytest.fixture
def world(rt, client, tenant, other_tenant) -> World:
    return World(rt, client, tenant, other_tenant)


def test_the_url_map_yields_cases_for_every_known_resource():
    rules = {c.values[1] for c in CASES}
    assert {"/api/v1/groups/<int:group_id>", "/api/v1/groups/<int:group_id>/members/<int:user_id>",
            "/api/v1/users/<int:user_id>", "/api/v1/operations/<int:operation_id>/cancel"} <= rules


@pytest.mark.parametrize("method, rule, arguments, foreign", CASES)
def test_another_tenants_object_is_a_404_and_nothing_changes(rt, client, world, method, rule, arguments, foreign):
    unknown = set(arguments) - BUILDERS.keys()
    if unknown:
        pytest.fail(f"{rule} has id parameter(s) {sorted(unknown)} that tenant isolation cannot build: "
                    f"add a builder to BUILDERS in {__name__} (or, if it names no tenant's object, "
                    f"to NOT_TENANT_OBJECTS).")
    values = {arg: world.id("b" if arg in foreign else "a", arg) for arg in arguments}
    # The same request naming objects that exist nowhere: B's objects must be indistinguishable from those.
    nowhere = {arg: (NOWHERE if isinstance(value, int) else f"nowhere-{arg}") if arg in foreign else value
               for arg, value in values.items()}
    body = BODIES.get((method, rule))
    if body:
        body = body(world)
    before = _snapshot(rt)
    r = client.open(_path(rule, values), method=method, headers=world.a.admin, json=body)
    assert r.status_code == 404, (_path(rule, values), r.status_code, r.get_data(as_text=True))
    assert _snapshot(rt) == before
    unknown = client.open(_path(rule, nowhere), method=method, headers=world.a.admin, json=body)
    assert unknown.status_code == 404
    assert _masked(r, values, foreign) == _masked(unknown, nowhere, foreign)


def test_lists_never_show_another_tenants_objects(client, world):
    world.build_everything()
    list_routes = [rule.rule for rule in _api_rules()
                   if not rule.arguments and "GET" in rule.methods and not rule.rule.endswith(".json")]
    assert "/api/v1/activity" in list_routes
    for route in list_routes:
        mine = client.get(route, headers=world.a.admin)
        assert mine.status_code == 200, (route, mine.get_data(as_text=True))
        assert MARKER not in mine.get_data(as_text=True), route
    assert MARKER in client.get("/api/v1/activity", headers=world.b.admin).get_data(as_text=True)


def test_another_tenants_user_cannot_be_added_to_ones_own_group(rt, client, world):
    mine, theirs = world.id("a", "group_id"), world.id("b", "other_user_id")
    before = _snapshot(rt)
    r = client.post(f"/api/v1/groups/{mine}/members",
                    json={"user_ids": [theirs], "emails": [f"{MARKER}@example.org"]},
                    headers=world.a.admin)
    # Exactly what an id or email that exists nowhere gets: nothing reveals B's user.
    assert r.status_code == 400 and set(r.json["errors"]) == {"user_ids", "emails"}
    assert _snapshot(rt) == before
