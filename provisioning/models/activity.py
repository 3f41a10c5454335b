"""The audit log: who did what to which object, through which channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

CHANNELS = ("scim", "api", "ui", "lti", "job", "rule", "cli", "join")


class ActivityEvent(Base):
    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_tenant_created", "tenant_id", "created_at"),
        Index("ix_activity_tenant_object", "tenant_id", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign key: PostgreSQL would check it with a trigger call per event, and bulk jobs write three
    # events a person.  A trigger on tenants deletes a tenant's events with it (migration 0022).
    tenant_id: Mapped[int] = mapped_column(BigId)
    actor: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
