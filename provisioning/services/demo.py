"""A demo tenant with sample people and groups, for trying the service out (``provisioning demo``).

Seeding is idempotent: running it again adds only what is missing.  Users go in with one
``INSERT ... ON CONFLICT DO NOTHING`` and memberships with the set-based membership helper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, event_row, record_many
from provisioning.db import insert_ignoring_conflicts
from provisioning.identity_keys import identity_key
from provisioning.models import Group, Membership, Tenant, User, utcnow
from provisioning.runtime import Runtime
from provisioning.store.groups import add_group
from provisioning.store.members import insert_members, touch_group
from provisioning.store.users import check_seats

DEMO_SLUG = "demo"
DEMO_NAME = "Demo University"
EMAIL_DOMAIN = "demo.example.edu"

_FIRST = ("Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Linus", "Margaret")
_LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra")
_DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "People")
_LOCATIONS = ("Berlin", "Lisbon", "Toronto", "Nairobi", "Melbourne")


@dataclass(frozen=True)
class DemoResult:
    tenant_id: int
    tenant_slug: str
    users_added: int
    users_total: int
    groups: dict[str, int]  # group name -> member count


def sample_people() -> list[dict]:
    """Fifty people: forty employees across five departments and locations, ten students."""
    people = []
    for i, (first, last) in enumerate((f, surname) for surname in _LAST for f in _FIRST):
        student = i % 5 == 4
        username = f"{first}.{last}".lower()
        people.append(
            {
                "username": username,
                "email": f"{username}@{EMAIL_DOMAIN}",
                "given_name": first,
                "family_name": last,
                "display_name": f"{first} {last}",
                "external_id": f"demo-{i + 1:03d}",
                "department": None if student else _DEPARTMENTS[i % len(_DEPARTMENTS)],
                "title": "Student" if student else "Staff",
                "custom_attributes": {
                    "location": _LOCATIONS[(i // 2) % len(_LOCATIONS)],
                    "hireDate": (date(2018, 1, 8) + timedelta(days=37 * i)).isoformat(),
                    "studentOrEmployee": "student" if student else "employee",
                },
            }
        )
    return people


def _sample_groups(people: list[dict]) -> dict[str, tuple[str, list[str]]]:
    """Group name -> (description, usernames of its members)."""
    employees = [p for p in people if p["custom_attributes"]["studentOrEmployee"] == "employee"]
    return {
        "All Staff": ("Every employee.", [p["username"] for p in employees]),
        "Engineering Team": (
            "The Engineering department.",
            [p["username"] for p in employees if p["department"] == "Engineering"],
        ),
        "Sales Team": ("The Sales department.", [p["username"] for p in employees if p["department"] == "Sales"]),
        "Berlin Office": (
            "Everyone based in Berlin.",
            [p["username"] for p in people if p["custom_attributes"]["location"] == "Berlin"],
        ),
        "Students 2026": (
            "This year's students.",
            [p["username"] for p in people if p["custom_attributes"]["studentOrEmployee"] == "student"],
        ),
    }


def _ensure_tenant(s: Session) -> Tenant:
    tenant = s.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    if tenant is None:
        tenant = Tenant(name=DEMO_NAME, slug=DEMO_SLUG, seat_limit=None, settings={})
        s.add(tenant)
        s.flush()
    return tenant


def _insert_people(s: Session, tenant_id: int, people: list[dict], actor: Actor) -> list[int]:
    now = utcnow()
    rows = [
        {
            **p,
            "tenant_id": tenant_id,
            "active": True,
            "status": "active",
            "role": "learner",
            "extra": {},
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "username_key": identity_key(p["username"]),
            "email_key": identity_key(p["email"]) if p.get("email") else None,
        }
        for p in people
    ]
    stmt = insert_ignoring_conflicts(s, User.__table__).returning(User.__table__.c.id)
    added = list(s.scalars(stmt, rows))
    record_many(s, [event_row(tenant_id, actor, "user.created", "user", uid, {"demo": True}, now) for uid in added])
    return added


def seed_demo(rt: Runtime, actor: Actor) -> DemoResult:
    """Create (or complete) the demo tenant with its sample users and groups, in one unit of work."""
    people = sample_people()
    with rt.db.transaction() as s:
        tenant = _ensure_tenant(s)
        added = _insert_people(s, tenant.id, people, actor)
        check_seats(s, tenant.id, adding=0)  # a pre-existing "demo" tenant may have a seat limit
        ids: dict[str, int] = {
            key: user_id
            for key, user_id in s.execute(
                select(User.username_key, User.id).where(
                    User.tenant_id == tenant.id, User.username_key.in_([identity_key(p["username"]) for p in people])
                )
            )
            if key is not None
        }
        counts: dict[str, int] = {}
        for name, (description, usernames) in _sample_groups(people).items():
            group = s.scalar(select(Group).where(Group.tenant_id == tenant.id, func.lower(Group.name) == name.lower()))
            if group is None:
                group = add_group(s, tenant.id, {"name": name, "description": description, "source": "api"}, actor)
            if group.kind != "automatic" and insert_members(
                s, tenant.id, group.id, [ids[u] for u in usernames if u in ids], "manual"
            ):
                touch_group(s, group.id)
            counts[name] = (
                s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == group.id)) or 0
            )
        total = s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id)) or 0
        result = DemoResult(tenant.id, tenant.slug, len(added), total, counts)
    return result
