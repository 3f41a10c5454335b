"""The durable outbox: queue emails inside a unit of work, send them from a job.

Web requests and batch jobs only *insert* rows (status ``queued``).  A ``send_emails``
Operation sends them: it claims one message at a time with a conditional UPDATE
(``... WHERE status = 'queued'``), sends it, and records the outcome in its own short
transaction.  So a crash leaves at most one message per worker in ``sending``; that
claim is taken back after a lease and the message sent then, never skipped, and a
message already marked ``sent`` is never claimed again.  The Message-ID is derived
from the row, so the rare duplicate (a crash after the server accepted the message
but before the row said so) is recognisable downstream.

Emails queued by the thousand (a bulk add's invitations, :func:`queue_stencilled`) carry no body:
each row points at its batch's rendering in its language (an ``email_stencils`` row) and holds its
personal values (provisioning/mail/stencils.py).  The sender fills the stencil in, signs any link in
it at that moment, and records the bodies it sent on the row, in the same UPDATE that settles it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from sqlalchemy import Select, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.db import affected
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.mail.settings import MailSettings
from provisioning.mail.smtp import PermanentFailure, SMTPSender, TemporaryFailure
from provisioning.mail.stencils import message_parts
from provisioning.mail.templates import Rendered
from provisioning.models import (
    EMAIL_KINDS,
    EMAIL_STATUSES,
    TRIGGERS,
    EmailMessage,
    Operation,
    Tenant,
    utcnow,
)
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.settings_catalog import stored

log = logging.getLogger(__name__)

SEND_OPERATION = "send_emails"
NOT_CONFIGURED = N_("Not sent: SMTP_URL is not set, so emails are kept in the outbox.")
STENCIL_GONE = "Not sent: the rendering it was queued with (email_stencils) no longer exists."


def queue_emails(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    messages: Iterable[tuple[int | None, str, Rendered]],
    kind: str,
    *,
    operation_id: int | None = None,
) -> int:
    """Add rendered messages ``(user_id, to_address, rendered)`` to the outbox in one INSERT.

    Sending starts after the caller's transaction commits (when SMTP is configured).
    """
    assert kind in EMAIL_KINDS
    settings = MailSettings.of(rt.settings)
    now = utcnow()
    rows = [
        dict(
            tenant_id=tenant_id,
            user_id=user_id,
            operation_id=operation_id,
            kind=kind,
            to_address=to,
            subject=r.subject,
            text_body=r.text,
            html_body=r.html,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
            last_error=None if settings.configured else NOT_CONFIGURED,
        )
        for user_id, to, r in messages
    ]
    if not rows:
        return 0
    s.execute(insert(EmailMessage), rows)
    if settings.configured:
        ensure_sender(s, rt, tenant_id)
    return len(rows)


def queue_stencilled(
    s: Session, rt: Runtime, tenant_id: int, rows: Select, kind: str, *, operation_id: int | None = None
) -> int:
    """Add one stencilled message per row of ``rows`` to the outbox in one ``INSERT ... SELECT``.

    ``rows`` selects, in this order, the user id, the address, the subject, the stencil's id and the
    personal values (a JSON object; a ``stencils.LINKS`` placeholder's value is what its link is made
    from).  Nothing of the bodies is written per message; sending starts after the caller's
    transaction commits (when SMTP is configured).
    """
    assert kind in EMAIL_KINDS
    settings = MailSettings.of(rt.settings)
    stamp = literal(utcnow(), type_=EmailMessage.created_at.type)
    source = rows.add_columns(
        literal(tenant_id),
        literal(operation_id, type_=EmailMessage.operation_id.type),
        literal(kind),
        literal("queued"),
        literal(0),
        stamp,
        stamp,
        stamp,
        literal(None if settings.configured else NOT_CONFIGURED, type_=EmailMessage.last_error.type),
    )
    columns = ["user_id", "to_address", "subject", "stencil_id", "personal", "tenant_id", "operation_id", "kind"]
    columns += ["status", "attempts", "next_attempt_at", "created_at", "updated_at", "last_error"]
    queued = affected(s.execute(insert(EmailMessage).from_select(columns, source)))
    if queued and settings.configured:
        ensure_sender(s, rt, tenant_id)
    return queued


def ensure_sender(s: Session, rt: Runtime, tenant_id: int) -> None:
    """Start a send_emails Operation for the tenant unless one is already waiting to start.

    A *running* one does not count: it may be finishing and miss the new rows; a
    second sender is harmless because every message is claimed atomically.
    """
    waiting = s.scalar(
        select(Operation.id)
        .where(Operation.tenant_id == tenant_id, Operation.type == SEND_OPERATION, Operation.status == "queued")
        .limit(1)
    )
    if waiting is None:
        start_operation(s, rt, tenant_id, SEND_OPERATION, {}, Actor.system("job"))


def request_sending(rt: Runtime, tenant_id: int, actor: Actor) -> Operation:
    """Start sending the tenant's queued emails now (e.g. after SMTP_URL was configured)."""
    if not MailSettings.of(rt.settings).configured:
        raise InvalidInput(NOT_CONFIGURED, details={"SMTP_URL": [N_("Not set.")]})
    with rt.db.transaction() as s:
        return start_operation(s, rt, tenant_id, SEND_OPERATION, {}, actor)


def list_emails(
    rt: Runtime,
    tenant_id: int,
    *,
    status: str | None = None,
    kind: str | None = None,
    trigger: str | None = None,
    to: str | None = None,
    user_id: int | None = None,
    operation_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
    visible: Any = None,
) -> Page[EmailMessage]:
    """The email log: newest first, filtered, scoped to the tenant (and to ``visible``, e.g. a manager's scope)."""
    if status and status not in EMAIL_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(EMAIL_STATUSES))]},
            status=status,
        )
    if kind and kind not in EMAIL_KINDS:
        raise InvalidInput(
            N_("Unknown kind %(kind)r."),
            details={"kind": [Message(N_("Must be one of %(choices)s."), choices=", ".join(EMAIL_KINDS))]},
            kind=kind,
        )
    stmt = select(EmailMessage).where(EmailMessage.tenant_id == tenant_id)
    if visible is not None:
        stmt = stmt.where(visible)
    if status:
        stmt = stmt.where(EmailMessage.status == status)
    if kind:
        stmt = stmt.where(EmailMessage.kind == kind)
    if trigger:
        if trigger not in TRIGGERS:
            raise InvalidInput(
                N_("Unknown trigger %(trigger)r."),
                details={"trigger": [Message(N_("Must be one of %(choices)s."), choices=", ".join(TRIGGERS))]},
                trigger=trigger,
            )
        stmt = stmt.where(EmailMessage.trigger == trigger)
    if to:
        stmt = stmt.where(func.lower(EmailMessage.to_address) == to.strip().lower())
    if user_id is not None:
        stmt = stmt.where(EmailMessage.user_id == user_id)
    if operation_id is not None:
        stmt = stmt.where(EmailMessage.operation_id == operation_id)
    if since:
        stmt = stmt.where(EmailMessage.created_at >= since)
    if until:
        stmt = stmt.where(EmailMessage.created_at < until)
    with rt.db.read() as s:
        return paginate(s, stmt.order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc()), page, per_page)


# --- the sending side -------------------------------------------------------------------------


def _ready(now: datetime, lease: float):
    return or_(
        and_(EmailMessage.status == "queued", EmailMessage.next_attempt_at <= now),
        and_(EmailMessage.status == "sending", EmailMessage.claimed_at < now - timedelta(seconds=lease)),
    )


def claim_next(rt: Runtime, tenant_id: int, worker: str) -> int | None:
    """Atomically claim the oldest message that is due (or whose claimant died); None if none is."""
    settings = MailSettings.of(rt.settings)
    now = utcnow()
    with rt.db.transaction() as s:
        candidate = (
            select(EmailMessage.id)
            .where(EmailMessage.tenant_id == tenant_id, _ready(now, settings.claim_lease))
            .order_by(EmailMessage.id)
            .limit(1)
        )
        if s.get_bind().dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        message_id = s.scalar(candidate)
        if message_id is None:
            return None
        # The WHERE repeats the condition: if another worker claimed the row meanwhile, nothing matches.
        claimed = affected(
            s.execute(
                update(EmailMessage)
                .where(EmailMessage.id == message_id, _ready(now, settings.claim_lease))
                .values(
                    status="sending",
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=EmailMessage.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        )
    return message_id if claimed == 1 else None


def _settle(rt: Runtime, message_id: int, worker: str, **values: Any) -> None:
    with rt.db.transaction() as s:
        s.execute(
            update(EmailMessage)
            .where(EmailMessage.id == message_id, EmailMessage.status == "sending", EmailMessage.claimed_by == worker)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )


def build_mime(
    message: EmailMessage, mail_from: str, sender_name: str | None = None, parts: Rendered | None = None
) -> MimeMessage:
    """The MIME message: multipart/alternative with the text part first (RFC 2046 §5.1.4).
    ``sender_name`` (the tenant setting) is the From header's display name (RFC 5322 §3.4); ``parts``
    the subject and bodies (:func:`message_parts`; the row's own when not given)."""
    if parts is None:
        parts = Rendered(message.subject, message.text_body or "", message.html_body or "")
    mime = MimeMessage()
    mime["From"] = formataddr((sender_name, parseaddr(mail_from)[1] or mail_from)) if sender_name else mail_from
    mime["To"] = message.to_address
    mime["Subject"] = parts.subject
    mime["Date"] = formatdate(localtime=False)
    domain = mail_from.rpartition("@")[2].strip(">") or "localhost"
    mime["Message-ID"] = f"<outbox-{message.tenant_id}-{message.id}@{domain}>"
    mime.set_content(parts.text)
    mime.add_alternative(parts.html, subtype="html")
    return mime


def _send_one(rt: Runtime, sender: SMTPSender, settings: MailSettings, message_id: int, worker: str) -> str:
    with rt.db.read() as s:
        message = s.get_one(EmailMessage, message_id)
        sender_name = stored(s.scalar(select(Tenant.settings).where(Tenant.id == message.tenant_id)), "sender_name")
    attempts = message.attempts
    if message.stencil_id is not None and message.stencil is None:  # never deleted alone; said if it were
        _settle(rt, message_id, worker, status="failed", claimed_by=None, last_error=STENCIL_GONE)
        return "failed"
    parts = message_parts(rt, message)
    # A stencilled message records the bodies of each attempt, so the log shows what went out (or was tried).
    said = dict(text_body=parts.text, html_body=parts.html) if message.stencil_id is not None else {}
    try:
        sender.send(build_mime(message, settings.mail_from, sender_name, parts))
    except TemporaryFailure as exc:
        if attempts >= settings.max_attempts:
            _settle(
                rt,
                message_id,
                worker,
                status="failed",
                claimed_by=None,
                last_error=f"Gave up after {attempts} attempts: {exc.reason}"[:1000],
                **said,
            )
            return "failed"
        delay = min(settings.retry_max, settings.retry_base * 2 ** (attempts - 1))
        _settle(
            rt,
            message_id,
            worker,
            status="queued",
            claimed_by=None,
            last_error=exc.reason,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            **said,
        )
        return "retried"
    except PermanentFailure as exc:
        _settle(rt, message_id, worker, status="failed", claimed_by=None, last_error=exc.reason, **said)
        return "failed"
    _settle(rt, message_id, worker, status="sent", sent_at=utcnow(), last_error=None, **said)
    return "sent"


def _next_due_in(rt: Runtime, tenant_id: int, settings: MailSettings) -> float | None:
    """Seconds until a message of the tenant becomes due; None when nothing is left to send."""
    with rt.db.read() as s:
        queued = s.scalar(
            select(func.min(EmailMessage.next_attempt_at)).where(
                EmailMessage.tenant_id == tenant_id, EmailMessage.status == "queued"
            )
        )
        claimed = s.scalar(
            select(func.min(EmailMessage.claimed_at)).where(
                EmailMessage.tenant_id == tenant_id, EmailMessage.status == "sending"
            )
        )
    due = [t for t in (queued, claimed + timedelta(seconds=settings.claim_lease) if claimed else None) if t]
    if not due:
        return None
    return max(0.0, (min(due) - utcnow()).total_seconds())


@dataclass
class SendCheckpoint(Checkpoint):
    """What a sending job has done so far (it claims due messages; no position to keep)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def send_emails_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """Send up to one batch of the tenant's due messages, paced; None when the outbox is drained."""
    settings = MailSettings.of(rt.settings)
    counts = SendCheckpoint.from_json(checkpoint).to_json()
    if not settings.configured:
        with rt.db.transaction() as s:
            save_progress(s, operation_id, result={**counts, "message": NOT_CONFIGURED})
        return None
    # A fresh name per chunk: a claim left by an earlier, crashed run is never settled by this one.
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    handled, sent_before = 0, any(counts.values())
    assert settings.smtp_url is not None  # configured
    with SMTPSender(settings.smtp_url, timeout=settings.timeout) as sender:
        while handled < settings.batch_size:
            if (handled or sent_before) and settings.send_interval:
                # Pacing, across chunks and turns too; before the claim, so a claim is never idle.
                time.sleep(settings.send_interval)
            message_id = claim_next(rt, tenant_id, worker)
            if message_id is None:
                break
            counts[_send_one(rt, sender, settings, message_id, worker)] += 1
            handled += 1
    if not handled:
        wait = _next_due_in(rt, tenant_id, settings)
        if wait is None:
            return None
        # Only deferred messages are left: wait for the next one a little at a time, so Stop
        # is still noticed between chunks.
        time.sleep(min(wait, 5.0) + 0.01)
    new = SendCheckpoint(**counts)
    with rt.db.transaction() as s:
        save_progress(s, operation_id, done=new.sent + new.failed, checkpoint=new.to_json(), result=counts)
    return new.to_json()
