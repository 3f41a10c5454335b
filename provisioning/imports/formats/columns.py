"""Which of the four import formats a header row is, and where each column goes.

Header names are matched ignoring case, spaces, underscores, hyphens and dots, so
"Email", "email_address", "E-mail" and "First name" / "FirstName" / "first_name" all match.
Columns are addressed by position, never by a dict of names: the user-based and
group-based formats repeat their Groupname / Email columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from provisioning.errors import InvalidInput
from provisioning.models.imports import IMPORT_FORMATS, STAGED_USER_FIELDS

EMAIL = {"email", "emailaddress", "mail", "primaryemail"}
FIRST_NAME = {"firstname", "givenname", "forename"}
LAST_NAME = {"lastname", "familyname", "surname"}
GROUP_NAME = {"groupname"}
# Columns a members export adds: accepted by the members format and not imported.
EXPORT_ONLY = {"username", "status", "lastlogin", "lastloginat", "source", "addedat"}

USER_FIELDS = {
    "username": "username",
    "userid": "username",
    "login": "username",
    "firstname": "given_name",
    "givenname": "given_name",
    "lastname": "family_name",
    "familyname": "family_name",
    "surname": "family_name",
    "displayname": "display_name",
    "role": "role",
    "language": "language",
    "locale": "locale",
    "timezone": "timezone",
    "title": "title",
    "jobtitle": "title",
    "department": "department",
    "organization": "organization",
    "organisation": "organization",
    "division": "division",
    "costcenter": "cost_center",
    "costcentre": "cost_center",
    "employeenumber": "employee_number",
    "employeeid": "employee_number",
    "externalid": "external_id",
    "usertype": "user_type",
}

# The enrollments format: a user (email or user_id), a course (its external id), role, status, completed_at.
ENROLLMENT_FIELDS = {
    "userid": "user_id",
    "courseid": "course",
    "course": "course",
    "courseexternalid": "course",
    "role": "role",
    "status": "status",
    "completedat": "completed_at",
    "completed": "completed_at",
    "completiondate": "completed_at",
}
COURSE = {k for k, v in ENROLLMENT_FIELDS.items() if v == "course"}

EXAMPLE_HEADERS = {
    "members": ["email_address", "first_name", "last_name"],
    "user-groups": ["email", "FirstName", "LastName", "Groupname", "Groupname"],
    "group-users": ["Groupname", "Email", "Email"],
    "users": ["email", "username", "first_name", "last_name", "role", "language", "department"],
    "enrollments": ["email", "user_id", "course_id", "role", "status", "completed_at"],
}


def norm(header: str) -> str:
    """The matching key of a header: lower case without spaces, underscores, hyphens or dots."""
    return re.sub(r"[\s_\-.]+", "", header.lower())


@dataclass
class Layout:
    """Where each value of a row is, for one format."""

    format: str
    width: int
    header: list[str]
    email_col: int | None = None
    email_cols: list[int] = field(default_factory=list)
    group_col: int | None = None
    group_cols: list[int] = field(default_factory=list)
    first_col: int | None = None
    last_col: int | None = None
    user_cols: dict[str, int] = field(default_factory=dict)
    custom_cols: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def file_error(message: str, fmt: str | None = None) -> InvalidInput:
    hint = f" Expected a header row like: {','.join(EXAMPLE_HEADERS[fmt])}." if fmt else ""
    return InvalidInput(message + hint, details={"file": [message + hint]})


def detect_format(header: list[str], *, has_group_target: bool) -> str:
    """Name the format a header row is written in (see the module docstring for the rules)."""
    keys = [norm(h) for h in header]
    if keys and keys[0] in GROUP_NAME and any(k in EMAIL for k in keys[1:]):
        return "group-users"
    if any(k in EMAIL for k in keys) and any(k in GROUP_NAME for k in keys):
        return "user-groups"
    if any(k in COURSE for k in keys):
        return "enrollments"
    if has_group_target:
        return "members"
    members_only = EMAIL | FIRST_NAME | LAST_NAME | EXPORT_ONLY
    if any(k in EMAIL for k in keys):
        return "members" if set(keys) <= members_only and "username" not in keys else "users"
    raise file_error(
        "The header row does not name an email column, so the file's format can't be recognised. "
        "Use one of the templates: a member list (email_address), user-based groups "
        "(email, FirstName, LastName, Groupname, ...), group-based groups (Groupname, Email, ...) "
        "users (email, username, first_name, last_name, ...) or enrollments (email | user_id, course_id, role, "
        "status, completed_at)."
    )


def layout_for(
    fmt: str, header: list[str], *, mapping: dict[str, Any] | None = None, custom_names: frozenset[str] = frozenset()
) -> Layout:
    """Map the header's columns for ``fmt``; a missing or unknown required header is a file-level error."""
    if fmt not in IMPORT_FORMATS:
        raise InvalidInput(
            f"Unknown format {fmt!r}.", details={"format": [f"Must be one of auto, {', '.join(IMPORT_FORMATS)}."]}
        )
    if not any(header):
        raise file_error("The first row is empty; it must be the header row.", fmt)
    duplicates = _duplicate_headers(header, allowed={"user-groups": GROUP_NAME, "group-users": EMAIL}.get(fmt, set()))
    if duplicates:
        raise file_error(f"The header repeats the column(s) {', '.join(repr(d) for d in duplicates)}.", fmt)
    return {
        "members": _members,
        "user-groups": _user_groups,
        "group-users": _group_users,
        "users": _users,
        "enrollments": _enrollments,
    }[fmt](header, mapping or {}, custom_names)


def _duplicate_headers(header: list[str], allowed: set[str]) -> list[str]:
    seen: set[str] = set()
    dups = []
    for h in header:
        key = norm(h)
        if key and key in seen and key not in allowed:
            dups.append(h)
        seen.add(key)
    return dups


def _person_column(layout: Layout, key: str, i: int) -> bool:
    """Place an email / first name / last name column; False when ``key`` is none of them."""
    if key in EMAIL and layout.email_col is None:
        layout.email_col = i
    elif key in FIRST_NAME:
        layout.first_col = i
    elif key in LAST_NAME:
        layout.last_col = i
    else:
        return False
    return True


def _members(header: list[str], mapping, custom) -> Layout:
    layout = Layout("members", len(header), header)
    for i, h in enumerate(header):
        key = norm(h)
        if _person_column(layout, key, i):
            continue
        if key and key not in EXPORT_ONLY:
            layout.warnings.append(f"Column {h!r} is not part of a member list and was ignored.")
    if layout.email_col is None:
        raise file_error('The header has no email_address column (also accepted: email, "Email").', "members")
    return layout


def _user_groups(header: list[str], mapping, custom) -> Layout:
    layout = Layout("user-groups", len(header), header)
    for i, h in enumerate(header):
        key = norm(h)
        if _person_column(layout, key, i):
            continue
        if key in GROUP_NAME:
            layout.group_cols.append(i)
        elif key:
            raise file_error(
                f"Column {h!r} is not part of the user-based format: don't rename or add columns.", "user-groups"
            )
    if layout.email_col is None:
        raise file_error("The header has no 'email' column.", "user-groups")
    if not layout.group_cols:
        raise file_error("The header has no 'Groupname' column.", "user-groups")
    return layout


def _group_users(header: list[str], mapping, custom) -> Layout:
    layout = Layout("group-users", len(header), header)
    for i, h in enumerate(header):
        key = norm(h)
        if key in GROUP_NAME and layout.group_col is None:
            layout.group_col = i
        elif key in EMAIL:
            layout.email_cols.append(i)
        elif key:
            raise file_error(
                f"Column {h!r} is not part of the group-based format: don't rename or add columns.", "group-users"
            )
    if layout.group_col is None:
        raise file_error("The header has no 'Groupname' column.", "group-users")
    if not layout.email_cols:
        raise file_error("The header has no 'Email' column.", "group-users")
    return layout


def _enrollments(header: list[str], mapping, custom) -> Layout:
    """email or user_id, course_id (the course's external id), and optional role, status, completed_at."""
    layout = Layout("enrollments", len(header), header)
    for i, h in enumerate(header):
        key = norm(h)
        if key in EMAIL and layout.email_col is None:
            layout.email_col = i
        elif key in ENROLLMENT_FIELDS and ENROLLMENT_FIELDS[key] not in layout.user_cols:
            layout.user_cols[ENROLLMENT_FIELDS[key]] = i
        elif key:
            layout.warnings.append(f"Column {h!r} is not part of an enrollment list and was ignored.")
    if layout.email_col is None and "user_id" not in layout.user_cols:
        raise file_error("The header has neither an 'email' nor a 'user_id' column.", "enrollments")
    if "course" not in layout.user_cols:
        raise file_error("The header has no 'course_id' column (the course's external id).", "enrollments")
    return layout


def _users(header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
    """Known headers map to user attributes; others need an entry in ``mapping``.

    ``mapping`` maps a header (as written) to an attribute name, to ``custom.<name>`` for a
    custom attribute, or to null / "" to ignore the column.
    """
    layout = Layout("users", len(header), header)
    by_norm = {norm(k): (v or None) for k, v in mapping.items()}
    unknown = []
    for i, h in enumerate(header):
        key = norm(h)
        if not key:
            continue
        target = by_norm[key] if key in by_norm else _default_target(key, h, custom)
        if target is None and key in by_norm:
            layout.warnings.append(f"Column {h!r} was ignored, as the column mapping asks.")
            continue
        if target is None:
            unknown.append(h)
        elif target == "email":
            layout.email_col = i
        elif target.startswith("custom."):
            layout.custom_cols[target[len("custom.") :]] = i
        elif target in STAGED_USER_FIELDS:
            layout.user_cols[target] = i
        else:
            raise InvalidInput(
                f"The column mapping sends {h!r} to {target!r}, which is not a user attribute.",
                details={
                    "column_mapping": [
                        f"{h}: must be one of email, {', '.join(STAGED_USER_FIELDS)}, "
                        "custom.<name>, or null to ignore the column."
                    ]
                },
            )
    if unknown:
        raise InvalidInput(
            f"Unknown column(s) {', '.join(repr(u) for u in unknown)}. Map each to a user attribute, to "
            "custom.<name>, or to null to ignore it, with column_mapping.",
            details={
                "file": [f"Unknown column {u!r}." for u in unknown],
                "column_mapping": [f"Known attributes: email, {', '.join(STAGED_USER_FIELDS)}."],
            },
        )
    if layout.email_col is None:
        raise file_error("The header has no 'email' column.", "users")
    return layout


def _default_target(key: str, header: str, custom: frozenset[str]) -> str | None:
    if key in EMAIL:
        return "email"
    if key in USER_FIELDS:
        return USER_FIELDS[key]
    for prefix in ("custom:", "custom."):
        if header.lower().startswith(prefix) and header[len(prefix) :].strip():
            return "custom." + header[len(prefix) :].strip()
    if key in {norm(c) for c in custom}:
        return "custom." + next(c for c in custom if norm(c) == key)
    return None
