"""Tenant isolation's world: tenant A (the caller) and tenant B (the target), each object built on demand
through the admin API, and a snapshot of every row to show that nothing changed."""

from __future__ import annotations

import io

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.lti.launch import ensure_context, ensure_course
from provisioning.lti.registrations import register_platform
from provisioning.models import ApiToken, Base, Task
from provisioning.services.tasks import add_tasks
from tests.support.api import new_group, new_user

MARKER = "tenant-b-secret"
NOWHERE = 9_000_000_000  # an id no test creates

# UI form fields that would change B's data if isolation were broken.
UI_FORMS = {
    "ui.add_member": lambda w: {"email": f"{MARKER}-other@example.org"},
    "ui.batch": lambda w: {"action": "deactivate", "user_ids": str(w.id("b", "user_id")), "confirmed": "yes"},
    "ui.message": lambda w: {"subject": "Hi", "body": "Hello"},
    "ui.copy_members": lambda w: {"from_group_id": str(w.id("b", "source_group_id"))},
    "ui.import_edit": lambda w: {"exclude_rows": "2"},
}


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
    r = w.client.post(
        f"/api/v1/groups/{group['id']}/members", json={"user_ids": [w.id(owner, "user_id")]}, headers=handle.admin
    )
    assert r.status_code == 200, r.json
    return group["id"]


def _operation(w: World, owner, handle):
    r = w.client.post(
        f"/api/v1/groups/{w.id(owner, 'group_id')}/members/copy",
        json={"from_group_id": w.id(owner, "source_group_id")},
        headers=handle.admin,
    )
    assert r.status_code == 202, r.json
    return r.json["operation_id"]


def _report_run(w: World, owner, handle):
    r = w.client.post(
        "/api/v1/reports/runs",
        json={"report_type": "group_progress", "group_id": w.id(owner, "group_id")},
        headers=handle.admin,
    )
    assert r.status_code == 202, r.json
    return r.json["operation_id"]


def _report_schedule(w: World, owner, handle):
    r = w.client.post(
        "/api/v1/reports/schedules",
        json={"report_type": "group_progress", "group_id": w.id(owner, "group_id"), "frequency": "weekly"},
        headers=handle.admin,
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def _import(w: World, owner, handle):
    csv = f"email\n{_tag(owner)}-other@example.org\n".encode()
    r = w.client.post(
        "/api/v1/imports",
        headers=handle.admin,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv), "members.csv"), "group_id": str(w.id(owner, "group_id"))},
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def _task(w: World, owner, handle):
    with w.rt.db.transaction() as s:
        add_tasks(s, handle.id, [w.id(owner, "user_id")], f"{_tag(owner)} task", None, "test")
        return s.scalar(select(Task.id).where(Task.tenant_id == handle.id))


def _registration(w: World, owner, handle):
    return register_platform(
        w.rt,
        handle.id,
        issuer=f"https://{owner}.lms.example",
        client_id="tool",
        auth_login_url=f"https://{owner}.lms.example/auth",
        auth_token_url=f"https://{owner}.lms.example/token",
        key_set_url=f"https://{owner}.lms.example/jwks",
        deployment_ids=["1"],
        actor=Actor("test", "cli"),
    )


def _roster_course(w: World, owner, handle):
    reg = _registration(w, owner, handle)
    with w.rt.db.transaction() as s:
        course = ensure_course(s, handle.id, f"{_tag(owner)}-course", "Course")
        ensure_context(s, reg, f"{owner}-context", course.id, f"https://{owner}.lms.example/memberships")
        return course.external_id


def _role(w: World, owner, handle):
    """A custom role whose key only this tenant has (tenant_b_secret, tenant_a)."""
    r = w.client.post("/api/v1/roles", json={"label": _tag(owner), "permissions": ["export"]}, headers=handle.admin)
    assert r.status_code == 201, r.json
    return r.json["key"]


# How to build tenant A's and tenant B's object for each URL parameter (and the helpers they need).
# A route with a parameter missing here fails the test below until someone adds a builder.
BUILDERS = {
    "user_id": _user,
    "other_user_id": _other_user,
    "group_id": _group_with_member,
    "source_group_id": lambda w, owner, handle: _group_with_member(w, owner, handle, "source"),
    "operation_id": _operation,
    "import_id": _import,
    "run_id": _report_run,
    "schedule_id": _report_schedule,
    "task_id": _task,
    "external_id": _roster_course,
    "registration_id": lambda w, owner, handle: _registration(w, owner, handle).id,
    "key": _role,
    # A notification trigger is named by its kind, the same in every tenant (each tenant's own row is its switch).
    "trigger": lambda w, owner, handle: "group_added",
}


def snapshot(rt) -> dict[str, list[tuple]]:
    """Every row of every table (a token's last_used_at aside: using A's token may stamp it)."""
    state = {}
    with rt.db.read() as s:
        for table in Base.metadata.sorted_tables:
            columns = [
                c for c in table.columns if not (table.name == ApiToken.__tablename__ and c.name == "last_used_at")
            ]
            rows = s.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            state[table.name] = [tuple(row) for row in rows]
    return state
