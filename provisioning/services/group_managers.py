"""Group managers: the people who manage a group, and assigning or removing the ones an admin chooses.

A group has two kinds of managers.  Course staff (Instructors, Teaching assistants and course
Administrators of a course the group is linked to) manage it through the LMS, with the tenant's manager
permission set.  An admin may also make any person of the tenant a manager of one group
(``group_managers``), choosing which of the tenant's manager permissions they have there;
:mod:`provisioning.permissions` honours both on every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import affected
from provisioning.errors import InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import CourseGroup, Enrollment, GroupManager, Tenant, User
from provisioning.roles import COURSE_MANAGER_ROLES
from provisioning.runtime import Runtime
from provisioning.settings_catalog import MANAGER_PERMISSIONS, stored
from provisioning.sql import escape_like
from provisioning.store.groups import load_group
from provisioning.store.users import load_user, name_matches

PICKER_LIMIT = 20


@dataclass(frozen=True)
class Manager:
    """One manager of a group: who, how (``assigned`` by an admin, or ``course`` staff) and what they may do."""

    user_id: int
    name: str
    email: str | None
    how: str  # assigned | course
    permissions: tuple[str, ...]
    since: datetime | None = None


def person_name(user: User) -> str:
    """How people name a user: the display name, else given and family names, else the username."""
    return user.display_name or " ".join(p for p in (user.given_name, user.family_name) if p) or user.username


def tenant_manager_permissions(s: Session, tenant_id: int) -> tuple[str, ...]:
    """The tenant's manager permission set (the ``manager_permissions`` setting), in catalog order."""
    return tuple(stored(s.get_one(Tenant, tenant_id).settings, "manager_permissions"))


def _checked(permissions: Iterable[str], allowed: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(permissions))
    unknown = [p for p in chosen if p not in MANAGER_PERMISSIONS]
    if unknown:
        raise InvalidInput(
            N_("Unknown permission %(permission)r."),
            details={
                "permissions": [Message(N_("Choose among: %(choices)s."), choices=", ".join(MANAGER_PERMISSIONS))]
            },
            permission=unknown[0],
        )
    outside = [p for p in chosen if p not in allowed]
    if outside:
        raise InvalidInput(
            N_("The permission %(permission)r is not in this tenant's manager permission set."),
            details={
                "permissions": [
                    Message(N_("This tenant lets managers have only: %(choices)s."), choices=", ".join(allowed))
                    if allowed
                    else N_("This tenant lets managers have only: nothing.")
                ]
            },
            permission=outside[0],
        )
    return sorted(chosen, key=MANAGER_PERMISSIONS.index)


def _course_staff(group_ids: Sequence[int]):
    return (
        select(CourseGroup.group_id, User)
        .distinct()
        .join(Enrollment, Enrollment.course_id == CourseGroup.course_id)
        .join(User, User.id == Enrollment.user_id)
        .where(
            CourseGroup.group_id.in_(list(group_ids)),
            Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
            Enrollment.status != "dropped",
        )
    )


def manages_group(s: Session, tenant_id: int, group_id: int, user_id: int) -> bool:
    """Whether the person manages the group: assigned to it, or staff of one of its courses."""
    assigned = select(GroupManager.user_id).where(
        GroupManager.tenant_id == tenant_id, GroupManager.group_id == group_id, GroupManager.user_id == user_id
    )
    staff = _course_staff([group_id]).where(User.tenant_id == tenant_id, User.id == user_id)
    return s.scalar(assigned.limit(1)) is not None or s.execute(staff.limit(1)).first() is not None


def managers_of_groups(rt: Runtime, tenant_id: int, group_ids: Sequence[int]) -> dict[int, list[Manager]]:
    """Every manager of each group (assigned ones first, then course staff not also assigned), by group id."""
    found: dict[int, list[Manager]] = {}
    if not group_ids:
        return found
    with rt.db.read() as s:
        tenant_set = tenant_manager_permissions(s, tenant_id)
        assigned = s.execute(
            select(GroupManager, User)
            .join(User, User.id == GroupManager.user_id)
            .where(GroupManager.tenant_id == tenant_id, GroupManager.group_id.in_(list(group_ids)))
        ).all()
        staff = s.execute(_course_staff(group_ids).where(User.tenant_id == tenant_id)).all()
    seen: set[tuple[int, int]] = set()
    for row, user in sorted(assigned, key=lambda r: person_name(r[1]).lower()):
        seen.add((row.group_id, user.id))
        perms = tuple(p for p in tenant_set if p in (row.permissions or []))
        found.setdefault(row.group_id, []).append(
            Manager(user.id, person_name(user), user.email, "assigned", perms, row.created_at)
        )
    for group_id, user in sorted(staff, key=lambda r: person_name(r[1]).lower()):
        if (group_id, user.id) not in seen:
            seen.add((group_id, user.id))
            found.setdefault(group_id, []).append(Manager(user.id, person_name(user), user.email, "course", tenant_set))
    return found


def assign_manager(
    rt: Runtime, tenant_id: int, group_id: int, user_id: int, permissions: Iterable[str], actor: Actor
) -> Manager:
    """Make a person of the tenant a manager of one group with ``permissions`` (a subset of the tenant's
    manager permission set), or change the permissions of one already assigned."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        user = load_user(s, tenant_id, user_id)
        if user.status == "deactivated":
            raise InvalidInput(
                N_("%(person)s is deactivated, so they can't manage a group."),
                details={"user_id": [N_("Choose a person whose account is active.")]},
                person=person_name(user),
            )
        perms = _checked(permissions, tenant_manager_permissions(s, tenant_id))
        row = s.get(GroupManager, (group.id, user.id))
        created = row is None
        if row is None:
            row = GroupManager(group_id=group.id, user_id=user.id, tenant_id=tenant_id, assigned_by=actor.name)
            s.add(row)
        row.permissions = perms
        s.flush()
        record(
            s,
            tenant_id,
            actor,
            "group.manager_assigned" if created else "group.manager_changed",
            "group",
            group.id,
            {"user_id": user.id, "permissions": perms},
        )
        return Manager(user.id, person_name(user), user.email, "assigned", tuple(perms), row.created_at)


def remove_manager(rt: Runtime, tenant_id: int, group_id: int, user_id: int, actor: Actor) -> None:
    """Stop a person managing one group (course staff stay managers through their course)."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        gone = affected(
            s.execute(
                delete(GroupManager).where(
                    GroupManager.tenant_id == tenant_id,
                    GroupManager.group_id == group.id,
                    GroupManager.user_id == user_id,
                )
            )
        )
        if not gone:
            raise NotFound(N_("This person is not an assigned manager of this group."))
        record(s, tenant_id, actor, "group.manager_removed", "group", group.id, {"user_id": user_id})


def find_people(rt: Runtime, tenant_id: int, q: str, *, limit: int = PICKER_LIMIT) -> list[User]:
    """Active people of the tenant whose name, username or email contains ``q`` (the manager picker)."""
    q = (q or "").strip()
    if not q:
        return []
    typed = f"%{escape_like(q.lower())}%"
    names = [
        func.lower(func.coalesce(User.display_name, "")).like(typed, escape="\\"),
        func.lower(func.coalesce(User.given_name, "") + " " + func.coalesce(User.family_name, "")).like(
            typed, escape="\\"
        ),
    ]
    stmt = (
        select(User)
        .where(User.tenant_id == tenant_id, User.status != "deactivated", or_(*name_matches(q), *names))
        .order_by(func.lower(func.coalesce(User.display_name, User.given_name, User.username)), User.id)
        .limit(max(1, min(limit, 100)))
    )
    with rt.db.read() as s:
        return list(s.scalars(stmt))


def permission_set(rt: Runtime, tenant_id: int) -> tuple[str, ...]:
    """The tenant's manager permission set: what an admin may give a group's manager."""
    with rt.db.read() as s:
        return tenant_manager_permissions(s, tenant_id)
