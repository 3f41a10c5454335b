"""Who may do what: the one permission decision every edge (LTI UI, admin API) asks.

A principal is a tenant user with the role a launch gave them:

* ``admin`` (a platform or institution Administrator) may do everything in the tenant;
* ``manager`` (Instructor, TeachingAssistant) manages the groups of the courses they teach
  and the users in those groups, with the actions of the tenant's permission set;
* ``learner`` sees their own groups, tasks, certificates and notifications, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..models import CourseGroup, Enrollment, Group, Membership, Tenant, User
from ..runtime import Runtime
from .lti_launch import MANAGER_ROLES
from .lti_registrations import lti_settings

# Actions on groups and users that a manager's permission set can grant.
MANAGER_ACTIONS = ("view_users", "manage_users", "export", "message", "batch_actions", "view_activity")
# What a learner may do, and only on their own things.
OWN_ACTIONS = ("view_own",)
GROUP_ACTIONS = ("view_group", "manage_group", "sync_roster")


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    user_id: int
    role: str  # admin | manager | learner
    course_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)


def principal_for(rt: Runtime, tenant_id: int, user_id: int, role: str, course_id: int | None = None) -> Principal:
    """A principal with the tenant's configured permission set for managers."""
    with rt.db.read() as s:
        tenant = s.get(Tenant, tenant_id)
        perms = frozenset(lti_settings(tenant).manager_permissions) if role == "manager" else frozenset()
    return Principal(tenant_id=tenant_id, user_id=user_id, role=role, course_id=course_id, permissions=perms)


def can(rt: Runtime, principal: Principal, action: str, obj: Group | User | None = None) -> bool:
    """May ``principal`` do ``action`` on ``obj`` (a Group, a User, or None for the tenant)?"""
    if obj is not None and getattr(obj, "tenant_id", None) != principal.tenant_id:
        return False
    if principal.role == "admin":
        return True
    if principal.role == "learner":
        return _learner_can(rt, principal, action, obj)
    if principal.role != "manager":
        return False
    if action in MANAGER_ACTIONS and action not in principal.permissions:
        return False
    if action not in MANAGER_ACTIONS and action not in GROUP_ACTIONS and action not in OWN_ACTIONS:
        return False
    with rt.db.read() as s:
        if isinstance(obj, Group):
            return _manages_group(s, principal, obj.id)
        if isinstance(obj, User):
            return obj.id == principal.user_id or _manages_user(s, principal, obj.id)
    return obj is None and action in MANAGER_ACTIONS


def require(rt: Runtime, principal: Principal, action: str, obj: Group | User | None = None) -> None:
    """Raise :class:`Forbidden` unless :func:`can` says yes."""
    if not can(rt, principal, action, obj):
        raise Forbidden(f"You may not {action.replace('_', ' ')} here.")


def _learner_can(rt: Runtime, principal: Principal, action: str, obj: Group | User | None) -> bool:
    if action not in ("view_own", "view_group"):
        return False
    if isinstance(obj, User):
        return obj.id == principal.user_id
    if isinstance(obj, Group):
        with rt.db.read() as s:
            return bool(s.scalar(select(exists().where(Membership.group_id == obj.id,
                                                       Membership.user_id == principal.user_id))))
    return obj is None


def group_scope(principal: Principal):
    """The groups a principal may list, as a SELECT of group ids; None means every group of the tenant."""
    if principal.role == "admin":
        return None
    if principal.role == "manager":
        return select(CourseGroup.group_id).where(CourseGroup.course_id.in_(_taught_courses(principal)))
    return select(Membership.group_id).where(Membership.tenant_id == principal.tenant_id,
                                             Membership.user_id == principal.user_id)


def _taught_courses(principal: Principal):
    roles = sorted(MANAGER_ROLES)
    return select(Enrollment.course_id).where(
        Enrollment.tenant_id == principal.tenant_id, Enrollment.user_id == principal.user_id,
        Enrollment.role.in_(roles), Enrollment.status != "dropped")


def _manages_group(s: Session, principal: Principal, group_id: int) -> bool:
    return bool(s.scalar(select(exists().where(
        CourseGroup.group_id == group_id, CourseGroup.course_id.in_(_taught_courses(principal))))))


def _manages_user(s: Session, principal: Principal, user_id: int) -> bool:
    """A manager sees the users of the groups they manage (the "shared users")."""
    managed = select(CourseGroup.group_id).where(CourseGroup.course_id.in_(_taught_courses(principal)))
    return bool(s.scalar(select(exists().where(Membership.user_id == user_id, Membership.group_id.in_(managed)))))
