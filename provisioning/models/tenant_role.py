"""A tenant's own roles (the built-in ones are declared in provisioning/tenant_roles.py, not stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, JsonDoc, UTCDateTime, utcnow

ROLE_KEY_MAX = 20  # users.role is String(20)


class TenantRole(Base):
    """A custom role an admin created: its key (what users.role holds), label, description, permissions."""

    __tablename__ = "tenant_roles"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(ROLE_KEY_MAX), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
