"""Users: create, read, list, update.  Deactivation lives in :mod:`.lifecycle`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.errors import (
    Forbidden,
    InvalidInput,
    VersionMismatch,
)
from provisioning.i18n import N_, Message
from provisioning.mail import trigger_events
from provisioning.models import USER_STATUSES, Tenant, User
from provisioning.pagination import Page, paginate
from provisioning.role_maps import apply_scim_roles
from provisioning.rules.definition import reevaluate_users
from provisioning.runtime import Runtime
from provisioning.services.invitations import supersede_links
from provisioning.services.lifecycle import deactivate_users, delete_users, reactivate_users
from provisioning.services.notifications import deliver_pending
from provisioning.sql import escape_like
from provisioning.store.users import (
    add_user,
    apply_changes,
    load_user,
    name_matches,
)

# The acting user (Actor.user_id) may not end their own access; batch actions say the same
# through provisioning.batch.registry.own_access_refusal.
_OWN_CHANGE = N_(
    "You may not deactivate yourself or change your own role: it would end your own access. Ask another administrator."
)
_OWN_DELETE = N_("You may not delete yourself: it would end your own access. Ask another administrator.")


def create_user(
    rt: Runtime,
    tenant_id: int,
    values: dict[str, Any],
    actor: Actor,
    *,
    reevaluate: bool = False,
    idp_roles: bool = False,
) -> User:
    """Create one user.  ``values`` uses the attribute names of :data:`EDITABLE`.

    ``reevaluate``: also re-evaluate the user against the automatic groups, in the same unit of work.
    ``idp_roles``: the values come from the identity provider (SCIM), whose roles (``extra["roles"]``) give
    the tenant role the tenant's ``scim_role_map`` says (:mod:`provisioning.role_maps`).
    """
    with rt.db.transaction() as s:
        if idp_roles:
            values = dict(values)
            apply_scim_roles(s, tenant_id, s.get_one(Tenant, tenant_id).settings, None, values)
        user = add_user(s, tenant_id, values, actor)
        if user.status != "deactivated":
            trigger_events.seats_assigned(s, rt, tenant_id, [user.id])
        if reevaluate:
            _reevaluate(rt, s, tenant_id, user.id)
        return user


def _reevaluate(rt: Runtime, s: Session, tenant_id: int, user_id: int) -> None:
    reevaluate_users(s, tenant_id, [user_id], rt=rt)


def get_user(rt: Runtime, tenant_id: int, user_id: int) -> User:
    with rt.db.read() as s:
        return load_user(s, tenant_id, user_id)


def list_users(
    rt: Runtime,
    tenant_id: int,
    *,
    q: str | None = None,
    status: str | None = None,
    department: str | None = None,
    page: int = 1,
    per_page: int = 50,
    within: Any = None,
) -> Page[User]:
    """Users of the tenant; ``q`` matches name, username or email, ignoring case; ``department``
    keeps the people of that department (as :func:`departments` lists it, exactly).

    ``within`` (a SELECT of user ids, e.g. :func:`.permissions.user_scope`) keeps only those users.
    """
    if status and status not in USER_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(USER_STATUSES))]},
            status=status,
        )
    stmt = select(User).where(User.tenant_id == tenant_id)
    if within is not None:
        stmt = stmt.where(User.id.in_(within))
    if q:
        pattern = f"%{escape_like(q.strip().lower())}%"
        stmt = stmt.where(
            or_(
                *name_matches(q),
                *(
                    func.lower(c).like(pattern, escape="\\")
                    for c in (User.given_name, User.family_name, User.display_name)
                ),
            )
        )
    if status:
        stmt = stmt.where(User.status == status)
    if department:
        stmt = stmt.where(User.department == department)
    stmt = stmt.order_by(User.id)
    with rt.db.read() as s:
        return paginate(s, stmt, page, per_page)


DEPARTMENT_CHOICES = 500  # beyond this many, the UI asks for the department as text


def departments(rt: Runtime, tenant_id: int, *, within: Any = None, limit: int = DEPARTMENT_CHOICES + 1) -> list[str]:
    """The departments the tenant's people have (of those ``within``, a SELECT of user ids), by name."""
    stmt = select(User.department).where(
        User.tenant_id == tenant_id, User.department.is_not(None), User.department != ""
    )
    if within is not None:
        stmt = stmt.where(User.id.in_(within))
    with rt.db.read() as s:
        return [str(d) for d in s.scalars(stmt.distinct().order_by(User.department).limit(limit))]


def update_user(
    rt: Runtime,
    tenant_id: int,
    user_id: int,
    values: dict[str, Any],
    actor: Actor,
    *,
    if_version: int | None = None,
    reevaluate: bool = False,
    idp_roles: bool = False,
) -> User:
    """Change some attributes of a user (a partial update).

    Deactivating or reactivating goes through :mod:`.lifecycle`, so it behaves the same
    whichever channel asked for it.
    """
    return change_user(
        rt,
        tenant_id,
        user_id,
        lambda user: values,
        actor,
        if_version=if_version,
        reevaluate=reevaluate,
        idp_roles=idp_roles,
    )


def change_user(
    rt: Runtime,
    tenant_id: int,
    user_id: int,
    values_for: Callable[[User], dict[str, Any]],
    actor: Actor,
    *,
    if_version: int | None = None,
    reevaluate: bool = False,
    idp_roles: bool = False,
) -> User:
    """:func:`update_user` with the values computed from the locked, current user (e.g. a patch).

    The user is read once, FOR UPDATE, so a concurrent change waits instead of being lost.
    ``reevaluate``: also re-evaluate the user against the automatic groups, in the same unit of work.
    ``idp_roles``: as for :func:`create_user` (a role an admin gave by hand stays).
    """
    with rt.db.transaction() as s:
        user = load_user(s, tenant_id, user_id, for_update=True)
        if if_version is not None and user.version != if_version:
            raise VersionMismatch(
                N_("User %(user_id)s is at version %(version)s, not %(if_version)s."),
                user_id=user_id,
                version=user.version,
                if_version=if_version,
            )
        values = dict(values_for(user))
        if idp_roles:
            apply_scim_roles(s, tenant_id, s.get_one(Tenant, tenant_id).settings, user, values)
        wanted = values.get("status")
        if wanted is None and values.get("active") is not None and "status" not in values:
            wanted = "active" if values["active"] else "deactivated"
        transitions: dict[tuple[str | None, bool], Callable[..., list[int]]] = {
            ("deactivated", False): deactivate_users,
            ("active", True): reactivate_users,
        }
        lifecycle = transitions.get((wanted, user.status == "deactivated"))
        if actor.user_id == user.id and (
            lifecycle is deactivate_users or ("role" in values and values["role"] != user.role)
        ):
            raise Forbidden(_OWN_CHANGE)
        if lifecycle is not None:
            values.pop("status", None)
            values.pop("active", None)
        was_invited = user.status == "invited"
        edited = apply_changes(s, user, values, actor)
        if was_invited and "email" in edited:
            supersede_links(s, tenant_id, [user.id])  # the links sent to the old address stop working
        if lifecycle is not None:
            changed = lifecycle(s, tenant_id, [user.id], actor)
            if lifecycle is reactivate_users:
                trigger_events.seats_assigned(s, rt, tenant_id, changed)
            s.refresh(user)
        if was_invited and user.status == "active":
            deliver_pending(s, rt, user)  # they arrived: what was kept for them while invited is theirs now
        if reevaluate:
            _reevaluate(rt, s, tenant_id, user.id)
    return user


def delete_user(rt: Runtime, tenant_id: int, user_id: int, actor: Actor, *, if_version: int | None = None) -> None:
    """Delete a user permanently: the same as the batch action (:func:`.lifecycle.delete_users`)."""
    if actor.user_id is not None and actor.user_id == user_id:
        raise Forbidden(_OWN_DELETE)
    with rt.db.transaction() as s:
        user = load_user(s, tenant_id, user_id, for_update=True)
        if if_version is not None and user.version != if_version:
            raise VersionMismatch(
                N_("User %(user_id)s is at version %(version)s, not %(if_version)s."),
                user_id=user_id,
                version=user.version,
                if_version=if_version,
            )
        delete_users(s, tenant_id, [user.id], actor)
