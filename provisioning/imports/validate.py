"""Validation: per row while reading (shape, emails, names), then set-based over the staged rows.

:func:`entries_for_row` turns one row into staged entries (one per member of a group, or
one per user) or error entries.  :func:`validate_staged` runs the checks that need the
database or the whole file — unknown emails, duplicates, automatic groups, username
conflicts — as a handful of UPDATE statements over ``import_rows``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select, update
from sqlalchemy.orm import Session

from provisioning.imports.enrollments import validate_enrollments
from provisioning.imports.formats import Layout
from provisioning.imports.marks import mark_staged, same_email, user_gone
from provisioning.models import ENROLLMENT_STATUSES, USER_ROLES, Group, User
from provisioning.models.imports import Import, ImportRow
from provisioning.services.courses import parse_when
from provisioning.store.users import EMAIL_RE

MAX_LENGTH = {c.name: c.type.length for c in ImportRow.__table__.columns if getattr(c.type, "length", None)}
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


def entries_for_row(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    """The staged entries of one data row (an empty list for a blank row)."""
    if not any(cells):
        return []
    shape = _shape_error(layout, row_no, cells)
    if shape:
        return [shape]
    if len(cells) < layout.width:
        cells = cells + [""] * (layout.width - len(cells))
    return _BY_FORMAT[layout.format](layout, row_no, cells)


def _shape_error(layout: Layout, row_no: int, cells: list[str]) -> Entry | None:
    if len(cells) == layout.width:
        return None
    extra = [c for c in cells[layout.width :] if c]
    if extra:
        return error(
            row_no,
            None,
            ", ".join(extra)[:500],
            f"Row {row_no} has {len(cells)} cells but the header has {layout.width}; "
            "a value is outside every column (a stray delimiter or an unquoted field?).",
        )
    repeated = layout.group_cols or layout.email_cols
    # Rows of the user- and group-based formats may stop after their last Groupname/Email.
    needed = min(repeated) + 1 if repeated else layout.width
    if len(cells) < needed:
        return error(
            row_no,
            None,
            None,
            f"Row {row_no} has {len(cells)} cells but the header has {layout.width}; a delimiter is missing.",
        )
    return None


def _email(layout: Layout, row_no: int, value: str, col: int) -> tuple[str | None, Entry | None]:
    column = layout.header[col]
    email = value.replace(" ", "").lower()
    if not email:
        return None, error(row_no, column, value, "The email is missing.")
    if not EMAIL_RE.match(email) or len(email) > MAX_LENGTH["email"]:
        return None, error(row_no, column, value, f"{value!r} is not an email address.")
    return email, None


def _names(layout: Layout, cells: list[str]) -> dict[str, str | None]:
    first = cells[layout.first_col][:200] if layout.first_col is not None else ""
    last = cells[layout.last_col][:200] if layout.last_col is not None else ""
    return {"given_name": first or None, "family_name": last or None}


def _group_error(layout: Layout, row_no: int, col: int, name: str) -> Entry | None:
    if len(name) > MAX_LENGTH["group_name"]:
        return error(
            row_no, layout.header[col], name, f"A group name has at most {MAX_LENGTH['group_name']} characters."
        )
    return None


def _members(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    email, err = _email(layout, row_no, cells[layout.email_col], layout.email_col)
    if err:
        return [err]
    return [{"row_no": row_no, "status": "ok", "email": email, **_names(layout, cells)}]


def _user_groups(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    email, err = _email(layout, row_no, cells[layout.email_col], layout.email_col)
    if err:
        return [err]
    names = _names(layout, cells)
    out: list[Entry] = []
    for col in layout.group_cols:
        name = cells[col]
        if name:
            out.append(
                _group_error(layout, row_no, col, name)
                or {"row_no": row_no, "status": "ok", "email": email, "group_name": name, **names}
            )
    if not out:
        return [error(row_no, layout.header[layout.group_cols[0]], "", "No group is named on this row.", email=email)]
    return out


def _group_users(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    name = cells[layout.group_col]
    if not name:
        return [error(row_no, layout.header[layout.group_col], "", "The group name is missing.")]
    bad = _group_error(layout, row_no, layout.group_col, name)
    if bad:
        return [bad]
    out: list[Entry] = []
    for col in layout.email_cols:
        if cells[col]:
            email, err = _email(layout, row_no, cells[col], col)
            out.append(err or {"row_no": row_no, "status": "ok", "email": email, "group_name": name})
    if not out:
        return [
            error(row_no, layout.header[layout.email_cols[0]], "", "No email is given on this row.", group_name=name)
        ]
    return out


def _users(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    email, err = _email(layout, row_no, cells[layout.email_col], layout.email_col)
    if err:
        return [err]
    # ``value`` keeps the email as written: a created user gets it with its case.
    entry: Entry = {"row_no": row_no, "status": "ok", "email": email, "value": cells[layout.email_col].replace(" ", "")}
    for name, col in layout.user_cols.items():
        value = cells[col]
        if not value:
            continue
        if name == "role":
            value = value.lower()
            if value not in USER_ROLES:
                return [
                    error(
                        row_no,
                        layout.header[col],
                        cells[col],
                        f"The role must be one of {', '.join(USER_ROLES)}.",
                        email=email,
                    )
                ]
        if len(value) > MAX_LENGTH.get(name, 10_000):
            return [error(row_no, layout.header[col], value, f"At most {MAX_LENGTH[name]} characters.", email=email)]
        entry[name] = value
    custom = {name: cells[col] for name, col in layout.custom_cols.items() if cells[col]}
    if custom:
        entry["custom_attributes"] = custom
    return [entry]


def _enrollment(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    """email or user_id, course (external id), role, status (default enrolled), completed_at (ISO 8601)."""
    cols = layout.user_cols
    entry: Entry = {"row_no": row_no, "status": "ok"}
    email_cell = cells[layout.email_col] if layout.email_col is not None else ""
    id_cell = cells[cols["user_id"]] if "user_id" in cols else ""
    if email_cell:
        email, err = _email(layout, row_no, email_cell, layout.email_col)
        if err:
            return [err]
        entry["email"] = email
    elif id_cell:
        if not id_cell.isdigit() or not 0 < int(id_cell) < 2**63:
            return [error(row_no, layout.header[cols["user_id"]], id_cell, "A user_id is a positive whole number.")]
        entry["user_id"] = int(id_cell)
    else:
        column = layout.header[layout.email_col if layout.email_col is not None else cols["user_id"]]
        return [error(row_no, column, "", "Give the user's email or user_id.")]
    course = cells[cols["course"]]
    if not course or len(course) > MAX_LENGTH["course_ref"]:
        return [
            error(
                row_no,
                layout.header[cols["course"]],
                course,
                "Give the course's external id (at most 320 characters).",
                email=entry.get("email"),
            )
        ]
    entry["course_ref"] = course
    for name, column, check in (
        ("role", "enrollment_role", _enrollment_role),
        ("status", "enrollment_status", _enrollment_status),
        ("completed_at", "completed_at", _completed_at),
    ):
        if name in cols and cells[cols[name]]:
            value, message = check(cells[cols[name]])
            if message:
                return [error(row_no, layout.header[cols[name]], cells[cols[name]], message, email=entry.get("email"))]
            entry[column] = value
    entry.setdefault("enrollment_status", "enrolled")
    return [entry]


def _enrollment_role(value: str) -> tuple[Any, str | None]:
    return (value, None) if len(value) <= MAX_LENGTH["enrollment_role"] else (None, "At most 100 characters.")


def _enrollment_status(value: str) -> tuple[Any, str | None]:
    status = value.lower().replace(" ", "_").replace("-", "_")
    if status not in ENROLLMENT_STATUSES:
        return None, f"The status must be one of {', '.join(ENROLLMENT_STATUSES)}."
    return status, None


def _completed_at(value: str) -> tuple[Any, str | None]:
    try:
        return parse_when(value), None
    except (TypeError, ValueError):
        return None, "Not a date: write an ISO 8601 date or date-time, like 2024-05-31 or 2024-05-31T12:00:00Z."


_BY_FORMAT = {
    "members": _members,
    "user-groups": _user_groups,
    "group-users": _group_users,
    "users": _users,
    "enrollments": _enrollment,
}


# --- set-based checks over the staged rows ---------------------------------------------------


UNKNOWN_EMAIL = "No user of this tenant has this email: users must exist before they join groups."


def validate_staged(
    s: Session, imp: Import, email_header: str | None, *, just_staged: bool = False, duplicates: bool = True
) -> None:
    """Mark staged entries that can't be applied, with one UPDATE per rule (each writes only the rows it marks).

    Right after staging, ``user_id`` is exactly what the emails resolved to; later (an edit, the
    commit) users may have come or gone since, so they are checked again.
    """
    if imp.format == "enrollments":
        validate_enrollments(s, imp)
    elif imp.format != "users":
        mark_staged(
            s,
            imp.id,
            ImportRow.user_id.is_(None) if just_staged else user_gone(imp.tenant_id),
            UNKNOWN_EMAIL,
            email_header,
        )
    elif not just_staged:
        _re_resolve_users(s, imp)
    if imp.format in ("user-groups", "group-users"):
        automatic = exists().where(
            Group.tenant_id == imp.tenant_id,
            Group.kind == "automatic",
            func.lower(Group.name) == func.lower(ImportRow.group_name),
        )
        mark_staged(
            s,
            imp.id,
            automatic,
            "This group is automatic: its members follow its rule and can't be imported.",
            value=ImportRow.group_name,
        )
    if imp.format == "users":
        taken = exists().where(
            User.tenant_id == imp.tenant_id,
            func.lower(User.username) == func.lower(ImportRow.username),
            func.coalesce(func.lower(User.email), "") != ImportRow.email,
        )
        mark_staged(
            s,
            imp.id,
            and_(ImportRow.username.is_not(None), taken),
            "Another user already has this username.",
            "username",
            ImportRow.username,
        )
    if duplicates:  # they depend on the staged rows alone: the commit doesn't look again
        _mark_duplicates(s, imp)


def _re_resolve_users(s: Session, imp: Import) -> None:
    """Users format: follow users created or deleted since the preview (writes only the rows that changed)."""
    live = and_(ImportRow.import_id == imp.id, ImportRow.status == "ok")
    user = select(User.id).where(User.tenant_id == imp.tenant_id, same_email(User)).scalar_subquery()
    s.execute(
        update(ImportRow)
        .where(
            live,
            ImportRow.user_id.is_not(None),
            ~exists().where(User.id == ImportRow.user_id, User.tenant_id == imp.tenant_id),
        )
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )
    s.execute(
        update(ImportRow)
        .where(live, ImportRow.user_id.is_(None), exists().where(User.tenant_id == imp.tenant_id, same_email(User)))
        .values(user_id=user)
        .execution_options(synchronize_session=False)
    )


def _mark_duplicates(s: Session, imp: Import) -> None:
    """A second row naming the same user (and group) is an error pointing at the first.

    The user-based format and the users format allow a user on one row only; member lists
    one row per user; the group-based format one pair (group, email).
    """
    email = ImportRow.email.collate("C") if s.get_bind().dialect.name == "postgresql" else ImportRow.email
    keys = [ImportRow.user_id if imp.format == "enrollments" else email]  # "C": bytes, not the locale's rules
    if imp.format == "group-users":
        keys.append(func.lower(ImportRow.group_name))
    if imp.format == "enrollments":
        keys.append(ImportRow.course_ref)
    ranked = (
        select(
            ImportRow.id.label("id"),
            ImportRow.row_no.label("row_no"),
            func.min(ImportRow.row_no).over(partition_by=keys).label("first_row"),
        )
        .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", keys[0].is_not(None))
        .subquery()
    )
    what = {"group-users": "this user and group", "enrollments": "this user and course"}.get(imp.format, "this user")
    # UPDATE ... FROM the ranked rows: one pass of the window function, joined by id.
    s.execute(
        update(ImportRow)
        .where(ImportRow.id == ranked.c.id, ranked.c.row_no > ranked.c.first_row)
        .values(
            status="error",
            value=ImportRow.email,
            message=literal(f"Duplicate: {what} is already on row ") + cast(ranked.c.first_row, String) + ".",
        )
        .execution_options(synchronize_session=False)
    )


# --- while applying ------------------------------------------------------------------------------
