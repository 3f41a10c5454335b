"""People of a tenant, as pushed by the identity provider or created by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

USER_STATUSES = ("invited", "active", "deactivated")
# The built-in tenant roles (provisioning/tenant_roles.py); a tenant may add its own.
USER_ROLES = ("learner", "curator", "manager", "reporter", "admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # userName and the primary email are unique per tenant by their identity keys (NFKC, case
        # folded: provisioning/identity_keys.py; RFC 7643 §4.1.1 makes userName caseExact=false).
        # The indexes serve both the constraint and the lookups (SCIM userName eq, imports, LTI).
        Index("uq_users_tenant_username_key", "tenant_id", "username_key", unique=True),
        Index("uq_users_tenant_email_key", "tenant_id", "email_key", unique=True),
        Index("ix_users_tenant_external_id", "tenant_id", "external_id"),
        Index("ix_users_tenant_status", "tenant_id", "status"),
        Index("ix_users_tenant_department", "tenant_id", "department"),
        # Keyset scans of one tenant's users in id order (rule evaluations, batch actions).
        Index("ix_users_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(320))
    # The primary email (SCIM emails[primary eq true], else the first); the whole SCIM list is kept in extra.
    email: Mapped[str | None] = mapped_column(String(320))
    # identity_key(username) and identity_key(email), written with them (store/users.py, and the bulk
    # inserts of imports and roster syncs).  NULL only for the younger of two users that already
    # collided when migration 0013 added the keys (it logs them).
    username_key: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    email_type: Mapped[str | None] = mapped_column(String(20))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    role: Mapped[str] = mapped_column(String(20), default="learner")
    # Where the role came from: "scim" when the tenant's scim_role_map gave it (the identity provider may
    # change it again), "admin" otherwise (given by hand, or the default; provisioning/role_maps.py).
    role_source: Mapped[str] = mapped_column(String(10), default="admin", server_default="admin")
    language: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    user_type: Mapped[str | None] = mapped_column(String(100))
    # Enterprise User extension (RFC 7643 §4.3)
    employee_number: Mapped[str | None] = mapped_column(String(100))
    cost_center: Mapped[str | None] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(200))
    division: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    manager_id: Mapped[str | None] = mapped_column(String(320))
    # The tenant's own attributes (location, hireDate, studentOrEmployee, ...)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # Attributes an identity provider sent that we keep verbatim (phoneNumbers, addresses, ...)
    extra: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
