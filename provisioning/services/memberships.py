"""Memberships: list, add, remove and copy members with set-based SQL.

Adding or removing members never loads the group's other members: adding is one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per chunk, removing one
``DELETE ... WHERE user_id IN (...)``.  The group's version is bumped with an
``UPDATE ... SET version = version + 1`` so concurrent changes never lose one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_many
from provisioning.chunking import IN_LIST, chunked
from provisioning.errors import Conflict, InvalidInput, NotFound, VersionMismatch
from provisioning.i18n import N_
from provisioning.identity_keys import identity_key
from provisioning.mail import trigger_events
from provisioning.models import MEMBERSHIP_SOURCES, Group, Membership, User, utcnow
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.pagination import Page, paginate
from provisioning.rules.definition import reevaluate_users
from provisioning.rules.references import Change
from provisioning.runtime import Runtime
from provisioning.services import group_enrollments
from provisioning.services.invitations import invite_new_users
from provisioning.store.groups import add_group, apply_group_changes, load_group
from provisioning.store.members import (
    delete_members,
    ensure_hand_editable,
    insert_members,
    refuse_unknown_users,
    touch_group,
)
from provisioning.store.users import find_users_by_email, name_matches, tenant_user_ids

# A copy chunk (with one audit event per member) commits its progress well within a second.
COPY_CHUNK = 500


@dataclass
class MemberChange:
    added: list[int]
    already_members: int

    @property
    def added_count(self) -> int:
        return len(self.added)


def _member_events(
    tenant_id: int, group_id: int, user_ids: Iterable[int], actor: Actor, action: str
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        dict(
            tenant_id=tenant_id,
            actor=actor.name,
            channel=actor.channel,
            action=action,
            object_type="group",
            object_id=str(group_id),
            details={"user_id": uid},
            created_at=now,
        )
        for uid in user_ids
    ]


def add_members(
    rt: Runtime,
    tenant_id: int,
    group_id: int,
    *,
    user_ids: Sequence[int] = (),
    emails: Sequence[str] = (),
    actor: Actor,
    source: str = "manual",
    invite: bool = False,
    new_user_values: Mapping[str, str] | None = None,
) -> MemberChange:
    """Add users (by id or by email) to a group.  Unknown ids or emails refuse the whole request.

    Except: a single unknown email, or any unknown emails with ``invite=True``, become new
    users with status invited (with ``new_user_values``, e.g. the names typed beside the one address),
    who get an invitation email with the tenant's join link.
    A group manager adds through provisioning/services/group_invitations.py instead (their scope).
    """
    if source not in MEMBERSHIP_SOURCES:
        raise InvalidInput(N_("Unknown membership source %(source)r."), source=source)
    if not user_ids and not emails:
        raise InvalidInput(N_("Give user_ids or emails."), details={"user_ids": [N_("Give user_ids or emails.")]})
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        ensure_hand_editable(group)
        ids = sorted({int(u) for u in user_ids})
        errors: dict[str, list[str]] = {}
        if ids:
            known = tenant_user_ids(s, tenant_id, ids)
            missing = [i for i in ids if i not in known]
            if missing:
                errors["user_ids"] = [f"No user with id {i}." for i in missing[:100]]
        if emails:
            found = find_users_by_email(s, tenant_id, emails)
            missing_emails = [e for e in emails if e and identity_key(e) not in found]
            if missing_emails and (invite or (len(emails) == 1 and not user_ids)):
                found.update(invite_new_users(s, rt, tenant_id, missing_emails, actor, values=new_user_values))
                missing_emails = []
            if missing_emails:
                errors["emails"] = [f"No user with email {e!r}." for e in missing_emails[:100]]
            ids = sorted(set(ids) | set(found.values()))
        if errors:
            raise InvalidInput(N_("Some members could not be found; nothing was changed."), details=errors)
        added = insert_members(s, tenant_id, group.id, ids, source)
        if added:
            touch_group(s, group.id)
            record_many(s, _member_events(tenant_id, group.id, added, actor, "group.member_added"))
            trigger_events.members_added(s, rt, tenant_id, group.id, added)
            group_enrollments.enroll_added_members(s, rt, tenant_id, group.id, added, actor)
    return MemberChange(added=added, already_members=len(ids) - len(added))


def remove_members(rt: Runtime, tenant_id: int, group_id: int, user_ids: Sequence[int], actor: Actor) -> int:
    """Remove users from a group; returns how many were members."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        ensure_hand_editable(group)
        if group.kind == "roster":
            _refuse_roster_members(s, group, user_ids)
        removed = delete_members(s, group.id, user_ids)
        if removed:
            touch_group(s, group.id)
            record_many(s, _member_events(tenant_id, group.id, removed, actor, "group.member_removed"))
    return len(removed)


def _refuse_roster_members(s: Session, group: Group, user_ids: Sequence[int]) -> None:
    """The members an LTI roster sync brought are the LMS's: removed there, or the next sync brings them back."""
    ids = sorted({int(u) for u in user_ids})
    synced = [
        uid
        for chunk in chunked(ids, IN_LIST)
        for uid in s.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id, Membership.user_id.in_(chunk), Membership.source == "roster"
            )
        )
    ]
    if synced:
        raise Conflict(
            N_(
                "This person came from the course roster in the LMS: remove them from the course there, and the next "
                "roster sync removes them here. Only people added by hand can be removed here."
            ),
            field="user_ids",
        )


def remove_member(rt: Runtime, tenant_id: int, group_id: int, user_id: int, actor: Actor) -> None:
    """Remove one member; 404 when the user is not a member of this group."""
    if remove_members(rt, tenant_id, group_id, [user_id], actor) == 0:
        raise NotFound(
            N_("User %(user_id)s is not a member of group %(group_id)s."), user_id=user_id, group_id=group_id
        )


def list_members(
    rt: Runtime, tenant_id: int, group_id: int, *, q: str | None = None, page: int = 1, per_page: int = 50
) -> Page[Any]:
    """A page of (User, Membership) rows, ordered by user id."""
    with rt.db.read() as s:
        load_group(s, tenant_id, group_id)
        stmt = (
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id, User.tenant_id == tenant_id)
        )
        if q:
            stmt = stmt.where(or_(*name_matches(q)))
        return paginate(s, stmt.order_by(User.id), page, per_page, scalars=False)


def member_ids_among(rt: Runtime, tenant_id: int, group_id: int, user_ids: Sequence[int]) -> list[int]:
    """Those of ``user_ids`` that are members of the group (a selection checked against the group)."""
    ids = sorted({int(u) for u in user_ids})
    found: list[int] = []
    with rt.db.read() as s:
        load_group(s, tenant_id, group_id)
        for chunk in chunked(ids, IN_LIST):
            found.extend(
                s.scalars(
                    select(Membership.user_id).where(
                        Membership.group_id == group_id,
                        Membership.tenant_id == tenant_id,
                        Membership.user_id.in_(chunk),
                    )
                )
            )
    return sorted(found)


# --- copying members: a background Operation -------------------------------------------------


def request_copy(rt: Runtime, tenant_id: int, group_id: int, from_group_id: int, actor: Actor):
    """Start an Operation that copies every member of ``from_group_id`` into ``group_id``."""
    with rt.db.transaction() as s:
        target = load_group(s, tenant_id, group_id)
        source = load_group(s, tenant_id, from_group_id)
        ensure_hand_editable(target)
        if target.id == source.id:
            raise InvalidInput(
                N_("A group can't copy members from itself."), details={"from_group_id": [N_("Must be another group.")]}
            )
        total = s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == source.id))
        return start_operation(
            s,
            rt,
            tenant_id,
            "members_copy",
            {"group_id": target.id, "from_group_id": source.id, "actor": actor.name, "channel": actor.channel},
            actor,
            total=total,
        )


@dataclass
class CopyCheckpoint(Checkpoint):
    """The keyset position of a member copy (the last user id copied) and its counts."""

    after_user_id: int = 0
    done: int = 0
    added: int = 0


def copy_members_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """Copy the next chunk of members (keyset on user_id); returns the new checkpoint, or None when done.

    Idempotent: a re-run after a crash resumes from the last committed checkpoint, and
    ``ON CONFLICT DO NOTHING`` makes a repeated chunk harmless.
    """
    at = CopyCheckpoint.from_json(checkpoint)
    actor = Actor(params.get("actor", "system"), params.get("channel", "job"))
    with rt.db.transaction() as s:
        target = load_group(s, tenant_id, params["group_id"])
        ensure_hand_editable(target)
        batch = list(
            s.scalars(
                select(Membership.user_id)
                .where(Membership.group_id == params["from_group_id"], Membership.user_id > at.after_user_id)
                .order_by(Membership.user_id)
                .limit(COPY_CHUNK)
            )
        )
        if not batch:
            return None
        added = insert_members(s, tenant_id, target.id, batch, "manual")
        if added:
            touch_group(s, target.id)
            record_many(s, _member_events(tenant_id, target.id, added, actor, "group.member_added"))
            trigger_events.members_added(s, rt, tenant_id, target.id, added, operation_id=operation_id)
        new = CopyCheckpoint(after_user_id=batch[-1], done=at.done + len(batch), added=at.added + len(added))
        save_progress(
            s,
            operation_id,
            done=new.done,
            checkpoint=new.to_json(),
            result={"added": new.added, "already_members": new.done - new.added},
        )
    return new.to_json()


# --- changing a group's attributes and members in one unit of work -------------------------


def apply_member_steps(
    s: Session,
    group: Group,
    steps: Sequence[tuple[str, Sequence[int] | None]],
    actor: Actor,
    source: str,
    rt: Runtime | None = None,
) -> tuple[int, int]:
    """Run ("add" | "remove" | "replace", user_ids) steps in order; ("remove", None) removes everyone.

    Adding and removing touch only the named users; only "replace" reads the group's
    member ids (the caller already holds the whole new list).  Returns (added, removed).
    """
    ensure_hand_editable(group)
    replacing = [uid for kind, ids in steps if kind == "replace" and ids for uid in ids]
    refuse_unknown_users(s, group.tenant_id, replacing)
    added: list[int] = []
    removed: list[int] = []
    for kind, ids in steps:
        if kind == "add":
            wanted = sorted(set(ids or ()))
            new = insert_members(s, group.tenant_id, group.id, wanted, source)
            if len(new) < len(wanted):  # already members, or not users of the tenant (then nothing changes)
                refuse_unknown_users(s, group.tenant_id, sorted(set(wanted) - set(new)))
            added += new
        elif kind == "remove" and ids is None:
            removed += s.scalars(
                delete(Membership).where(Membership.group_id == group.id).returning(Membership.user_id)
            ).all()
        elif kind == "remove":
            removed += delete_members(s, group.id, sorted(set(ids or ())))
        elif kind == "replace":
            keep = set(ids or ())
            present = set(s.scalars(select(Membership.user_id).where(Membership.group_id == group.id)))
            removed += delete_members(s, group.id, sorted(present - keep))
            added += insert_members(s, group.tenant_id, group.id, sorted(keep - present), source)
        else:
            raise InvalidInput(N_("Unknown member change %(kind)r."), kind=kind)
    if added or removed:
        touch_group(s, group.id, group)
        record_many(s, _member_events(group.tenant_id, group.id, added, actor, "group.member_added"))
        record_many(s, _member_events(group.tenant_id, group.id, removed, actor, "group.member_removed"))
        trigger_events.members_added(s, rt, group.tenant_id, group.id, added)
    return len(added), len(removed)


def edit_group(
    rt: Runtime,
    tenant_id: int,
    group_id: int,
    *,
    values: dict[str, Any] | None = None,
    member_steps: Sequence[tuple[str, Sequence[int] | None]] = (),
    actor: Actor,
    source: str = "manual",
    if_version: int | None = None,
    reevaluate: bool = False,
) -> Group:
    """Change a group's attributes and run member steps (see :func:`apply_member_steps`) atomically.

    ``reevaluate``: also re-evaluate the users the steps name against the automatic groups
    (rules may test membership of this group), in the same unit of work.
    """
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if if_version is not None and group.version != if_version:
            raise VersionMismatch(
                N_("Group %(group_id)s is at version %(version)s, not %(if_version)s."),
                group_id=group_id,
                version=group.version,
                if_version=if_version,
            )
        if values:
            apply_group_changes(s, group, values, actor)
        if member_steps:
            apply_member_steps(s, group, member_steps, actor, source, rt)
        s.flush()
        if reevaluate:
            _reevaluate(rt, s, tenant_id, group.id, [uid for _, ids in member_steps if ids for uid in ids])
    return group


def _reevaluate(rt: Runtime, s: Session, tenant_id: int, group_id: int, user_ids: Sequence[int]) -> None:
    # Only the rules reading this group's membership (and those reading theirs); repeats are dropped.
    reevaluate_users(s, tenant_id, user_ids, rt=rt, change=Change(groups=frozenset({group_id})))


def create_group_with_members(
    rt: Runtime,
    tenant_id: int,
    values: dict[str, Any],
    user_ids: Sequence[int],
    actor: Actor,
    *,
    source: str = "manual",
    reevaluate: bool = False,
) -> Group:
    """Create a group and give it its first members in one unit of work (``reevaluate``: see edit_group)."""
    with rt.db.transaction() as s:
        group = add_group(s, tenant_id, values, actor)
        if user_ids:
            apply_member_steps(s, group, [("add", user_ids)], actor, source, rt)
        s.flush()
        if reevaluate:
            _reevaluate(rt, s, tenant_id, group.id, user_ids)
    return group
