"""Sessions of the web UI: one row per launch or sign-in, so a session can end before its token expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, UTCDateTime, utcnow

# Why a session ended; the refusal page says it in words (provisioning.services.ui_sessions).
SESSION_END_REASONS = ("signed_out", "deactivated", "deleted", "role_changed")


class UiSession(Base):
    __tablename__ = "ui_sessions"
    __table_args__ = (
        Index("ix_ui_sessions_user", "user_id"),
        Index("ix_ui_sessions_tenant_expires", "tenant_id", "expires_at"),
    )

    # Random, unguessable; the signed launch token names it (claim "s").
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # None: the tenant's owner (a sign-in link), who is no user row.  No foreign key: the row outlives
    # a deleted user, ended with the reason "deleted", so a replayed token is told why.
    user_id: Mapped[int | None] = mapped_column(BigId)
    # The user's role (users.role) when the session began: a different role now ends the session.
    user_role: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(20))
