"""Groups and their memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

GROUP_KINDS = ("manual", "automatic", "roster")
GROUP_SOURCES = ("scim", "api", "csv", "lti")
MEMBERSHIP_SOURCES = ("manual", "scim", "csv", "rule", "roster")
GROUP_ID_START = 2**40  # users and groups share one id space; see Group.__table_args__


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        Index("uq_groups_tenant_name", "tenant_id", text("lower(name)"), unique=True),
        Index("ix_groups_tenant_external_id", "tenant_id", "external_id"),
        # SCIM ids must be unique across resource types (RFC 7643 §3.1), so group ids start at
        # GROUP_ID_START, above any user id (migration 0006 sets the sequence).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="manual")
    source: Mapped[str] = mapped_column(String(20), default="api")
    external_id: Mapped[str | None] = mapped_column(String(320))
    rule: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    # Filled by queries that ask for it (``with_expression``); counted in SQL, never in Python.
    member_count: Mapped[int | None] = query_expression()


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_user", "user_id"),
        Index("ix_memberships_tenant_group", "tenant_id", "group_id"),
    )

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20), default="manual")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupManager(Base):
    """A person an admin made a manager of one group, with the actions they may take on it (a subset of
    the tenant's manager permission set).  Apart from course staff, who manage their courses' groups."""

    __tablename__ = "group_managers"
    __table_args__ = (Index("ix_group_managers_user", "user_id"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    permissions: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
