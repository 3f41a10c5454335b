"""What the UI's batch-action pickers offer, and the confirmation's words, for one principal.

The pickers offer only what the action's validation (:mod:`.params`) and the UI's permission checks
would accept: hand-edited groups the principal may change, active people who may manage groups (for
Share, an admin-only action), the service's languages and the user roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from provisioning import permissions
from provisioning.models import Enrollment, Group, User
from provisioning.permissions import Principal
from provisioning.roles import COURSE_MANAGER_ROLES
from provisioning.runtime import Runtime
from provisioning.settings_catalog import LANGUAGES
from provisioning.tenant_roles import BUILTIN_ROLES, list_roles

PICKER_MAX = 500  # options in one picker; the picker's search box narrows them in the browser
EXAMPLES = 5  # people named on the confirmation


@dataclass(frozen=True)
class BatchChoices:
    groups: list[tuple[int, str]]  # hand-edited groups the principal may add people to or remove them from
    managers: list[tuple[int, str]]  # people an admin may share others with (empty for a manager)
    languages: tuple[str, ...] = LANGUAGES
    roles: tuple[tuple[str, str], ...] = tuple((r.key, r.label) for r in BUILTIN_ROLES)  # the tenant's: (key, label)


def _name(display: str | None, given: str | None, family: str | None, username: str) -> str:
    return display or " ".join(p for p in (given, family) if p) or username


def batch_choices(rt: Runtime, principal: Principal) -> BatchChoices:
    """The pickers' options for ``principal``, names in alphabetical order."""
    t = principal.tenant_id
    gstmt = select(Group.id, Group.name).where(Group.tenant_id == t, Group.kind == "manual")
    if (scope := permissions.group_scope(principal)) is not None:
        gstmt = gstmt.where(Group.id.in_(scope))
    teaching = exists().where(
        Enrollment.tenant_id == t,
        Enrollment.user_id == User.id,
        Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
        Enrollment.status != "dropped",
    )
    with rt.db.read() as s:
        groups = [(gid, name) for gid, name in s.execute(gstmt.order_by(func.lower(Group.name)).limit(PICKER_MAX))]
        managers: list[tuple[int, str]] = []
        if principal.role == "admin":
            rows = s.execute(
                select(User.id, User.display_name, User.given_name, User.family_name, User.username, User.email)
                .where(
                    User.tenant_id == t,
                    User.status != "deactivated",
                    or_(User.role.in_(("manager", "admin")), teaching),
                )
                .limit(PICKER_MAX)
            )
            managers = sorted(
                ((uid, f"{_name(d, g, f, u)}" + (f" ({e})" if e else "")) for uid, d, g, f, u, e in rows),
                key=lambda m: m[1].lower(),
            )
        roles = tuple((r.key, r.label) for r in list_roles(s, t))
    return BatchChoices(groups=groups, managers=managers, roles=roles)


@dataclass(frozen=True)
class BatchSummary:
    """What the confirmation names: how many people, a few of them, and the params' objects by name."""

    count: int
    examples: list[str]
    groups: list[str]
    manager: str | None


def batch_summary(rt: Runtime, principal: Principal, user_ids: list[int], params: dict) -> BatchSummary:
    """The names the confirmation of a batch action on ``user_ids`` with ``params`` shows."""
    group_ids = set(params.get("group_ids") or []) | ({params["group_id"]} if params.get("group_id") else set())
    manager_id = params.get("manager_id")
    wanted = set(sorted(user_ids)[: EXAMPLES * 4]) | ({manager_id} if manager_id else set())
    names = permissions.names_in_scope(rt, principal, wanted, group_ids)
    examples = [names.users[u] for u in sorted(user_ids) if u in names.users and u != manager_id][:EXAMPLES]
    if len(examples) < EXAMPLES:
        examples = [names.users[u] for u in sorted(user_ids) if u in names.users][:EXAMPLES]
    return BatchSummary(
        count=len(user_ids),
        examples=examples,
        groups=sorted((names.groups[g] for g in group_ids if g in names.groups), key=str.lower),
        manager=names.users.get(manager_id) if manager_id else None,
    )
