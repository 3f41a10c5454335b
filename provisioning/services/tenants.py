"""Tenants: create, list, find."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.i18n import N_
from provisioning.models import Tenant
from provisioning.runtime import Runtime

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:100]


def create_tenant(
    rt: Runtime,
    name: str,
    *,
    slug: str | None = None,
    seat_limit: int | None = None,
    settings: dict[str, Any] | None = None,
) -> Tenant:
    """Create a tenant; its slug (derived from the name unless given) is unique."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(N_("A tenant needs a name."), details={"name": [N_("Must not be empty.")]})
    slug = slugify(slug or name)
    if not slug:
        raise InvalidInput(
            N_("The tenant name has no letters or digits to build a slug from."),
            details={"slug": [N_("Must contain letters or digits.")]},
        )
    if seat_limit is not None and seat_limit < 0:
        raise InvalidInput(N_("The seat limit cannot be negative."), details={"seat_limit": [N_("Must be 0 or more.")]})
    with rt.db.transaction() as s:
        if s.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise Conflict(N_("A tenant with slug %(slug)r already exists."), field="slug", slug=slug)
        tenant = Tenant(name=name, slug=slug, seat_limit=seat_limit, settings=settings or {})
        s.add(tenant)
        s.flush()
    return tenant


def list_tenants(rt: Runtime) -> list[Tenant]:
    with rt.db.read() as s:
        return list(s.scalars(select(Tenant).order_by(Tenant.id)))


def load_tenant(session: Session, ref: str | int) -> Tenant:
    """Find a tenant by id or slug inside an open session."""
    tenant = None
    if isinstance(ref, int) or str(ref).isdigit():
        tenant = session.get(Tenant, int(ref))
    if tenant is None:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == str(ref)))
    if tenant is None:
        raise NotFound(N_("No tenant %(ref)r."), ref=ref)
    return tenant


def get_tenant(rt: Runtime, ref: str | int) -> Tenant:
    """Find a tenant by id or slug."""
    with rt.db.read() as s:
        return load_tenant(s, ref)


def tenant_setting(rt: Runtime, tenant_id: int, name: str) -> Any:
    """One of the tenant's settings (None when unset)."""
    with rt.db.read() as s:
        settings = s.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return settings.get(name)
