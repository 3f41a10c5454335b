"""The header vocabulary every import format shares, and where a row's values are (:class:`Layout`).

Header names are matched ignoring case, spaces, underscores, hyphens and dots, so
"Email", "email_address", "E-mail" and "First name" / "FirstName" / "first_name" all match.
Columns are addressed by position, never by a dict of names: the user-based and
group-based formats repeat their Groupname / Email columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message

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


def file_error(message: str, example: Sequence[str] | None = None) -> InvalidInput:
    """A file-level error; ``example`` is the header row of the format the file was taken for."""
    if example:
        message = Message(
            N_("%(reason)s Expected a header row like: %(header)s."), reason=message, header=",".join(example)
        )
    return InvalidInput(message, details={"file": [message]})


def duplicate_headers(header: list[str], allowed: set[str]) -> list[str]:
    seen: set[str] = set()
    dups = []
    for h in header:
        key = norm(h)
        if key and key in seen and key not in allowed:
            dups.append(h)
        seen.add(key)
    return dups


def person_column(layout: Layout, key: str, i: int) -> bool:
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


def default_target(key: str, header: str, custom: frozenset[str]) -> str | None:
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
