"""Who may do what: the one permission decision every edge (LTI UI, admin API) asks.

A principal is a tenant user with what two sources give them, by union:

* their **tenant role** (``users.role``, :mod:`provisioning.tenant_roles`): the Administrator may do
  everything in the tenant; Curator, Report viewer and custom roles grant their permissions tenant-wide
  (``Principal.grants``); the Manager manages the groups of the courses they teach; a Learner nothing more;
* their **launch** (``provisioning/roles.py``): a system or institution role the tenant lists in
  ``settings.lti.admin_roles`` makes an admin; one the tenant's ``lti_role_map`` lists adds that tenant role
  for the session (``provisioning/role_maps.py``); a course Instructor, TeachingAssistant or course
  Administrator manages the groups of the courses they teach, the users in those groups and the users
  shared with them (the ``share`` batch action), with the actions of the tenant's manager permission set,
  and sees the logs of that scope only; and an admin may make anyone a manager of chosen groups
  (``group_managers``), with the permissions chosen there.

``Principal.role`` is the kind of reach that results: ``admin``, ``manager`` (course-scoped, plus any
grants), ``staff`` (tenant-wide grants only) or ``learner`` (their own groups, tasks, certificates and
notifications, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, String, cast, exists, or_, select, union
from sqlalchemy.orm import Session

from provisioning.errors import Forbidden
from provisioning.i18n import N_, Message
from provisioning.imports.preview import USERS_FILE_REFUSAL
from provisioning.imports.scope import import_groups
from provisioning.lti.registrations import lti_settings
from provisioning.models import (
    ActivityEvent,
    CourseGroup,
    EmailMessage,
    Enrollment,
    Group,
    GroupManager,
    ManagerShare,
    Membership,
    Operation,
    Tenant,
    User,
)
from provisioning.role_maps import lti_mapped_role
from provisioning.roles import COURSE_MANAGER_ROLES
from provisioning.runtime import Runtime
from provisioning.settings_catalog import MANAGER_PERMISSIONS
from provisioning.store.users import tenant_user_ids
from provisioning.tenant_roles import most_privileged, role_of

# Actions on groups and users that a manager's permission set can grant.
MANAGER_ACTIONS = MANAGER_PERMISSIONS
# What a learner may do, and only on their own things.
OWN_ACTIONS = ("view_own",)
# Actions on one group: a manager's on the groups of the courses they teach; a learner's view_group on
# their own groups shows the group's name and their own membership only (view_members is not theirs).
GROUP_ACTIONS = ("view_group", "view_members", "manage_group", "sync_roster")
# Every signed-in principal may ask; the object (an operation) is checked where it is loaded.
SIGNED_IN_ACTIONS = ("view_own", "follow_operation")
# Tenant-wide actions of managers and admins that no permission set withholds.
STAFF_ACTIONS = ("list_groups",)
# One person's page: their own for everyone, the people a manager reaches (with view_users).
PERSON_ACTIONS = ("view_person",)
# An upload the principal started: the upload permission, and the import is checked where it is loaded.
SAME_AS = {"use_import": "upload"}
# Admins only: changing a group itself (its name, description, kind; deleting it), choosing its managers,
# the tenant's settings (join URL, languages, the manager permission set, LMS platforms) and its roles
# (no role but the Administrator grants them).
ADMIN_ACTIONS = ("edit_group", "assign_managers", "manage_settings", "manage_roles")
# Pages that need no sign-in (the sign-in link's page, static assets).
PUBLIC = "public"
# Every action a /ui route may declare (ui.blueprint.rule); docs/PERMISSIONS.md has a row for each.
ACTIONS = (
    PUBLIC,
    *dict.fromkeys(
        SIGNED_IN_ACTIONS + STAFF_ACTIONS + GROUP_ACTIONS + PERSON_ACTIONS + MANAGER_ACTIONS + ADMIN_ACTIONS
    ),
    *SAME_AS,
)


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    user_id: int
    role: str  # admin | manager | staff | learner: the reach (see the module's docstring)
    course_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)  # a manager's, in the courses they teach
    grants: frozenset[str] = frozenset()  # the tenant role's, on the whole tenant
    tenant_role: str = "learner"  # users.role (or the launch's mapped role when it wins): a tenant role's key
    role_label: str = "Learner"  # that role's name
    # The groups an admin made this person a manager of, each with the permissions chosen there.
    assigned: Mapping[int, frozenset[str]] = field(default_factory=dict, hash=False)

    @property
    def may(self) -> frozenset[str]:
        """Every action the principal holds somewhere (for showing controls; :func:`can` decides)."""
        return self.permissions | self.grants


def principal_for(
    rt: Runtime,
    tenant_id: int,
    user_id: int,
    role: str,
    course_id: int | None = None,
    *,
    platform_roles: tuple[str, ...] = (),
) -> Principal:
    """The principal of ``user_id``, launched as ``role`` (admin | manager | learner): the launch's rights and
    their tenant role's, by union (read on every request, so a changed role or role definition applies at once).

    ``platform_roles`` (the launch's system and institution roles) add the tenant role the tenant's
    ``lti_role_map`` gives them, for this session only, read on every request too (never stored in ``users.role``).

    A person an admin made a manager of groups (``group_managers``) manages those groups whatever their launch
    or tenant role: with the permissions chosen for each group, within the tenant's manager permission set.
    """
    with rt.db.read() as s:
        tenant = s.get_one(Tenant, tenant_id)
        key = s.scalar(select(User.role).where(User.tenant_id == tenant_id, User.id == user_id)) or "learner"
        tenant_role = role_of(s, tenant_id, key)
        launched_as = lti_mapped_role(s, tenant_id, tenant.settings, platform_roles) if platform_roles else None
        manager_perms = frozenset(lti_settings(tenant).manager_permissions)
        rows = s.execute(
            select(GroupManager.group_id, GroupManager.permissions).where(
                GroupManager.tenant_id == tenant_id, GroupManager.user_id == user_id
            )
        )
        assigned = {gid: frozenset(perms or ()) & manager_perms for gid, perms in rows}
    held = [tenant_role, *([launched_as] if launched_as is not None else [])]
    grants = frozenset().union(*(r.permissions for r in held))
    tenant_role = most_privileged(held) or tenant_role  # the one the pages name
    if role == "admin" or any(r.is_admin for r in held):
        return Principal(
            tenant_id, user_id, "admin", course_id, frozenset(), frozenset(), tenant_role.key, tenant_role.label
        )
    if role == "manager" or any(r.course_scoped for r in held):
        kind, perms = "manager", manager_perms
    elif assigned:
        # Not course staff: a group they create would belong to a course they don't teach, so not create_groups.
        kind, perms = "manager", frozenset().union(*assigned.values()) - {"create_groups"}
    else:
        kind, perms = ("staff" if grants else "learner"), frozenset()
    return Principal(tenant_id, user_id, kind, course_id, perms, grants, tenant_role.key, tenant_role.label, assigned)


def wide(principal: Principal, action: str) -> bool:
    """Does the principal hold ``action`` on the whole tenant (an admin, or their tenant role grants it)?"""
    return principal.role == "admin" or SAME_AS.get(action, action) in principal.grants


def can(rt: Runtime, principal: Principal, action: str, obj: Group | User | None = None) -> bool:
    """May ``principal`` do ``action`` on ``obj`` (a Group, a User, or None for the tenant)?"""
    action = SAME_AS.get(action, action)
    if obj is not None and getattr(obj, "tenant_id", None) != principal.tenant_id:
        return False
    if principal.role == "admin":
        return True
    if obj is None and action in SIGNED_IN_ACTIONS:
        return True
    if action in principal.grants:
        # Tenant-wide, like an admin's, except that members of automatic and roster groups follow their
        # rule or the LMS: only an admin edits those by hand.
        if not (action == "manage_group" and isinstance(obj, Group) and obj.kind != "manual"):
            return True
    if action in PERSON_ACTIONS and "view_users" in principal.grants:
        return True
    if principal.role in ("learner", "staff"):
        return _learner_can(rt, principal, action, obj)
    if principal.role != "manager":
        return False
    if action in MANAGER_ACTIONS and action not in principal.permissions:
        return False
    if action in PERSON_ACTIONS and "view_users" not in principal.permissions:
        return False
    if action not in MANAGER_ACTIONS + GROUP_ACTIONS + OWN_ACTIONS + STAFF_ACTIONS + PERSON_ACTIONS:
        return False
    with rt.db.read() as s:
        if isinstance(obj, Group):
            # Members of automatic groups follow their rule: a manager adds people to hand-edited groups
            # and to roster groups (where those they add are kept apart from the LMS's roster, which a sync
            # never removes them from; the roster's own members are the LMS's to remove).
            if action == "manage_group" and obj.kind not in ("manual", "roster"):
                return False
            if _teaches_group(s, principal, obj.id):
                return True
            # Assigned by an admin: only the actions chosen for this group.
            chosen = principal.assigned.get(obj.id)
            return chosen is not None and (action not in MANAGER_ACTIONS or action in chosen)
        if isinstance(obj, User):
            return obj.id == principal.user_id or _manages_user(s, principal, obj.id)
    return obj is None and action in MANAGER_ACTIONS + STAFF_ACTIONS


# What a refusal tells the person, for each action: a sentence about what they tried, never the action's
# internal name.  ``{what}`` is the object the URL names ("this group", "this person"); without one, the
# action's own words say what is out of reach.  tests/unit/test_refusal_wording.py checks every action.
REFUSALS: dict[str, str] = {
    "view_own": N_("You don't have access to %(what)s."),
    "follow_operation": N_("You don't have access to this operation."),
    "list_groups": N_("You don't have access to the list of groups."),
    "view_group": N_("You don't have access to %(what)s."),
    "view_members": N_("You can't see the members of %(what)s."),
    "manage_group": N_("You can't change the members of %(what)s."),
    "sync_roster": N_("You can't sync the course roster of %(what)s."),
    "view_person": N_("You don't have access to %(what)s."),
    "view_users": N_("You don't have access to %(what)s."),
    "manage_users": N_("You can't change %(what)s."),
    "export": N_("You can't download the members of %(what)s."),
    "message": N_("You can't send messages to the members of %(what)s."),
    "batch_actions": N_("You can't run batch actions on %(what)s."),
    "view_activity": N_("You don't have access to the logs."),
    "upload": N_("You can't upload files."),
    "create_groups": N_("You can't create groups."),
    "edit_group": N_("You can't change or delete %(what)s."),
    "assign_managers": N_("You can't choose the managers of %(what)s."),
    "manage_settings": N_("You can't change the organisation's settings: only an administrator can."),
    "manage_roles": N_("You can't manage roles."),
}
# The object of a refusal without an object (the tenant-wide pages), by action.
_TENANT_WHAT = {
    "view_own": N_("this page"),
    "view_users": N_("the list of people"),
    "view_person": N_("this person"),
    "manage_users": N_("people's accounts"),
    "view_group": N_("this group"),
    "view_members": N_("this group"),
    "manage_group": N_("this group"),
    "sync_roster": N_("this group"),
    "export": N_("this group"),
    "message": N_("this group"),
    "batch_actions": N_("these people"),
    "edit_group": N_("this group"),
    "assign_managers": N_("this group"),
}


def refusal(action: str, obj: Group | User | None = None) -> str:
    """The sentence a person reads when :func:`can` says no to ``action`` on ``obj``."""
    action = SAME_AS.get(action, action)
    if isinstance(obj, Group):
        what = N_("this group")
    elif isinstance(obj, User):
        what = N_("this person")
        if action in ("manage_users", "export", "message", "batch_actions", "view_activity", "view_members"):
            return N_("You don't have access to this person.")
    else:
        what = _TENANT_WHAT.get(action, N_("this page"))
    if action not in REFUSALS:
        return N_("You don't have access to this page.")
    return Message(REFUSALS[action], what=Message(what)) if "%(what)s" in REFUSALS[action] else REFUSALS[action]


def require(rt: Runtime, principal: Principal, action: str, obj: Group | User | None = None) -> None:
    """Raise :class:`Forbidden` (with :func:`refusal`'s sentence) unless :func:`can` says yes."""
    if not can(rt, principal, action, obj):
        raise Forbidden(refusal(action, obj))


def _learner_can(rt: Runtime, principal: Principal, action: str, obj: Group | User | None) -> bool:
    if action not in ("view_own", "view_group", "view_person"):
        return False
    if isinstance(obj, User):
        return obj.id == principal.user_id
    if isinstance(obj, Group):
        with rt.db.read() as s:
            return bool(
                s.scalar(select(exists().where(Membership.group_id == obj.id, Membership.user_id == principal.user_id)))
            )
    return obj is None


def beyond_reach(rt: Runtime, principal: Principal, user_ids: list[int]) -> list[int]:
    """Those of ``user_ids`` an account-wide action (deactivate, ...: ``account_wide`` in the batch registry)
    may not touch.  Admins reach everyone.  A manager reaches only people wholly within their scope: not
    staff (a manager or admin by role, or teaching any course) and in no group the manager does not manage,
    so being a member of one's group is never a lever on another course's staff or students."""
    ids = sorted(set(user_ids))
    if principal.role == "admin" or not ids:
        return []
    if principal.role != "manager" and not wide(principal, "manage_users"):
        return ids  # a tenant role without manage_users changes nobody's account
    t = principal.tenant_id
    staff = select(User.id).where(User.tenant_id == t, User.id.in_(ids), User.role != "learner")
    teaching = select(Enrollment.user_id).where(
        Enrollment.tenant_id == t,
        Enrollment.user_id.in_(ids),
        Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
        Enrollment.status != "dropped",
    )
    elsewhere = select(Membership.user_id).where(
        Membership.tenant_id == t, Membership.user_id.in_(ids), Membership.group_id.not_in(_managed_groups(principal))
    )
    # A role granting manage_users tenant-wide reaches every learner, never staff (only an admin does).
    reach = union(staff, teaching) if wide(principal, "manage_users") else union(staff, teaching, elsewhere)
    with rt.db.read() as s:
        out = set(s.scalars(reach))
    return [i for i in ids if i in out]


def scoped_import_groups(rt: Runtime, principal: Principal, listed: list[dict]) -> list[dict]:
    """An import preview's groups as the principal may see them: a manager sees the groups they manage
    (and, with create_groups, the new ones); any other group is named as the file names it, no more."""
    if principal.role == "admin" or (wide(principal, "manage_group") and wide(principal, "create_groups")):
        return listed
    may_create = _may_create(principal)
    ids = sorted({g["id"] for g in listed if g.get("id") is not None})
    with rt.db.read() as s:
        managed = _managed_among(s, principal, ids)
    # Not theirs: neither "new" nor "existing" (that would say whether the name exists), and no counts.
    hidden = {
        "id": None,
        "new": None,
        "members_before": None,
        "members_after": None,
        "preview_members_after": None,
        "listed": None,
    }
    return [g if g.get("id") in managed or (g.get("id") is None and may_create) else {**g, **hidden} for g in listed]


def import_users_within(principal: Principal):
    """The users a principal's upload may name (None: any of the tenant's): a manager's scope only, so a
    file can neither pull someone from outside it into their groups nor tell which emails exist."""
    return user_scope(principal)


def group_scope(principal: Principal):
    """The groups a principal may list, as a SELECT of group ids; None means every group of the tenant."""
    if wide(principal, "list_groups") or wide(principal, "view_group"):
        return None
    if principal.role == "manager":
        return _managed_groups(principal)
    return select(Membership.group_id).where(
        Membership.tenant_id == principal.tenant_id, Membership.user_id == principal.user_id
    )


def groups_of_user_scope(principal: Principal, user_id: int):
    """The groups ``user_id`` is a member of that the principal may see, as a SELECT of group ids."""
    theirs = select(Membership.group_id).where(
        Membership.tenant_id == principal.tenant_id, Membership.user_id == user_id
    )
    scope = group_scope(principal)
    return theirs if scope is None else theirs.where(Membership.group_id.in_(scope))


def _taught_courses(principal: Principal):
    roles = sorted(COURSE_MANAGER_ROLES)
    return select(Enrollment.course_id).where(
        Enrollment.tenant_id == principal.tenant_id,
        Enrollment.user_id == principal.user_id,
        Enrollment.role.in_(roles),
        Enrollment.status != "dropped",
    )


def _teaches_group(s: Session, principal: Principal, group_id: int) -> bool:
    return bool(
        s.scalar(
            select(
                exists().where(CourseGroup.group_id == group_id, CourseGroup.course_id.in_(_taught_courses(principal)))
            )
        )
    )


def _manages_group(s: Session, principal: Principal, group_id: int) -> bool:
    return group_id in principal.assigned or _teaches_group(s, principal, group_id)


def _may_create(principal: Principal) -> bool:
    """May the principal's upload create groups: tenant-wide, or a manager's linked to their launch's course."""
    return wide(principal, "create_groups") or (
        "create_groups" in principal.permissions and principal.course_id is not None
    )


def _managed_among(s: Session, principal: Principal, ids: list[int]) -> set[int]:
    """Those of the group ids ``ids`` whose members the principal may change (the tenant's, by grant)."""
    if not ids:
        return set()
    if wide(principal, "manage_group"):
        return set(s.scalars(select(Group.id).where(Group.tenant_id == principal.tenant_id, Group.id.in_(ids))))
    return set(s.scalars(select(Group.id).where(Group.id.in_(ids), Group.id.in_(_managed_groups(principal)))))


def _managed_groups(principal: Principal):
    """The groups a manager manages, as a SELECT of group ids: their courses' groups and those assigned to them."""
    return union(
        select(CourseGroup.group_id).where(CourseGroup.course_id.in_(_taught_courses(principal))),
        select(GroupManager.group_id).where(
            GroupManager.tenant_id == principal.tenant_id, GroupManager.user_id == principal.user_id
        ),
    )


def _shared_with(principal: Principal):
    return select(ManagerShare.user_id).where(
        ManagerShare.tenant_id == principal.tenant_id, ManagerShare.manager_id == principal.user_id
    )


def _manages_user(s: Session, principal: Principal, user_id: int) -> bool:
    """A manager reaches the users of the groups they manage and the users shared with them."""
    return bool(
        s.scalar(
            select(exists().where(Membership.user_id == user_id, Membership.group_id.in_(_managed_groups(principal))))
        )
        or s.scalar(
            select(
                exists().where(
                    ManagerShare.tenant_id == principal.tenant_id,
                    ManagerShare.manager_id == principal.user_id,
                    ManagerShare.user_id == user_id,
                )
            )
        )
    )


def user_scope(principal: Principal):
    """The users a principal may see and act on, as a SELECT of user ids; None means every user of the tenant.

    A manager: the members of the groups they manage, the users shared with them, and themselves.
    """
    if wide(principal, "view_users"):
        return None
    me = select(User.id).where(User.tenant_id == principal.tenant_id, User.id == principal.user_id)
    if principal.role != "manager":
        return me
    members = select(Membership.user_id).where(
        Membership.tenant_id == principal.tenant_id, Membership.group_id.in_(_managed_groups(principal))
    )
    return union(members, _shared_with(principal), me)


def course_scope(principal: Principal):
    """The courses in which a principal may change people's progress (their enrollments, on a person's page),
    as a SELECT of course ids; None means every course of the tenant (admins, a tenant role granting
    ``manage_users``).  A manager: the courses of the groups they manage (taught or assigned to them)."""
    if wide(principal, "manage_users"):
        return None
    return select(CourseGroup.course_id).where(CourseGroup.group_id.in_(_managed_groups(principal)))


def shared_scope(principal: Principal):
    """The users shared with a manager (``share {manager_id}``), as a SELECT of user ids."""
    return _shared_with(principal)


# --- the logs a principal sees -----------------------------------------------------------------
# Admins see the tenant's whole logs (None: no condition).  A manager sees the operations they
# started or that target a group they manage, the activity they did or that concerns their groups
# and users, and the emails to their users or sent by their operations.


def operation_scope(principal: Principal, actor_name: str):
    """A condition on Operation rows the principal may see, or None for all of the tenant's."""
    if wide(principal, "view_activity"):
        return None
    if principal.role != "manager" or "view_activity" not in principal.permissions:
        return Operation.requested_by == actor_name
    managed = _managed_groups(principal)
    # Group ids exceed 32 bits (models.group.GROUP_ID_START): compare as BIGINT, not as_integer().
    return or_(
        Operation.requested_by == actor_name,
        cast(Operation.params["group_id"].as_string(), BigInteger).in_(managed),
        cast(Operation.params[("selection", "group_id")].as_string(), BigInteger).in_(managed),
    )


def activity_scope(principal: Principal, actor_name: str):
    """A condition on ActivityEvent rows the principal may see, or None for all of the tenant's."""
    if wide(principal, "view_activity"):
        return None
    if principal.role != "manager" or "view_activity" not in principal.permissions:
        return ActivityEvent.actor == actor_name
    users = user_scope(principal).subquery()
    return or_(
        ActivityEvent.actor == actor_name,
        (ActivityEvent.object_type == "group")
        & ActivityEvent.object_id.in_(select(cast(_managed_groups(principal).subquery().c.group_id, String))),
        (ActivityEvent.object_type == "user") & ActivityEvent.object_id.in_(select(cast(users.c[0], String))),
    )


def email_scope(principal: Principal, actor_name: str):
    """A condition on EmailMessage rows the principal may see, or None for all of the tenant's."""
    if wide(principal, "view_activity"):
        return None
    mine = select(Operation.id).where(Operation.tenant_id == principal.tenant_id, Operation.requested_by == actor_name)
    if principal.role != "manager" or "view_activity" not in principal.permissions:
        return EmailMessage.operation_id.in_(mine)
    return or_(EmailMessage.operation_id.in_(mine), EmailMessage.user_id.in_(user_scope(principal)))


def visible_user_ids(rt: Runtime, principal: Principal, user_ids: list[int]) -> list[int]:
    """Those of ``user_ids`` that are the tenant's users the principal may see (sorted; chunked lookups)."""
    with rt.db.read() as s:
        return sorted(tenant_user_ids(s, principal.tenant_id, user_ids, within=user_scope(principal)))


@dataclass(frozen=True)
class Names:
    """Names of the users and groups a page mentions, by id: only those the principal may open; and
    which of the ids are no longer the tenant's at all (deleted, whoever asks)."""

    users: dict[int, str]
    groups: dict[int, str]
    gone_users: frozenset[int] = frozenset()
    gone_groups: frozenset[int] = frozenset()


def names_in_scope(rt: Runtime, principal: Principal, user_ids: set[int], group_ids: set[int]) -> Names:
    """The names of those of ``user_ids`` and ``group_ids`` that are the tenant's and in the principal's
    scope (user_scope, group_scope); one query for each kind, whatever the number of ids."""
    users: dict[int, str] = {}
    groups: dict[int, str] = {}
    gone_users = gone_groups = frozenset[int]()
    with rt.db.read() as s:
        if user_ids:
            stmt = select(User.id, User.display_name, User.given_name, User.family_name, User.username).where(
                User.tenant_id == principal.tenant_id, User.id.in_(sorted(user_ids))
            )
            if (seen := user_scope(principal)) is not None:
                stmt = stmt.where(User.id.in_(seen))
            for uid, display, given, family, username in s.execute(stmt):
                users[uid] = display or " ".join(p for p in (given, family) if p) or username
            gone_users = _gone(s, User, principal.tenant_id, user_ids - set(users))
        if group_ids:
            gstmt = select(Group.id, Group.name).where(
                Group.tenant_id == principal.tenant_id, Group.id.in_(sorted(group_ids))
            )
            if (listed := group_scope(principal)) is not None:
                gstmt = gstmt.where(Group.id.in_(listed))
            groups = {gid: name for gid, name in s.execute(gstmt)}
            gone_groups = _gone(s, Group, principal.tenant_id, group_ids - set(groups))
    return Names(users, groups, gone_users, gone_groups)


def _gone(s: Session, model: Any, tenant_id: int, ids: set[int]) -> frozenset[int]:
    """Those of ``ids`` that are no row of the tenant's (a deleted person or group, not one out of scope)."""
    if not ids:
        return frozenset()
    there = set(s.scalars(select(model.id).where(model.tenant_id == tenant_id, model.id.in_(sorted(ids)))))
    return frozenset(ids - there)


def is_shared_with(rt: Runtime, principal: Principal, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` are shared with the principal (a manager); for labelling lists."""
    if principal.role != "manager" or not user_ids:
        return set()
    with rt.db.read() as s:
        return set(s.scalars(_shared_with(principal).where(ManagerShare.user_id.in_(sorted(set(user_ids))))))


def can_see_operation(rt: Runtime, principal: Principal, op: Operation, actor_name: str) -> bool:
    """The one-row form of :func:`operation_scope`: admins, whoever started it, a manager of its group."""
    if op.tenant_id != principal.tenant_id:
        return False
    if wide(principal, "view_activity") or op.requested_by == actor_name:
        return True
    params = op.params or {}
    group_id = params.get("group_id", (params.get("selection") or {}).get("group_id"))
    if principal.role != "manager" or "view_activity" not in principal.permissions or not isinstance(group_id, int):
        return False
    with rt.db.read() as s:
        return _manages_group(s, principal, group_id)


def import_refusals(rt: Runtime, principal: Principal, import_id: int) -> list[str]:
    """Why the principal may not commit this import (empty: they may).  Admins may commit any import;
    a manager with ``upload`` only files for groups they manage, and new groups only with
    ``create_groups`` and a course to link them to (the course of their launch)."""
    imp, named = import_groups(rt, principal.tenant_id, import_id)
    if principal.role == "admin":
        return []
    if not wide(principal, "upload") and (principal.role != "manager" or "upload" not in principal.permissions):
        return [refusal("upload")]
    if imp.format == "users" and not wide(principal, "manage_users"):
        return [USERS_FILE_REFUSAL]
    refusals = []
    may_create = _may_create(principal)
    ids = sorted({g.group_id for g in named if g.group_id is not None})
    with rt.db.read() as s:
        managed = _managed_among(s, principal, ids)
        kinds = (
            {gid: kind for gid, kind in s.execute(select(Group.id, Group.kind).where(Group.id.in_(ids)))} if ids else {}
        )
    for g in named:
        where = f"Row {g.first_row}: " if g.first_row else ""
        # Without create_groups, a group that doesn't exist and another course's group read alike:
        # the preview must not tell a manager which group names exist in the tenant.
        if (g.group_id is None and not may_create) or (g.group_id is not None and g.group_id not in managed):
            refusals.append(
                f"{where}group {g.name!r} is not one of your groups"
                + ("" if may_create else ", and your permission set does not let you create groups")
                + ". Rename it to one of your groups, or drop its rows."
            )
        elif g.group_id is not None and kinds.get(g.group_id) != "manual":
            refusals.append(
                f"{where}group {g.name!r} is a {kinds.get(g.group_id)} group: its members come from "
                f"{'the LMS roster' if kinds.get(g.group_id) == 'roster' else 'its rule'}, not from a file. "
                "Rename it to one of your hand-edited groups, or drop its rows."
            )
    return refusals
