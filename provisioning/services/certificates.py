"""Certificates of achievement issued to users (permanent data: deactivation keeps them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from provisioning.db import id_in
from provisioning.models import Certificate, User, utcnow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.store.users import load_user


def assign_certificates(
    s: Session, tenant_id: int, user_ids: Sequence[int], name: str, issued_on: date, issued_by: str
) -> list[int]:
    """Issue a certificate to each of ``user_ids`` in the tenant, in one INSERT ... SELECT."""
    rows = select(
        literal(tenant_id),
        User.id,
        literal(name),
        literal(issued_on, type_=Certificate.issued_on.type),
        literal(issued_by),
        literal(utcnow(), type_=Certificate.created_at.type),
    ).where(User.tenant_id == tenant_id, id_in(s, User.id, list(user_ids)))
    stmt = (
        Certificate.__table__.insert()
        .from_select(
            ["tenant_id", "user_id", "name", "issued_on", "issued_by", "created_at"],
            rows,
        )
        .returning(Certificate.__table__.c.user_id)
    )
    return sorted(s.scalars(stmt).all())


def list_certificates(rt: Runtime, tenant_id: int, user_id: int, *, page: int = 1, per_page: int = 50) -> Page[Any]:
    """A user's certificates, most recently issued first."""
    with rt.db.read() as s:
        load_user(s, tenant_id, user_id)
        stmt = (
            select(Certificate)
            .where(Certificate.tenant_id == tenant_id, Certificate.user_id == user_id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        )
        return paginate(s, stmt, page, per_page)
