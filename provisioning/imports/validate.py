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

from ..models import USER_ROLES, Group, User
from ..models.imports import Import, ImportRow
from ..services.users import EMAIL_RE
from .formats import Layout

MAX_LENGTH = {c.name: c.type.length for c in ImportRow.__table__.columns
              if getattr(c.type, "length", None)}
Entry = dict[str, Any]


def error(row_no: int, column: str | None, value: str | None, message: str, **extra: Any) -> Entry:
    return {"row_no": row_no, "status": "error", "column_name": column,
            "value": None if value is None else value[:500], "message": message, **extra}


def entries_for_row(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    """The staged entries of one data row (an empty list for a blank row)."""
    if not any(cells):
        return []
    shape = _shape_error(layout, row_no, cells)
    if shape:
        return [shape]
    cells = cells + [""] * (layout.width - len(cells))
    return {"members": _members, "user-groups": _user_groups, "group-users": _group_users,
            "users": _users}[layout.format](layout, row_no, cells)


def _shape_error(layout: Layout, row_no: int, cells: list[str]) -> Entry | None:
    extra = [c for c in cells[layout.width:] if c]
    if extra:
        return error(row_no, None, ", ".join(extra)[:500],
                     f"Row {row_no} has {len(cells)} cells but the header has {layout.width}; "
                     "a value is outside every column (a stray delimiter or an unquoted field?).")
    repeated = layout.group_cols or layout.email_cols
    # Rows of the user- and group-based formats may stop after their last Groupname/Email.
    needed = min(repeated) + 1 if repeated else layout.width
    if len(cells) < needed:
        return error(row_no, None, None, f"Row {row_no} has {len(cells)} cells but the header has "
                                         f"{layout.width}; a delimiter is missing.")
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
        return error(row_no, layout.header[col], name, f"A group name has at most {MAX_LENGTH['group_name']} characters.")
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
            out.append(_group_error(layout, row_no, col, name)
                       or {"row_no": row_no, "status": "ok", "email": email, "group_name": name, **names})
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
        return [error(row_no, layout.header[layout.email_cols[0]], "", "No email is given on this row.", group_name=name)]
    return out


def _users(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    email, err = _email(layout, row_no, cells[layout.email_col], layout.email_col)
    if err:
        return [err]
    # ``value`` keeps the email as written: a created user gets it with its case.
    entry: Entry = {"row_no": row_no, "status": "ok", "email": email,
                    "value": cells[layout.email_col].replace(" ", "")}
    for name, col in layout.user_cols.items():
        value = cells[col]
        if not value:
            continue
        if name == "role":
            value = value.lower()
            if value not in USER_ROLES:
                return [error(row_no, layout.header[col], cells[col], f"The role must be one of {', '.join(USER_ROLES)}.", email=email)]
        if len(value) > MAX_LENGTH.get(name, 10_000):
            return [error(row_no, layout.header[col], value, f"At most {MAX_LENGTH[name]} characters.", email=email)]
        entry[name] = value
    custom = {name: cells[col] for name, col in layout.custom_cols.items() if cells[col]}
    if custom:
        entry["custom_attributes"] = custom
    return [entry]


# --- set-based checks over the staged rows ---------------------------------------------------


def _mark(s: Session, import_id: int, condition, message: str, column: str | None = None,
          value=ImportRow.email) -> int:
    values: dict[str, Any] = {"status": "error", "message": message, "value": value}
    if column is not None:
        values["column_name"] = column
    return s.execute(update(ImportRow).where(ImportRow.import_id == import_id, ImportRow.status == "ok", condition)
                     .values(**values).execution_options(synchronize_session=False)).rowcount


def same_email(users) -> Any:
    """``lower(users.email) = lower(staged email)`` (the staged one is lower-cased already).

    Both sides are expressions on purpose: against a bare TEXT column SQLite gives the
    comparison TEXT affinity and won't use the (tenant_id, lower(email)) index.
    """
    return func.lower(users.email) == func.lower(ImportRow.email)


def user_exists(tenant_id: int):
    return exists().where(User.tenant_id == tenant_id, same_email(User))


def validate_staged(s: Session, imp: Import, email_header: str | None) -> None:
    """Mark staged entries that can't be applied, with one UPDATE per rule."""
    if imp.format != "users":
        _mark(s, imp.id, ~user_exists(imp.tenant_id),
              "No user of this tenant has this email: users must exist before they join groups.", email_header)
    if imp.format in ("user-groups", "group-users"):
        automatic = exists().where(Group.tenant_id == imp.tenant_id, Group.kind == "automatic",
                                   func.lower(Group.name) == func.lower(ImportRow.group_name))
        _mark(s, imp.id, automatic, "This group is automatic: its members follow its rule and can't be "
                                    "imported.", value=ImportRow.group_name)
    if imp.format == "users":
        taken = exists().where(User.tenant_id == imp.tenant_id, func.lower(User.username) == func.lower(ImportRow.username),
                               func.coalesce(func.lower(User.email), "") != ImportRow.email)
        _mark(s, imp.id, and_(ImportRow.username.is_not(None), taken),
              "Another user already has this username.", "username", ImportRow.username)
    _mark_duplicates(s, imp)


def _mark_duplicates(s: Session, imp: Import) -> None:
    """A second row naming the same user (and group) is an error pointing at the first.

    The user-based format and the users format allow a user on one row only; member lists
    one row per user; the group-based format one pair (group, email).
    """
    keys = [ImportRow.email]
    if imp.format == "group-users":
        keys.append(func.lower(ImportRow.group_name))
    ranked = (select(ImportRow.id.label("id"), ImportRow.row_no.label("row_no"),
                     func.min(ImportRow.row_no).over(partition_by=keys).label("first_row"))
              .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", ImportRow.email.is_not(None))
              .subquery())
    what = "this user and group" if imp.format == "group-users" else "this user"
    # UPDATE ... FROM the ranked rows: one pass of the window function, joined by id.
    s.execute(update(ImportRow).where(ImportRow.id == ranked.c.id, ranked.c.row_no > ranked.c.first_row)
              .values(status="error", value=ImportRow.email,
                      message=literal(f"Duplicate: {what} is already on row ") + cast(ranked.c.first_row, String) + ".")
              .execution_options(synchronize_session=False))


# --- while applying ------------------------------------------------------------------------------


def mark_rows(s: Session, where, status: str, message: str) -> int:
    """Set the status and message of the still-"ok" staged rows matching ``where``; returns how many."""
    return s.execute(update(ImportRow).where(where, ImportRow.status == "ok")
                     .values(status=status, message=message).execution_options(synchronize_session=False)).rowcount


def resolve_users(s: Session, imp: Import, chunk, **more) -> None:
    """Write each staged row's user id (and ``more`` columns) with one UPDATE over the chunk.

    Correlated *scalar* subqueries are evaluated row by row through the unique indexes on
    lower(email) / lower(name); unlike a join, the planner can't turn them into a hash of the
    whole users table when its statistics are stale (users created a moment ago).
    """
    user = select(User.id).where(User.tenant_id == imp.tenant_id, same_email(User)).scalar_subquery()
    s.execute(update(ImportRow).where(chunk, ImportRow.status == "ok").values(user_id=user, **more)
              .execution_options(synchronize_session=False))
