"""Tenant roles: what a person's role in the tenant (``users.role``) lets them do.

Declared once here; :mod:`provisioning.permissions` decides every request with it, the admin API, the CLI,
the batch action "change role", user imports and the UI's role pickers list and check roles through it.

* Built-in roles (every tenant has them; they can't be changed or deleted): Learner, Curator, Manager,
  Report viewer, Administrator.
* Custom roles an admin creates (``tenant_roles`` rows): a name, a description and permissions from
  :data:`ROLE_PERMISSIONS`, each granted **tenant-wide** (on every group and person of the tenant).

A role's permissions are the actions of :mod:`provisioning.permissions` (the rows of docs/PERMISSIONS.md).
The Manager role is the one role scoped to courses: its permissions are the tenant's ``manager_permissions``
setting, on the groups of the courses the person teaches (as for an LTI Instructor).  LTI course roles add to
the tenant role (a union): a Learner launched as a course's Instructor manages that course's groups.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.models import TenantRole, User
from provisioning.models.tenant_role import ROLE_KEY_MAX
from provisioning.settings_catalog import MANAGER_PERMISSIONS

# The actions a role can grant tenant-wide (view_own and follow_operation are everyone's).
ROLE_PERMISSIONS: tuple[str, ...] = (
    "list_groups",
    "view_group",
    "view_members",
    "manage_group",
    "sync_roster",
    "view_person",
    *MANAGER_PERMISSIONS,
)
# What each permission lets a person do, in words (the roles page and the API's listing show these).
PERMISSION_LABELS: dict[str, str] = {
    "list_groups": "See the list of groups",
    "view_group": "Open any group",
    "view_members": "See the members of any group",
    "manage_group": "Add and remove members of hand-edited groups",
    "sync_roster": "Sync course rosters from the LMS",
    "view_person": "Open any person's page",
    "view_users": "See the list of people",
    "manage_users": "Change people's accounts",
    "export": "Download member lists",
    "message": "Send messages to members",
    "batch_actions": "Run batch actions on people",
    "view_activity": "See the action, activity and email logs",
    "upload": "Upload member files",
    "create_groups": "Create groups",
}
LEARNER, CURATOR, MANAGER, REPORTER, ADMIN = "learner", "curator", "manager", "reporter", "admin"
ALL = "all"  # the Administrator's one permission: everything, including managing roles


@dataclass(frozen=True)
class Role:
    key: str  # what users.role holds
    label: str
    description: str
    permissions: tuple[str, ...]  # tenant-wide actions; (ALL,) for the Administrator
    builtin: bool = False
    course_scoped: bool = False  # the Manager: the tenant's manager permissions, in the courses they teach

    @property
    def is_admin(self) -> bool:
        return ALL in self.permissions


BUILTIN_ROLES: tuple[Role, ...] = (
    Role(LEARNER, "Learner", "Their own groups, tasks, certificates and notifications.", (), True),
    Role(
        CURATOR,
        "Curator",
        "Builds the tenant's groups: creates groups, adds and removes members of hand-edited groups, uploads "
        "member files and syncs rosters; sees every group and person.",
        (
            "list_groups",
            "view_group",
            "view_members",
            "manage_group",
            "sync_roster",
            "view_person",
            "view_users",
            "upload",
            "create_groups",
        ),
        True,
    ),
    Role(
        MANAGER,
        "Manager",
        "Manages the groups of the courses they teach, with the tenant's manager permissions.",
        (),
        True,
        course_scoped=True,
    ),
    Role(
        REPORTER,
        "Report viewer",
        "Sees every group, person, member list, report and log; changes nothing.",
        ("list_groups", "view_group", "view_members", "view_person", "view_users", "view_activity", "export"),
        True,
    ),
    Role(ADMIN, "Administrator", "Everything in the tenant, including people's roles.", (ALL,), True),
)
BUILTIN = {r.key: r for r in BUILTIN_ROLES}


def builtin_key(value: str) -> str | None:
    """The key of the built-in role ``value`` names (its key or its name, in any case), or None."""
    wanted = value.strip().casefold()
    return next((r.key for r in BUILTIN_ROLES if wanted in (r.key, r.label.casefold())), None)


def _custom(row: TenantRole) -> Role:
    perms = tuple(p for p in ROLE_PERMISSIONS if p in (row.permissions or []))  # a dropped permission grants nothing
    return Role(row.key, row.label, row.description or "", perms)


def list_roles(s: Session, tenant_id: int) -> list[Role]:
    """The tenant's roles: the built-in ones, then its own by label."""
    rows = s.scalars(select(TenantRole).where(TenantRole.tenant_id == tenant_id).order_by(TenantRole.label))
    return [*BUILTIN_ROLES, *(_custom(r) for r in rows)]


def find_role(s: Session, tenant_id: int, key: str) -> Role | None:
    """The tenant's role ``key`` (its key, or its label in any case), or None."""
    if not isinstance(key, str):
        return None
    wanted = key.strip()
    if wanted.lower() in BUILTIN:
        return BUILTIN[wanted.lower()]
    for role in list_roles(s, tenant_id):
        if role.key == wanted or role.label.casefold() == wanted.casefold():
            return role
    return None


def role_of(s: Session, tenant_id: int, key: str | None) -> Role:
    """The role a stored ``users.role`` names; a key no longer defined (a deleted role) is a Learner's."""
    return (find_role(s, tenant_id, key) if key else None) or BUILTIN[LEARNER]


def check_role(s: Session, tenant_id: int, value: object, field: str = "role") -> str:
    """The key of the tenant's role ``value`` names (a key or a label); InvalidInput naming it otherwise."""
    role = find_role(s, tenant_id, value) if isinstance(value, str) else None
    if role is None:
        raise InvalidInput(
            N_("There is no role %(role)r in this tenant."),
            details={field: [unknown_role(s, tenant_id, value)]},
            role=value,
        )
    return role.key


def unknown_role(s: Session, tenant_id: int, value: object) -> str:
    """The sentence for a role this tenant doesn't have, listing the ones it has."""
    keys = ", ".join(r.key for r in list_roles(s, tenant_id))
    if value is None or value == "":
        return f"Required: one of this tenant's roles: {keys}."
    return f"There is no role {value!r} in this tenant; its roles are: {keys}."


def people_with_role(s: Session, tenant_id: int, key: str) -> int:
    return int(s.scalar(select(func.count()).where(User.tenant_id == tenant_id, User.role == key)) or 0)


def role_key_for(label: str) -> str:
    """A key for a new role's label: lower case ASCII letters, digits and underscores, at most 20."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:ROLE_KEY_MAX].strip("_")
    return key


# Which role wins when an identity provider's or an LMS's roles map to several (the ``scim_role_map`` and
# ``lti_role_map`` settings): the built-in roles in this order, most privileged first, then the tenant's own
# roles by name (their rights can't be ranked against each other, so the order is simply a stable one), and
# the Learner last.  The one place this order is decided.
PRECEDENCE: tuple[str, ...] = (ADMIN, MANAGER, CURATOR, REPORTER)


def most_privileged(roles: list[Role]) -> Role | None:
    """The role of ``roles`` that wins by :data:`PRECEDENCE` (None for no roles)."""
    if not roles:
        return None

    def rank(role: Role) -> tuple[int, str]:
        if role.key in PRECEDENCE:
            return (PRECEDENCE.index(role.key), "")
        if role.key == LEARNER:
            return (len(PRECEDENCE) + 1, "")
        return (len(PRECEDENCE), role.label.casefold())

    return min(roles, key=rank)
