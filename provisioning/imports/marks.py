"""Marking staged import rows that can't be applied: one set-based UPDATE per reason.

Shared by every format's validation (:mod:`provisioning.imports.validate`, and
:mod:`provisioning.imports.enrollments` for course enrollments)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from provisioning.db import affected
from provisioning.i18n import N_
from provisioning.models import User
from provisioning.models.imports import ImportRow


def sql_sentence(template: str, **values: Any) -> ColumnElement[str]:
    """A row message made by the database in a set-based UPDATE: ``template`` (marked with ``N_``) with each
    ``%(name)s`` filled from ``values`` (a SQL expression, or text).  It is stored as English text, as every
    row message is; the UI recognises its template and says it in the page's language (provisioning/i18n.py)."""
    pieces = re.split(r"%\((\w+)\)s", template)
    sentence: ColumnElement[str] = literal(pieces[0], String)
    for name, after in zip(pieces[1::2], pieces[2::2], strict=True):
        value = values[name]
        sentence = sentence + (literal(value, String) if isinstance(value, str) else cast(value, String))
        sentence = sentence + literal(after, String)
    return sentence


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


# Said alike of an unknown email and of a user outside a group manager's scope: an upload must not
# tell a manager which emails exist in the tenant (OWASP ASVS V3.2 / account enumeration).
OUT_OF_SCOPE = N_("No one you manage has this email or id: list only people of your groups or shared with you.")


def mark_out_of_scope(s: Session, import_id: int, within, email_header: str | None, id_header: str | None) -> None:
    """Mark the rows naming a user outside ``within`` (a SELECT of user ids) as errors, forget their user,
    and word the rows of unknown users the same way."""
    this = ImportRow.import_id == import_id
    s.execute(
        update(ImportRow)
        .where(this, ImportRow.status == "error", ImportRow.message.like("No user of this tenant has%"))
        .values(message=OUT_OF_SCOPE)
        .execution_options(synchronize_session=False)
    )
    s.execute(
        update(ImportRow)
        .where(this, ImportRow.status == "ok", ImportRow.user_id.is_not(None), ImportRow.user_id.not_in(within))
        .values(
            status="error",
            message=OUT_OF_SCOPE,
            value=func.coalesce(ImportRow.email, cast(ImportRow.user_id, String)),
            column_name=case((ImportRow.email.is_not(None), email_header), else_=id_header),
            user_id=None,
        )
        .execution_options(synchronize_session=False)
    )
