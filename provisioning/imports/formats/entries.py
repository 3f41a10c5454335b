"""Checking the cells of one data row: the helpers every format's :meth:`ImportFormat.entries` shares.

A row becomes staged entries (dicts of ``import_rows`` columns, status "ok") or one error entry
naming the column and value at fault.
"""

from __future__ import annotations

from typing import Any

from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key, refusal
from provisioning.imports.formats.columns import Layout
from provisioning.models.imports import ImportRow
from provisioning.store.users import EMAIL_RE

MAX_LENGTH: dict[str, int] = {
    c.name: c.type.length  # type: ignore[attr-defined]
    for c in ImportRow.__table__.columns
    if getattr(c.type, "length", None)
}
Entry = dict[str, Any]


def error(row_no: int, column: str | None, value: str | None, message: str, **extra: Any) -> Entry:
    return {
        "row_no": row_no,
        "status": "error",
        "column_name": column,
        "value": None if value is None else value[:500],
        "message": message,
        **extra,
    }


def email_of(layout: Layout, row_no: int, value: str, col: int) -> tuple[str | None, Entry | None]:
    """The email's identity key (what is staged and matched against ``users.email_key``), or the row's error."""
    column = layout.header[col]
    email = value.replace(" ", "")
    if not email:
        return None, error(row_no, column, value, N_("The email is missing."))
    if problem := refusal(email, mid_sentence=True):
        return None, error(row_no, column, value, Message(N_("The email %(problem)s"), problem=problem))
    key = identity_key(email)
    if not EMAIL_RE.match(email) or len(email) > MAX_LENGTH["email"] or len(key) > MAX_LENGTH["email"]:
        return None, error(row_no, column, value, Message(N_("%(value)r is not an email address."), value=value))
    return key, None


def names_of(layout: Layout, cells: list[str]) -> dict[str, str | None]:
    first = cells[layout.first_col][:200] if layout.first_col is not None else ""
    last = cells[layout.last_col][:200] if layout.last_col is not None else ""
    return {"given_name": first or None, "family_name": last or None}


def group_error(layout: Layout, row_no: int, col: int, name: str) -> Entry | None:
    if len(name) > MAX_LENGTH["group_name"]:
        return error(
            row_no,
            layout.header[col],
            name,
            Message(N_("A group name has at most %(most)s characters."), most=MAX_LENGTH["group_name"]),
        )
    return None
