"""Invitations: invite users who have not joined yet to the tenant, through a join link.

Each invitation email carries a single-use, expiring link hosted here (``/join/<token>``,
provisioning/services/join_links.py); using it accepts the invitation and sends the person on to
the tenant setting ``join_url`` (the LMS or identity provider where they sign in); the service holds
no passwords.  Resending makes a new link and the earlier ones stop working.  An invitation stays
``pending`` until the link is used or the user first arrives by LTI (:func:`accept_invitation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Row, literal, select, update
from sqlalchemy.orm import Session

from provisioning import limits
from provisioning.activity import Actor, record_user_events
from provisioning.db import affected, id_in, insert_ignoring_conflicts
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key
from provisioning.mail import trigger_events
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import Rendered, Stencil, greeting_name, recipient_language
from provisioning.models import Invitation, Tenant, User, utcnow
from provisioning.runtime import Runtime
from provisioning.services.join_links import join_links
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

    One UPDATE for existing invitations, one INSERT ... SELECT for new ones, and one
    INSERT of the rendered emails into the outbox.
    """
    tenant = s.get_one(Tenant, tenant_id)
    tenant_link(tenant, "join_url", "join_url")  # where a used link leads: without it, nowhere to go
    users = s.execute(
        select(User.id, User.email, User.given_name, User.display_name, User.username, User.language)
        .where(
            User.tenant_id == tenant_id,
            id_in(s, User.id, list(user_ids)),
            User.status == "invited",
            User.email.is_not(None),
        )
        .order_by(User.id)
    ).all()
    ids = [u.id for u in users]
    if not ids:
        return []
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
    # This sending's number for each user: their join link is good for this one only.
    sends = dict(
        s.execute(
            select(Invitation.user_id, Invitation.sent_count).where(
                Invitation.tenant_id == tenant_id, id_in(s, Invitation.user_id, ids)
            )
        ).all()
    )
    default_language = stored(tenant.settings, "default_language")
    link = join_links(rt, tenant_id)
    shared = {"tenant_name": tenant.name, "link_days": rt.settings.invitation_link_days}
    stencils: dict[str, Stencil] = {}  # one rendering per language (mail/templates.py)

    def email(u: Row) -> Rendered:
        language = recipient_language(u.language, default_language)  # one stencil per language spoken
        if language not in stencils:
            stencils[language] = Stencil("invitation", shared, ("name", "join_url"), language)
        return stencils[language].fill({"name": greeting_name(u), "join_url": link(u.id, sends[u.id])})

    queue_emails(
        s,
        rt,
        tenant_id,
        ((u.id, u.email, email(u)) for u in users),
        "invitation",
        operation_id=operation_id,
    )
    record_user_events(s, tenant_id, actor, "user.invited", ids, {"operation_id": operation_id} if operation_id else {})
    return ids


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
