"""Memberships as stored rows: set-based inserts and deletes, the group's change stamp, and which
ids are users of the tenant.  Primitives that never commit; :mod:`provisioning.services.memberships`
holds the use cases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from provisioning.chunking import IN_LIST, chunked
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_
from provisioning.models import Group, Membership, User, utcnow
from provisioning.store.users import tenant_user_ids


def ensure_hand_editable(group: Group) -> None:
    """Automatic groups follow their rule; their members can't be changed by hand."""
    if group.kind == "automatic":
        raise Conflict(
            N_(
                "Group %(name)r is automatic: its members follow its rule and can't be changed by hand. Edit the rule "
                "or its include/exclude lists instead."
            ),
            field="members",
            name=group.name,
        )


def touch_group(s: Session, group_id: int, group: Group | None = None) -> None:
    """A new version of the group (its members changed); ``group``, when loaded, gets it too."""
    version, updated_at = s.execute(
        update(Group)
        .where(Group.id == group_id)
        .values(version=Group.version + 1, updated_at=utcnow())
        .returning(Group.version, Group.updated_at)
        .execution_options(synchronize_session=False)
    ).one()
    if group is not None:
        set_committed_value(group, "version", version)
        set_committed_value(group, "updated_at", updated_at)


def insert_members(s: Session, tenant_id: int, group_id: int, user_ids: Sequence[int], source: str) -> list[int]:
    """Insert memberships for those of ``user_ids`` that are users of the tenant; returns the new ones."""
    added: list[int] = []
    now = utcnow()
    for chunk in chunked(user_ids, IN_LIST):
        select_users = select(
            literal(group_id),
            User.id,
            literal(tenant_id),
            literal(source),
            literal(now, type_=Membership.added_at.type),
        ).where(User.tenant_id == tenant_id, User.id.in_(chunk))
        stmt = (
            insert_ignoring_conflicts(s, Membership.__table__)
            .from_select(
                ["group_id", "user_id", "tenant_id", "source", "added_at"],
                select_users,
            )
            .returning(Membership.__table__.c.user_id)
        )
        added.extend(s.scalars(stmt).all())
    return added


def delete_members(s: Session, group_id: int, user_ids: Sequence[int], *, source: str | None = None) -> list[int]:
    """Delete those of ``user_ids`` that are members (``source``: only members from that source)."""
    removed: list[int] = []
    ids = list(user_ids)
    for chunk in chunked(ids, IN_LIST):
        stmt = delete(Membership).where(Membership.group_id == group_id, Membership.user_id.in_(chunk))
        if source is not None:
            stmt = stmt.where(Membership.source == source)
        removed.extend(s.scalars(stmt.returning(Membership.user_id)).all())
    return removed


def unknown_user_ids(s: Session, tenant_id: int, user_ids: Sequence[int]) -> list[int]:
    """Those of ``user_ids`` that are not users of the tenant (checked in chunks, in SQL)."""
    known = tenant_user_ids(s, tenant_id, user_ids)
    return [i for i in sorted(set(user_ids)) if i not in known]


def refuse_unknown_users(s: Session, tenant_id: int, user_ids: Sequence[int]) -> None:
    missing = unknown_user_ids(s, tenant_id, user_ids) if user_ids else []
    if missing:
        raise InvalidInput(
            N_("Some members are not users of this tenant; nothing was changed."),
            details={"members": [f"No user with id {i}." for i in missing[:100]]},
        )
