"""LTI 1.3: platform registrations, deployments, the tool's keys, login nonces, user and course links.

The tool's signing keys (``lti_keys``) are the one tool-wide table without a tenant: every
platform fetches the same JWKS URL.  Everything else belongs to a tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

DEPLOYMENT_STATUSES = ("registered", "recorded")


class LtiRegistration(Base):
    """One platform registration: an issuer and one of its client_ids (hosted Canvas shares one issuer)."""

    __tablename__ = "lti_registrations"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", name="uq_lti_registrations_issuer_client"),
        Index("ix_lti_registrations_tenant", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(400))
    client_id: Mapped[str] = mapped_column(String(400))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    # The platform's JWKS as last fetched; fetched again when a launch names an unknown kid.
    platform_jwks: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    platform_jwks_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the people managing the tenant call this platform ("Moodle production").
    name: Mapped[str | None] = mapped_column(String(200))
    # Set by ``provisioning lti revoke`` / the admin API: launches and roster syncs are refused from then on.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiDeployment(Base):
    __tablename__ = "lti_deployments"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployments_registration_deployment"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(400))
    # "registered" by an admin; "recorded" when first seen in a launch under the tenant's "record" setting.
    status: Mapped[str] = mapped_column(String(20), default="registered")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiKey(Base):
    """A tool signing key.  Retired keys stay published in the JWKS until ``published_until``."""

    __tablename__ = "lti_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    # The private key sealed under SECRET_KEY (provisioning.lti.jwk.seal_private_pem), never the PEM in clear.
    private_key_sealed: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiNonce(Base):
    """A login in flight: the OIDC state and nonce we issued, used at most once (replays are refused)."""

    __tablename__ = "lti_nonces"
    __table_args__ = (Index("ix_lti_nonces_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(100), unique=True)
    nonce: Mapped[str] = mapped_column(String(100), unique=True)
    # What the platform sent to /lti/login, to restart the login in a new window when cookies are blocked.
    login_params: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiUserLink(Base):
    """A platform user (issuer, sub) is this tenant user."""

    __tablename__ = "lti_user_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "issuer", "sub", name="uq_lti_user_links_tenant_issuer_sub"),
        Index("ix_lti_user_links_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(400))
    sub: Mapped[str] = mapped_column(String(400))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiContext(Base):
    """A platform context (course) as the tool knows it: its Course, NRPS URLs and roster group."""

    __tablename__ = "lti_contexts"
    __table_args__ = (
        UniqueConstraint("registration_id", "context_id", name="uq_lti_contexts_registration_context"),
        Index("ix_lti_contexts_course", "course_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(320))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    memberships_url: Mapped[str | None] = mapped_column(String(2000))
    # NRPS §2.4.3: the "differences" link of the last full sync, to ask only for changes next time.
    differences_url: Mapped[str | None] = mapped_column(String(2000))
    roster_group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseGroup(Base):
    """A group belongs to a course: its instructors manage it (the roster group, and groups made in the course)."""

    __tablename__ = "course_groups"
    __table_args__ = (Index("ix_course_groups_group", "group_id"),)

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class LtiRosterSeen(Base):
    """Staging for a full roster sync: who the platform listed, so the rest is removed in one DELETE."""

    __tablename__ = "lti_roster_seen"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
