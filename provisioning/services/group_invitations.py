"""A group manager adds people by email: added when already theirs, otherwise invited to consent.

The rule (docs/PERMISSIONS.md, "Adding a person by email"): the answer to "add x@y" is the same
whatever x@y is, and nobody outside the manager's scope is put into their group unasked.

* Someone already in the adder's scope (``users_within``: the members of their groups, people shared
  with them) is added at once: the adder could already see them, so nothing is revealed.
* Anyone else (a person of another course, a deactivated account, or an email nobody has, for whom a
  user with status invited is created) gets an invitation to join *this group*: a single-use link
  (``/join/<token>``, provisioning/services/join_links.py) and they join only when they use it.  The
  group page lists the invitations waiting for an answer by the address the adder typed, the same for
  the new and the existing person, so neither the list nor the answer tells which emails exist.

An admin (``users_within`` None) adds anyone directly; an unknown email becomes an invited user
(:func:`provisioning.services.memberships.add_members`).  Members added by hand to an LTI roster group
are kept apart from the synced roster (source "manual"): a roster sync removes only roster members.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning import limits
from provisioning.activity import Actor, record
from provisioning.errors import Conflict, InvalidInput, LimitExceeded
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key
from provisioning.identity_keys import refusal as text_refusal
from provisioning.join_tokens import group_join_link
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import recipient_language, render
from provisioning.models import Group, GroupInvitation, Membership, Tenant, User, utcnow
from provisioning.runtime import Runtime
from provisioning.services import group_enrollments
from provisioning.services.memberships import add_members
from provisioning.settings_catalog import stored
from provisioning.store.groups import load_group
from provisioning.store.members import ensure_hand_editable, insert_members, touch_group
from provisioning.store.users import EMAIL_RE, add_user, find_users_by_email, normalise_email, tenant_user_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingInvitation:
    """An invitation to the group still waiting for its answer, as its inviter may see it."""

    email: str
    sent_count: int
    last_sent_at: datetime


def clean_email(email: str) -> str:
    """The address, or a 400 that says what is wrong with it (the same for every address of that form)."""
    address = normalise_email(email or "")
    if not address:
        raise InvalidInput(N_("Enter the email address of the person to add."), details={"email": [N_("Required.")]})
    if text_refusal(address) or not EMAIL_RE.match(address) or len(address) > 320:
        raise InvalidInput(
            N_("%(address)r is not an email address: it needs a name, an @ and a domain, like ada@example.org."),
            details={"email": [N_("Not an email address.")]},
            address=address[:80],
        )
    return address


NAME_MAX = 200  # the columns' size (User.given_name, User.family_name)


def clean_names(first_name: str = "", last_name: str = "") -> dict[str, str]:
    """The names typed beside an address (``given_name``, ``family_name``; the empty ones left out),
    or a 400 naming the field that is too long (the same whoever has the address)."""
    names: dict[str, str] = {}
    errors: dict[str, list[Any]] = {}
    for key, raw, label in (("given_name", first_name, N_("First name")), ("family_name", last_name, N_("Last name"))):
        value = " ".join((raw or "").split())
        if len(value) > NAME_MAX:
            errors[label] = [
                Message(N_("At most %(most)s characters (this one has %(length)s)."), most=NAME_MAX, length=len(value))
            ]
        elif value:
            names[key] = value
    if errors:
        raise InvalidInput(N_("A name is too long; nothing was changed."), details=errors)
    return names


def add_or_invite(
    rt: Runtime,
    tenant_id: int,
    group_id: int,
    email: str,
    actor: Actor,
    *,
    users_within: Any = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """Add the person with ``email`` to the group, or invite them to it (see the module docstring).

    ``names`` (from :func:`clean_names`) are given to a person the address creates (an invited one),
    and never change an existing person's names, so the answer stays the same whoever has the address.
    Returns the address as understood; raises only for what is wrong whatever the address (no
    address, not an address, an automatic group), never for who has it.
    """
    address = clean_email(email)
    if users_within is None:
        add_members(rt, tenant_id, group_id, emails=[address], actor=actor, new_user_values=names)
        return address
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        ensure_hand_editable(group)
        _add_or_invite(s, rt, group, address, actor, users_within, names)
    return address


def _add_or_invite(
    s: Session,
    rt: Runtime,
    group: Group,
    address: str,
    actor: Actor,
    users_within: Any,
    names: Mapping[str, str] | None = None,
) -> str:
    """Inside a unit of work: "added" (already in scope), "invited", or "skipped" (see _new_invited_user)."""
    found = find_users_by_email(s, group.tenant_id, [address]).get(identity_key(address))
    if found is not None and tenant_user_ids(s, group.tenant_id, [found], within=users_within):
        if add_known(s, group, found, actor):
            group_enrollments.enroll_added_members(s, rt, group.tenant_id, group.id, [found], actor)
        return "added"
    return "invited" if invite(s, rt, group, address, actor, names=names) else "skipped"


def add_known(s: Session, group: Group, user_id: int, actor: Actor) -> bool:
    """Inside a unit of work: add a person the actor may add directly (source manual); whether they were
    not a member yet (the caller enrolls those in the group's courses, provisioning/services/group_enrollments.py)."""
    if insert_members(s, group.tenant_id, group.id, [user_id], "manual"):
        touch_group(s, group.id)
        record(s, group.tenant_id, actor, "group.member_added", "group", group.id, {"user_id": user_id})
        return True
    return False


def find_by_email(s: Session, tenant_id: int, address: str) -> int | None:
    return find_users_by_email(s, tenant_id, [address]).get(identity_key(address))


def invite(
    s: Session,
    rt: Runtime,
    group: Group,
    address: str,
    actor: Actor,
    *,
    operation_id: int | None = None,
    names: Mapping[str, str] | None = None,
) -> int | None:
    """Inside a unit of work: invite whoever has ``address`` (a new invited person, with ``names``, if
    nobody) to the group; their id, or None when no person could be created (the caller's answer stays
    the same)."""
    found = find_by_email(s, group.tenant_id, address)
    if found is None:
        found = _new_invited_user(s, group.tenant_id, address, actor, names)
        if found is None:
            return None
    _invite(s, rt, group, found, address, actor, operation_id=operation_id)
    return found


def _new_invited_user(
    s: Session, tenant_id: int, address: str, actor: Actor, names: Mapping[str, str] | None = None
) -> int | None:
    """A user with status invited for an address nobody has; None when one can't be created now (no seat
    left, a username taken by that address): the answer stays the same, and the log says why.

    The creation is recorded as the system's, not the inviter's: a "Person created" line in the
    manager's own activity log would tell them the address was new.  Their "Invitation to a group
    sent" event names the person, so an admin still sees who caused it."""
    try:
        with s.begin_nested():
            values = {**(names or {}), "email": address, "username": address, "status": "invited"}
            return add_user(s, tenant_id, values, Actor.system(actor.channel)).id
    except (Conflict, LimitExceeded, InvalidInput) as e:
        log.warning("group invitation: no user created for an address of tenant %s: %s", tenant_id, e)
        return None


def _invite(
    s: Session,
    rt: Runtime,
    group: Group,
    user_id: int,
    address: str,
    actor: Actor,
    *,
    operation_id: int | None = None,
) -> None:
    """Create or renew the pending invitation of ``user_id`` to ``group`` and queue its email."""
    now = utcnow()
    row = s.get(GroupInvitation, (group.id, user_id), with_for_update=True)
    if row is not None and row.status == "accepted" and _is_member(s, group.id, user_id):
        return  # they already joined: the same answer, no email
    if row is None:
        row = GroupInvitation(
            group_id=group.id,
            user_id=user_id,
            tenant_id=group.tenant_id,
            email=address,
            status="pending",
            sent_count=1,
            invited_by=actor.name,
            created_at=now,
            last_sent_at=now,
        )
        s.add(row)
    else:
        if row.sent_count >= limits.GROUP_INVITATION_SENDS:
            return  # bounded: nobody is mailed again and again through one group
        row.status, row.email, row.invited_by = "pending", address, actor.name
        row.sent_count, row.last_sent_at, row.accepted_at = row.sent_count + 1, now, None
    s.flush()
    record(s, group.tenant_id, actor, "group.invitation.sent", "group", group.id, {"user_id": user_id})
    user = s.get_one(User, user_id)
    if user.status == "deactivated":
        return  # listed as waiting like any other, but a closed account gets no email
    tenant = s.get_one(Tenant, group.tenant_id)
    queue_emails(
        s,
        rt,
        group.tenant_id,
        [
            (
                user_id,
                user.email or address,
                render(
                    "group_invitation",
                    {
                        "tenant_name": tenant.name,
                        "group_name": group.name,
                        "inviter": _inviter_name(s, actor) or tenant.name,
                        "join_url": group_join_link(rt, group.tenant_id, group.id, user_id, row.sent_count),
                        "link_days": rt.settings.invitation_link_days,
                    },
                    language=recipient_language(user.language, stored(tenant.settings, "default_language")),
                ),
            )
        ],
        "invitation",
        operation_id=operation_id,  # a bulk add's emails show in its starter's email log
    )


def _inviter_name(s: Session, actor: Actor) -> str | None:
    if actor.user_id is None:
        return None
    u = s.get(User, actor.user_id)
    if u is None:
        return None
    return u.display_name or " ".join(p for p in (u.given_name, u.family_name) if p) or u.username


def _is_member(s: Session, group_id: int, user_id: int) -> bool:
    return s.get(Membership, (group_id, user_id)) is not None


def pending_invitations(rt: Runtime, tenant_id: int, group_id: int, *, limit: int = 200) -> list[PendingInvitation]:
    """The group's invitations waiting for an answer, newest first, by the address their inviter typed."""
    with rt.db.read() as s:
        load_group(s, tenant_id, group_id)
        rows = s.execute(
            select(GroupInvitation.email, GroupInvitation.sent_count, GroupInvitation.last_sent_at)
            .where(
                GroupInvitation.tenant_id == tenant_id,
                GroupInvitation.group_id == group_id,
                GroupInvitation.status == "pending",
                # Someone who joined meanwhile (added by an admin, say) is no longer waiting.
                ~select(Membership.user_id)
                .where(Membership.group_id == group_id, Membership.user_id == GroupInvitation.user_id)
                .exists(),
            )
            .order_by(GroupInvitation.last_sent_at.desc())
            .limit(limit)
        ).all()
    return [PendingInvitation(email, sent, at) for email, sent, at in rows]
