"""Invitations: invite users who have not joined yet to the tenant, through a join link.

Each invitation email carries a single-use, expiring link hosted here (``/join/<token>``,
provisioning/services/join_links.py), signed when the email is sent; using it accepts the invitation and sends the person on to
the tenant setting ``join_url`` (the LMS or identity provider where they sign in); the service holds
no passwords.  Resending makes a new link and the earlier ones stop working.  An invitation stays
``pending`` until the link is used or the user first arrives by LTI (:func:`accept_invitation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, literal, select, update
from sqlalchemy.orm import Session

from provisioning import limits
from provisioning.activity import Actor, record_user_events
from provisioning.db import affected, id_in, insert_ignoring_conflicts
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key
from provisioning.join_tokens import join_links
from provisioning.mail import trigger_events
from provisioning.mail.outbox import queue_emails, queue_stencilled
from provisioning.mail.stencils import save_stencil
from provisioning.mail.templates import Rendered, Stencil, greeting_name, has_marks, recipient_language
from provisioning.models import Invitation, Tenant, User, utcnow
from provisioning.runtime import Runtime
from provisioning.settings_catalog import stored
from provisioning.store.users import add_user


def tenant_link(tenant: Tenant, setting: str, field: str) -> str:
    """A URL from the tenant's settings, or a 400 that names the missing setting."""
    url = (stored(tenant.settings, setting) or "").strip()
    if not url.startswith(("https://", "http://")):
        raise InvalidInput(
            N_("The tenant has no %(setting)s setting (an http(s) URL), which this needs."),
            details={field: [Message(N_("Set the tenant setting %(setting)s first."), setting=setting)]},
            setting=setting,
        )
    return url


def send_invitations(
    s: Session, rt: Runtime, tenant_id: int, user_ids: Sequence[int], actor: Actor, *, operation_id: int | None = None
) -> list[int]:
    """Invite (or invite again) those of ``user_ids`` still invited and with an email; returns them.

    One UPDATE for existing invitations, one INSERT ... SELECT for new ones, and one INSERT ... SELECT
    of the emails into the outbox: the invitation is rendered once per language spoken
    (an ``email_stencils`` row) and each email holds the person's name and the send number its join
    link is signed for when it is sent (provisioning/mail/outbox.py).
    """
    tenant = s.get_one(Tenant, tenant_id)
    tenant_link(tenant, "join_url", "join_url")  # where a used link leads: without it, nowhere to go
    invited = s.execute(
        select(User.id, User.language)
        .where(
            User.tenant_id == tenant_id,
            id_in(s, User.id, list(user_ids)),
            User.status == "invited",
            User.email.is_not(None),
        )
        .order_by(User.id)
    ).all()
    if not invited:
        return []
    ids = [u.id for u in invited]
    now = utcnow()
    s.execute(
        update(Invitation)
        .where(Invitation.tenant_id == tenant_id, id_in(s, Invitation.user_id, ids))
        .values(
            status="pending",
            sent_count=Invitation.sent_count + 1,
            last_sent_at=now,
            invited_by=actor.name,
            accepted_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    new = select(
        User.id,
        literal(tenant_id),
        literal("pending"),
        literal(1),
        literal(actor.name),
        literal(now, type_=Invitation.created_at.type),
        literal(now, type_=Invitation.last_sent_at.type),
    ).where(User.tenant_id == tenant_id, id_in(s, User.id, ids))
    first = s.scalars(
        insert_ignoring_conflicts(s, Invitation.__table__)
        .from_select(["user_id", "tenant_id", "status", "sent_count", "invited_by", "created_at", "last_sent_at"], new)
        .returning(Invitation.__table__.c.user_id)
    ).all()
    # The "invited" automatic notification goes with a first invitation only (a resend is no new event).
    trigger_events.invitations_created(s, rt, tenant_id, first, operation_id=operation_id)
    _queue_invitation_emails(s, rt, tenant, ids, {u.language for u in invited}, operation_id)
    record_user_events(s, tenant_id, actor, "user.invited", ids, {"operation_id": operation_id} if operation_id else {})
    return ids


# What a stencil is checked with before it stands in for full renders: HTML's special characters in the
# name, a link with a query string.
SAMPLE = {"name": 'Ada <O\'Neil> & "Co"', "join_url": "https://example.invalid/join/t.x?a=1&b=<2>"}


def _queue_invitation_emails(
    s: Session, rt: Runtime, tenant: Tenant, ids: list[int], spoken: set[str | None], operation_id: int | None
):
    """One invitation email per user of ``ids`` (each has an invitation), in their language (``spoken``:
    the language tags they have)."""
    default_language = stored(tenant.settings, "default_language")
    shared = {"tenant_name": tenant.name, "link_days": rt.settings.invitation_link_days}
    language_of = {raw: recipient_language(raw, default_language) for raw in spoken}
    language_of[None] = recipient_language(None, default_language)
    stencils = {
        language: Stencil("invitation", shared, ("name", "join_url"), language)
        for language in set(language_of.values())
    }
    if not all(st.check(SAMPLE) and st.parts and not has_marks(st.parts.subject) for st in stencils.values()):
        _queue_rendered(s, rt, tenant, ids, stencils, language_of, operation_id)
        return
    saved = {
        language: (save_stencil(s, tenant.id, "invitation", language, st.parts), st.parts.subject)
        for language, st in stencils.items()
        if st.parts is not None
    }
    # The stencil of each language tag the users have; a user without one (or any other) gets the default's.
    of_user = {raw: saved[language] for raw, language in language_of.items() if raw is not None}
    fallback = saved[language_of[None]]
    stencil_id: ColumnElement[Any] = literal(fallback[0])
    subject: ColumnElement[Any] = literal(fallback[1])
    if of_user:
        stencil_id = case({raw: v[0] for raw, v in of_user.items()}, value=User.language, else_=fallback[0])
        subject = case({raw: v[1] for raw, v in of_user.items()}, value=User.language, else_=fallback[1])
    # greeting_name in SQL: the first name, else the display name, else the username.
    name = func.coalesce(
        func.nullif(User.given_name, ""), func.nullif(User.display_name, ""), func.nullif(User.username, ""), ""
    )
    build = func.jsonb_build_object if s.get_bind().dialect.name == "postgresql" else func.json_object
    rows = (
        select(User.id, User.email, subject, stencil_id, build("name", name, "join_url", Invitation.sent_count))
        .join(Invitation, Invitation.user_id == User.id)
        .where(User.tenant_id == tenant.id, Invitation.tenant_id == tenant.id, id_in(s, User.id, ids))
        .order_by(User.id)
    )
    queue_stencilled(s, rt, tenant.id, rows, "invitation", operation_id=operation_id)


def _queue_rendered(
    s: Session,
    rt: Runtime,
    tenant: Tenant,
    ids: list[int],
    stencils: dict[str, Stencil],
    language_of: dict[str | None, str],
    operation_id: int | None,
) -> None:
    """Each email rendered and its link signed now: for a template the stencil cannot stand in for."""
    users = s.execute(
        select(
            User.id, User.email, User.given_name, User.display_name, User.username, User.language, Invitation.sent_count
        )
        .join(Invitation, Invitation.user_id == User.id)
        .where(User.tenant_id == tenant.id, Invitation.tenant_id == tenant.id, id_in(s, User.id, ids))
        .order_by(User.id)
    ).all()
    link = join_links(rt, tenant.id)

    def email(u: Row) -> Rendered:
        stencil = stencils[language_of.get(u.language, language_of[None])]
        return stencil.fill({"name": greeting_name(u), "join_url": link(u.id, u.sent_count)})

    queue_emails(s, rt, tenant.id, ((u.id, u.email, email(u)) for u in users), "invitation", operation_id=operation_id)


def supersede_links(s: Session, tenant_id: int, user_ids: Sequence[int]) -> None:
    """Make the join links already sent to these people stop working (read as superseded), sending nothing.

    For an address that changed: a link mailed to a mistyped address must not let whoever reads that
    mailbox join as the person; the next resend goes to the new address with a new link.
    """
    s.execute(
        update(Invitation)
        .where(Invitation.tenant_id == tenant_id, id_in(s, Invitation.user_id, list(user_ids)))
        .values(sent_count=Invitation.sent_count + 1)
        .execution_options(synchronize_session=False)
    )


def invite_new_users(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    emails: Sequence[str],
    actor: Actor,
    *,
    values: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Create users with status invited for ``emails`` (each with ``values`` too, such as the names typed
    beside one address) and invite them; maps each email's identity key to its id.

    For the few unknown emails of one request (adding members by email); bulk
    creation goes through the CSV import instead.
    """
    try:
        tenant_link(s.get_one(Tenant, tenant_id), "join_url", "emails")
    except InvalidInput:
        raise InvalidInput(
            N_("Unknown emails can only be invited once the tenant has a join_url setting."),
            details={
                "emails": [
                    f"No user with email {e!r}; to invite them, set the tenant setting join_url first."
                    for e in emails[:100]
                ]
            },
        ) from None
    addresses: dict[str, str] = {}
    for e in emails:
        if e and e.strip():
            addresses.setdefault(identity_key(e), e.strip())
    if len(addresses) > limits.USERS_CREATED_PER_REQUEST:
        # Bounded work per request (issue 15 #10): each is a user, an invitation and an email.
        raise InvalidInput(
            N_(
                "%(count)s unknown emails to invite; one request may invite at most %(most)s. Import a CSV (users "
                "format) for more; nothing was changed."
            ),
            details={
                "emails": [
                    Message(
                        N_("%(count)s unknown emails; at most %(most)s may be invited in one request."),
                        count=len(addresses),
                        most=limits.USERS_CREATED_PER_REQUEST,
                    )
                ]
            },
            count=len(addresses),
            most=limits.USERS_CREATED_PER_REQUEST,
        )
    created = {}
    for address in addresses.values():
        user = add_user(
            s, tenant_id, {**(values or {}), "email": address, "username": address, "status": "invited"}, actor
        )
        created[identity_key(address)] = user.id
    send_invitations(s, rt, tenant_id, list(created.values()), actor)
    return created


def accept_invitation(s: Session, tenant_id: int, user_id: int) -> bool:
    """Mark the user's pending invitation accepted (call when they first arrive); True if there was one."""
    return bool(
        affected(
            s.execute(
                update(Invitation)
                .where(Invitation.tenant_id == tenant_id, Invitation.user_id == user_id, Invitation.status == "pending")
                .values(status="accepted", accepted_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        )
    )
