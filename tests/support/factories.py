"""Test data made through the public services (the code under test), not by writing rows directly,
except where a helper says so (bulk test data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select

from provisioning import operations
from provisioning.activity import Actor
from provisioning.identity_keys import identity_key
from provisioning.models import Membership, Operation, User, utcnow
from provisioning.runtime import Runtime
from provisioning.services import groups, memberships, tenants, tokens, users

ADMIN = Actor("test admin", "api")


@dataclass
class TenantHandle:
    id: int
    slug: str
    admin_token: str
    scim_token: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def scim(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.scim_token}"}


def make_tenant(rt: Runtime, name: str, **kwargs: Any) -> TenantHandle:
    """A tenant with an admin token and a SCIM token."""
    tenant = tenants.create_tenant(rt, name, **kwargs)
    _, admin = tokens.create_token(rt, tenant.id, "admin", "test admin")
    _, scim = tokens.create_token(rt, tenant.id, "scim", "test scim")
    return TenantHandle(id=tenant.id, slug=tenant.slug, admin_token=admin, scim_token=scim)


def make_user(rt, tenant_id: int, name: str, **values: Any):
    """A user named ``name`` (its username; email ``name@example.edu`` unless given)."""
    values.setdefault("email", f"{name}@example.edu")
    return users.create_user(rt, tenant_id, {"username": name, **values}, ADMIN)


def make_users(rt, tenant_id: int, *emails: str, **values: Any) -> dict[str, int]:
    """Create users (through the users service); returns email -> id."""
    return {e: users.create_user(rt, tenant_id, {"email": e, **values}, ADMIN).id for e in emails}


# People whose names a spreadsheet would take for formulas.
PEOPLE = [
    ("ada@example.com", "Ada", "Lovelace"),
    ("evil@example.com", '=HYPERLINK("http://x")', "+1"),
    ("at@example.com", "@SUM(A1)", "-minus"),
]


def group_of_people(rt, tenant_id: int, people, name: str = "Export me"):
    """A manual group of new users given as (email, given name, family name)."""
    ids = {}
    for email, first, last in people:
        ids.update(make_users(rt, tenant_id, email, given_name=first, family_name=last))
    group = groups.create_group(rt, tenant_id, {"name": name}, ADMIN)
    memberships.add_members(rt, tenant_id, group.id, user_ids=list(ids.values()), actor=ADMIN)
    return group


def group_with_members(rt: Runtime, tenant_id: int, name: str, members: int) -> int:
    """A manual group with ``members`` fresh users (bulk-inserted: test data, not the code under test)."""
    group = groups.create_group(rt, tenant_id, {"name": name}, ADMIN)
    if members:
        now = utcnow()
        with rt.db.transaction() as s:
            s.execute(
                insert(User),
                [
                    dict(
                        tenant_id=tenant_id,
                        username=f"{name}-{i}@example.edu",
                        email=f"{name}-{i}@example.edu",
                        username_key=identity_key(f"{name}-{i}@example.edu"),
                        email_key=identity_key(f"{name}-{i}@example.edu"),
                        created_at=now,
                        updated_at=now,
                    )
                    for i in range(members)
                ],
            )
            s.execute(
                insert(Membership).from_select(
                    ["group_id", "user_id", "tenant_id", "source", "added_at"],
                    select(
                        literal(group.id),
                        User.id,
                        literal(tenant_id),
                        literal("manual"),
                        literal(now, type_=Membership.added_at.type),
                    ).where(User.tenant_id == tenant_id, User.username.like(f"{name}-%")),
                )
            )
    return group.id


def member_count(rt: Runtime, group_id: int) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == group_id))


def member_emails(rt, tenant_id: int, group_id: int) -> set[str]:
    page = memberships.list_members(rt, tenant_id, group_id, page=1, per_page=10_000)
    return {user.email for user, _ in page.items}


def operation(rt, tenant_id: int, operation_id: int):
    """An Operation as the operations service returns it."""
    return operations.get_operation(rt, tenant_id, operation_id)


def load(rt: Runtime, operation_id: int) -> Operation:
    """An Operation row, whatever its tenant."""
    with rt.db.read() as s:
        return s.get(Operation, operation_id)


def make_platform(rt: Runtime, tenant_id: int, host: str, *, name: str | None = None):
    """A registered LMS platform at https://<host> (through the registrations service), e.g. one to revoke."""
    from provisioning.lti import registrations

    base = f"https://{host}"
    return registrations.register_platform(
        rt,
        tenant_id,
        issuer=base,
        client_id=host,
        auth_login_url=f"{base}/auth",
        auth_token_url=f"{base}/token",
        key_set_url=f"{base}/jwks",
        name=name,
        actor=ADMIN,
    )
