"""In-app notifications, each with an email copy.

Users who have joined get both at once.  Users still invited get the notification
kept undelivered; :func:`deliver_pending` hands it over (and emails it) when they
first arrive — their first LTI launch or their activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, literal, select, update
from sqlalchemy.orm import Session

from provisioning.db import id_in
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import greeting_name, recipient_language, render
from provisioning.models import Notification, Tenant, User, utcnow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.settings_catalog import stored
from provisioning.store.users import load_user


def notify_users(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    user_ids: Sequence[int],
    subject: str,
    body: str,
    sender: str,
    *,
    operation_id: int | None = None,
) -> tuple[list[int], list[int]]:
    """Notify active and invited users among ``user_ids``; returns (delivered now, kept for later).

    One INSERT ... SELECT for the notifications; emails go to those who have joined.
    """
    now = utcnow()
    stamp = literal(now, type_=Notification.created_at.type)
    rows = select(
        literal(tenant_id),
        User.id,
        literal(subject),
        literal(body),
        literal(sender),
        stamp,
        case((User.status == "active", stamp), else_=None),
    ).where(User.tenant_id == tenant_id, id_in(s, User.id, list(user_ids)), User.status.in_(("active", "invited")))
    stmt = (
        Notification.__table__.insert()
        .from_select(
            ["tenant_id", "user_id", "subject", "body", "sent_by", "created_at", "delivered_at"],
            rows,
        )
        .returning(Notification.__table__.c.user_id, Notification.__table__.c.delivered_at)
    )
    inserted = s.execute(stmt).all()
    delivered = sorted(uid for uid, at in inserted if at is not None)
    pending = sorted(uid for uid, at in inserted if at is None)
    if delivered:
        _email(s, rt, tenant_id, delivered, [(subject, body, sender)], operation_id)
    return delivered, pending


def _email(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    user_ids: list[int],
    messages: list[tuple[str, str, str]],
    operation_id: int | None,
) -> None:
    tenant_name, tenant_settings = s.execute(select(Tenant.name, Tenant.settings).where(Tenant.id == tenant_id)).one()
    default_language = stored(tenant_settings, "default_language")
    users = s.execute(
        select(User.id, User.email, User.given_name, User.display_name, User.username, User.language).where(
            User.tenant_id == tenant_id, id_in(s, User.id, user_ids), User.email.is_not(None)
        )
    ).all()
    queue_emails(
        s,
        rt,
        tenant_id,
        (
            (
                u.id,
                u.email,
                render(
                    "message",
                    {
                        "tenant_name": tenant_name,
                        "name": greeting_name(u),
                        "subject": subject,
                        "body": body,
                        "sender": sender,
                    },
                    language=recipient_language(u.language, default_language),
                ),
            )
            for u in users
            for subject, body, sender in messages
        ),
        "notification",
        operation_id=operation_id,
    )


def deliver_pending(s: Session, rt: Runtime, user: User) -> int:
    """Deliver the notifications kept for ``user`` while they were invited; returns how many.

    Call it inside the unit of work where the user first arrives (LTI launch, activation).
    """
    now = utcnow()
    kept = s.execute(
        update(Notification)
        .where(
            Notification.tenant_id == user.tenant_id,
            Notification.user_id == user.id,
            Notification.delivered_at.is_(None),
        )
        .values(delivered_at=now)
        .returning(Notification.id, Notification.subject, Notification.body, Notification.sent_by)
        .execution_options(synchronize_session=False)
    ).all()
    if kept:
        _email(
            s,
            rt,
            user.tenant_id,
            [user.id],
            [(k.subject, k.body, k.sent_by or "") for k in sorted(kept, key=lambda k: k.id)],
            None,
        )
    return len(kept)


def list_notifications(rt: Runtime, tenant_id: int, user_id: int, *, page: int = 1, per_page: int = 50) -> Page[Any]:
    """A user's notifications, newest first (undelivered ones included, with delivered_at empty)."""
    with rt.db.read() as s:
        load_user(s, tenant_id, user_id)
        stmt = (
            select(Notification)
            .where(Notification.tenant_id == tenant_id, Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
        return paginate(s, stmt, page, per_page)
