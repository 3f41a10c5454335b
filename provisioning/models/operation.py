"""The durable record of every background job: the admins' action log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.i18n import N_
from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

OPERATION_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
# Every Operation type, with the words the logs show for it (jobs/handlers.py maps each to its work).
OPERATION_TYPES = {
    "members_copy": N_("Copy members"),
    "members_bulk_add": N_("Bulk add members"),
    "import": N_("Import"),
    "roster_sync": N_("Roster sync"),
    "rule_evaluation": N_("Rule evaluation"),
    "batch_action": N_("Batch action on users"),
    "group_message": N_("Message to a group"),
    "send_emails": N_("Send emails"),
    "report": N_("Report"),
}


class Operation(Base):
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_tenant_created", "tenant_id", "created_at"),
        Index("ix_operations_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column(default=None)
    # Where the job got to, so a re-run after a crash resumes instead of repeating work.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    # The X-Request-ID of the request that started it: the job's log lines carry it too.
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
