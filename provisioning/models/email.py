"""The durable email outbox: one row per message, with its own delivery state.

A message is ``queued`` until a sender claims it (``sending``), then ``sent`` or,
after a temporary failure, ``queued`` again with a later ``next_attempt_at``; a
permanent failure or too many attempts make it ``failed`` with the reason.

A message queued by the thousand (a bulk add's invitations) keeps no body of its own until it is
sent: it points at the batch's rendering in its language (``email_stencils``, one row per batch and
language) and holds only what is personal (``personal``: the name, the send number its join link is
signed for).  The sender fills the stencil in, signs the link, sends, and records the bodies it sent
in ``text_body`` / ``html_body``, so the log shows the message as it went out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

EMAIL_STATUSES = ("queued", "sending", "sent", "failed", "cancelled")
EMAIL_KINDS = ("invitation", "password_reset", "message", "notification")


class EmailStencil(Base):
    """One batch's email in one language, rendered once, a mark in place of each personal field
    (provisioning/mail/templates.py ``Stencil``)."""

    __tablename__ = "email_stencils"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(String(400))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailMessage(Base):
    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_status_next", "status", "next_attempt_at"),
        Index("ix_email_messages_tenant_created", "tenant_id", "created_at"),
        Index("ix_email_messages_user", "user_id"),
        # An automatic notification is sent once per event: its key names (trigger, user, object, event
        # instance), and a replayed event's INSERT ... ON CONFLICT DO NOTHING adds nothing.
        Index("uq_email_messages_tenant_dedupe", "tenant_id", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(400))
    # What was sent; None for a stencilled message until its first attempt (see the module's docstring).
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # No foreign key: PostgreSQL would check it with a trigger per row, and on the few rows of a fresh
    # email_stencils table that check is a scan (40% of a bulk add's outbox INSERT).  Stencils are written
    # in the transaction that queues their messages and go only with their tenant, as the messages do.
    stencil_id: Mapped[int | None] = mapped_column(BigId)
    personal: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The automatic notification's trigger (provisioning.models.notify.TRIGGERS), None for other emails.
    trigger: Mapped[str | None] = mapped_column(String(30))
    dedupe_key: Mapped[str | None] = mapped_column(String(400))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    stencil: Mapped[EmailStencil | None] = relationship(
        primaryjoin="foreign(EmailMessage.stencil_id) == EmailStencil.id", lazy="selectin", viewonly=True
    )
