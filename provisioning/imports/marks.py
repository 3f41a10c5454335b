"""Marking staged import rows that can't be applied: one set-based UPDATE per reason.

Shared by every format's validation (:mod:`provisioning.imports.validate`, and
:mod:`provisioning.imports.enrollments` for course enrollments)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from provisioning.db import affected
from provisioning.models import User
from provisioning.models.imports import ImportRow


def mark_staged(
    s: Session, import_id: int, condition, message, column: str | None = None, value=ImportRow.email
) -> int:
    values: dict[str, Any] = {"status": "error", "message": message, "value": value}
    if column is not None:
        values["column_name"] = column
    return affected(
        s.execute(
            update(ImportRow)
            .where(ImportRow.import_id == import_id, ImportRow.status == "ok", condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )


def same_email(users) -> Any:
    """``users.email_key = staged email`` (staged as its identity key: :func:`.formats.entries.email_of`)."""
    return users.email_key == ImportRow.email


def user_gone(tenant_id: int):
    """The staged row names no user of the tenant (any more): a primary-key probe per row (see apply)."""
    user = (
        select(User.id)
        .where(User.id == ImportRow.user_id, User.tenant_id == tenant_id)
        .correlate(ImportRow)
        .scalar_subquery()
    )
    return or_(ImportRow.user_id.is_(None), user.is_(None))


def mark_rows(s: Session, where, status: str, message: str) -> int:
    """Set the status and message of the still-"ok" staged rows matching ``where``; returns how many."""
    return affected(
        s.execute(
            update(ImportRow)
            .where(where, ImportRow.status == "ok")
            .values(status=status, message=message)
            .execution_options(synchronize_session=False)
        )
    )
