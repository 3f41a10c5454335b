"""What admins give users in bulk: tasks, certificates, in-app notifications, invitations,
and managers' access to users beyond their own groups (shares)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, UTCDateTime, utcnow

TASK_STATUSES = ("open", "completed")
INVITATION_STATUSES = ("pending", "accepted")


class Task(Base):
    """A to-do set for a user; open tasks are temporary data, completed ones permanent."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_tenant_user_status", "tenant_id", "user_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(400))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(Base):
    """A certificate of achievement issued to a user (permanent data)."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_tenant_user", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(400))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An in-app message.  ``delivered_at`` stays empty until the user has joined."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_tenant_user", "tenant_id", "user_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """An invitation to join the tenant (through its join link); pending until the user arrives."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_tenant_status", "tenant_id", "status"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    sent_count: Mapped[int] = mapped_column(default=1)
    invited_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ManagerShare(Base):
    """A group manager's access to a user outside the manager's own groups."""

    __tablename__ = "manager_shares"
    __table_args__ = (Index("ix_manager_shares_user", "user_id"),)

    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    shared_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


GROUP_INVITATION_STATUSES = ("pending", "accepted")


class GroupInvitation(Base):
    """An invitation to join one group, sent by a manager: the person joins when they use its link (consent).

    ``email`` is the address the inviter typed, the only thing the inviter's pages show of it."""

    __tablename__ = "group_invitations"
    __table_args__ = (Index("ix_group_invitations_tenant_group", "tenant_id", "group_id", "status"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    sent_count: Mapped[int] = mapped_column(default=1)
    invited_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
