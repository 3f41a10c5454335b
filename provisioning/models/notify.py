"""Automatic notifications (per-tenant triggers with their templates) and scheduled reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

# The events that can send an automatic email (provisioning/mail/triggers.py holds their templates).
TRIGGERS = ("enrolled", "completed", "group_added", "invited", "seat_assigned")
REPORT_TYPES = ("group_progress",)
REPORT_FREQUENCIES = ("daily", "weekly", "monthly")


class NotificationTrigger(Base):
    """A tenant's switch and templates for one trigger; no row means off, with the default templates."""

    __tablename__ = "notification_triggers"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(30), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # {language: {"subject": ..., "body": ...}}; languages not given fall back to the defaults.
    templates: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSchedule(Base):
    """A report run by the workers' schedule every day, week or month, for one group."""

    __tablename__ = "report_schedules"
    __table_args__ = (Index("ix_report_schedules_due", "enabled", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    report_type: Mapped[str] = mapped_column(String(30))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
