"""The join link of an invitation: ``{PUBLIC_BASE_URL}/join/<token>``, single use, expiring, hosted here.

The token is an itsdangerous-signed "tenant_user_send-number" (made by provisioning/join_tokens.py, when
the email is sent); nothing is stored when it is issued.
It works for INVITATION_LINK_DAYS after it was sent, once, and only for the latest send: resending an
invitation bumps ``invitations.sent_count``, so the earlier links read as superseded.  Using it accepts
the invitation and records an ``invitation.link.used`` event whose object id is "<user>.<send number>"
(the single-use record, as in provisioning/single_use.py), with the invitation's row locked, so of two
concurrent uses exactly one succeeds.  The person is then sent on to the tenant's ``join_url``.

A group invitation's link (provisioning/services/group_invitations.py) carries the group too
({tenant, user, group, send number}); its state is the ``group_invitations`` row's, and using it
puts the person into that group: their consent, given once.

Opening the link (GET) only checks it; the click on its page (POST) uses it: mail scanners fetch
links before people do (as for the UI sign-in links, provisioning/services/signin_links.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.i18n import best_language
from provisioning.join_tokens import signer
from provisioning.models import Group, GroupInvitation, Invitation, Tenant, User, utcnow
from provisioning.runtime import Runtime
from provisioning.services import group_enrollments
from provisioning.settings_catalog import stored
from provisioning.single_use import was_used
from provisioning.store.members import insert_members, touch_group

USED = "invitation.link.used"
OBJECT_TYPE = "invitation_link"
TOKEN_MAX = 1000

State = Literal["ok", "invalid", "expired", "used", "superseded"]


@dataclass(frozen=True)
class JoinLink:
    """What a join link leads to: its state, and for a known tenant its name and join_url (None: unset)."""

    state: State
    tenant_name: str | None = None
    join_url: str | None = None
    group_name: str | None = None
    # The invited person's language, else the tenant's default language (the page speaks it).
    language: str | None = None


def _read(rt: Runtime, token: str) -> tuple[tuple[int, int, int, int | None] | None, State]:
    if not token or len(token) > TOKEN_MAX:
        return None, "invalid"
    try:
        value = signer(rt).unsign(token, max_age=rt.settings.invitation_link_days * 86400).decode()
        parts = [int(part) for part in value.split("_")]
        if len(parts) == 3:  # an invitation to the tenant
            return (parts[0], parts[1], parts[2], None), "ok"
        tenant_id, user_id, sent, group_id = parts  # an invitation to a group (group_invitations.py)
        return (tenant_id, user_id, sent, group_id), "ok"
    except SignatureExpired:
        return None, "expired"
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None, "invalid"


def _group_state(
    s: Session, tenant_id: int, user_id: int, sent: int, group_id: int, *, lock: bool
) -> tuple[State, GroupInvitation | None]:
    stmt = select(GroupInvitation).where(
        GroupInvitation.tenant_id == tenant_id, GroupInvitation.group_id == group_id, GroupInvitation.user_id == user_id
    )
    invitation = s.scalar(stmt.with_for_update() if lock else stmt)
    status = s.scalar(select(User.status).where(User.tenant_id == tenant_id, User.id == user_id))
    if invitation is None or status is None or status == "deactivated":
        return "invalid", None
    if invitation.sent_count != sent:
        return "superseded", None
    object_id = f"{user_id}.{sent}.{group_id}"
    if invitation.status != "pending" or was_used(s, tenant_id, USED, OBJECT_TYPE, object_id):
        return "used", None
    return "ok", invitation


def _state(
    s: Session, tenant_id: int, user_id: int, sent: int, group_id: int | None = None, *, lock: bool
) -> tuple[State, Invitation | GroupInvitation | None]:
    if group_id is not None:
        return _group_state(s, tenant_id, user_id, sent, group_id, lock=lock)
    stmt = select(Invitation).where(Invitation.tenant_id == tenant_id, Invitation.user_id == user_id)
    invitation = s.scalar(stmt.with_for_update() if lock else stmt)
    status = s.scalar(select(User.status).where(User.tenant_id == tenant_id, User.id == user_id))
    if invitation is None or status is None or status == "deactivated":
        return "invalid", None
    if invitation.sent_count != sent:
        return "superseded", None
    if invitation.status != "pending" or was_used(s, tenant_id, USED, OBJECT_TYPE, f"{user_id}.{sent}"):
        return "used", None
    return "ok", invitation


def _outcome(
    s: Session, tenant_id: int | None, state: State, group_id: int | None = None, user_id: int | None = None
) -> JoinLink:
    tenant = s.get(Tenant, tenant_id) if tenant_id is not None else None
    if tenant is None:
        return JoinLink("invalid" if state == "ok" else state)
    group = s.get(Group, group_id) if group_id is not None else None
    own = (
        s.scalar(select(User.language).where(User.tenant_id == tenant.id, User.id == user_id))
        if user_id is not None
        else None
    )
    return JoinLink(
        state,
        tenant.name,
        stored(tenant.settings, "join_url"),
        group.name if group is not None and group.tenant_id == tenant.id else None,
        best_language(own, stored(tenant.settings, "default_language")),
    )


def check_join_link(rt: Runtime, token: str) -> JoinLink:
    """Without using it: what the link would do now."""
    ids, state = _read(rt, token)
    with rt.db.read() as s:
        if ids is None:
            return JoinLink(state)
        state, _ = _state(s, *ids, lock=False)
        return _outcome(s, ids[0], state, ids[3], ids[1])


def use_join_link(rt: Runtime, token: str) -> JoinLink:
    """Use the link: accept the invitation (state "ok"), or say why not; the link never works again."""
    ids, state = _read(rt, token)
    if ids is None:
        return JoinLink(state)
    tenant_id, user_id, sent, group_id = ids
    with rt.db.transaction() as s:
        state, invitation = _state(s, tenant_id, user_id, sent, group_id, lock=True)
        actor = Actor(name=f"user {user_id}", channel="join", user_id=user_id)
        if isinstance(invitation, GroupInvitation):
            invitation.status, invitation.accepted_at = "accepted", utcnow()
            record(s, tenant_id, actor, USED, OBJECT_TYPE, f"{user_id}.{sent}.{group_id}", {"user_id": user_id})
            _join_group(s, rt, tenant_id, invitation.group_id, user_id, actor)
        elif invitation is not None:
            invitation.status, invitation.accepted_at = "accepted", utcnow()
            record(s, tenant_id, actor, USED, OBJECT_TYPE, f"{user_id}.{sent}", {"user_id": user_id})
            record(s, tenant_id, actor, "user.invitation.accepted", "user", user_id, {"via": "join link"})
        return _outcome(s, tenant_id, state, group_id, user_id)


def _join_group(s: Session, rt: Runtime, tenant_id: int, group_id: int, user_id: int, actor: Actor) -> None:
    """The person accepted a group invitation: they join it (source manual, so a roster sync keeps them)."""
    group = s.get(Group, group_id)
    if group is None or group.tenant_id != tenant_id or group.kind == "automatic":
        return
    if insert_members(s, tenant_id, group_id, [user_id], "manual"):
        touch_group(s, group_id)
        record(s, tenant_id, actor, "group.member_added", "group", group_id, {"user_id": user_id, "via": "invitation"})
        group_enrollments.enroll_added_members(s, rt, tenant_id, group_id, [user_id], actor)
    record(s, tenant_id, actor, "group.invitation.accepted", "group", group_id, {"user_id": user_id})
    # A new person's first invitation to the tenant, if they had one, is answered by this one too.
    s.execute(
        update(Invitation)
        .where(Invitation.tenant_id == tenant_id, Invitation.user_id == user_id, Invitation.status == "pending")
        .values(status="accepted", accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
