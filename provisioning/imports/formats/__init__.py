"""Import formats behind one protocol: which format a header row is, and everything the pipeline asks of it.

Each format is an :class:`~provisioning.imports.formats.base.ImportFormat` in its own module
(members, user_groups, group_users, users, enrollments) declaring its name, template,
layout and header aliases, row validation, staged checks, preview and how a chunk is
applied.  :data:`FORMATS` is the registry the pipeline looks formats up in, in the order of
``IMPORT_FORMATS``.
"""

from __future__ import annotations

from typing import Any

from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.imports.formats.base import ImportFormat, NamedGroup
from provisioning.imports.formats.columns import Layout, duplicate_headers, file_error, norm
from provisioning.imports.formats.enrollments import EnrollmentsFormat
from provisioning.imports.formats.group_users import GroupUsersFormat
from provisioning.imports.formats.members import MembersFormat
from provisioning.imports.formats.user_groups import UserGroupsFormat
from provisioning.imports.formats.users import UsersFormat
from provisioning.imports.reading import leading_blanks
from provisioning.models.imports import IMPORT_FORMATS

__all__ = [
    "EXAMPLE_HEADERS",
    "FORMATS",
    "ImportFormat",
    "Layout",
    "NamedGroup",
    "detect_format",
    "file_error",
    "format_of",
    "header_matches",
    "layout_for",
    "mapped_header",
    "norm",
]

FORMATS: dict[str, ImportFormat] = {
    f.name: f for f in (MembersFormat(), UserGroupsFormat(), GroupUsersFormat(), UsersFormat(), EnrollmentsFormat())
}
assert tuple(FORMATS) == IMPORT_FORMATS, "the registry lists the formats the Import model accepts, in their order"

EXAMPLE_HEADERS = {name: list(f.example_header) for name, f in FORMATS.items()}
_DETECTION = sorted(FORMATS.values(), key=lambda f: f.detect_priority)


def format_of(imp: Any) -> ImportFormat:
    """The format of an Import (or of anything with a ``format`` name)."""
    return FORMATS[imp.format]


# What a column mapping may send a column to in the formats other than users (which maps to any user attribute,
# formats/users.py): the header name the format knows the column by.
MAPPED_HEADERS = {
    "email": "email",
    "given_name": "first_name",
    "family_name": "last_name",
    "group": "groupname",
    "user_id": "user_id",
    "course": "course_id",
    "role": "role",
    "status": "status",
    "completed_at": "completed_at",
}


def mapped_header(fmt: str, header: list[str], mapping: dict[str, Any] | None) -> list[str]:
    """The header as the format reads it once ``mapping`` ({"Header as written": target | None}) is applied.

    The users format applies the mapping itself (to any user attribute); for the others a mapped
    column takes the name the format knows (MAPPED_HEADERS) and an ignored one (None or "") is left
    unread.  A file whose header names no known column ("E-Mail Adresse;Vorname") is read this way.
    """
    if not mapping or fmt == "users":
        return header
    by_norm = {norm(k): (v or None) for k, v in mapping.items()}
    out = []
    for h in header:
        key = norm(h)
        if key not in by_norm:
            out.append(h)
            continue
        target = by_norm[key]
        if target is not None and target not in MAPPED_HEADERS:
            raise InvalidInput(
                N_("The column mapping sends %(column)r to %(target)r, which this kind of file does not take."),
                details={
                    "column_mapping": [
                        Message(
                            N_("%(column)s: must be one of %(choices)s, or null to ignore the column."),
                            column=h,
                            choices=", ".join(MAPPED_HEADERS),
                        )
                    ]
                },
                column=h,
                target=target,
            )
        out.append(MAPPED_HEADERS[target] if target else "")
    return out


def detect_format(header: list[str], *, has_group_target: bool, mapping: dict[str, Any] | None = None) -> str:
    """Name the format a header row is written in: the first format, by detection priority, that reads it
    (with ``mapping`` applied, as the formats other than users read it)."""
    keys = [norm(h) for h in mapped_header("auto", header, mapping)]
    for fmt in _DETECTION:
        if fmt.detects(keys, has_group_target=has_group_target):
            return fmt.name
    raise file_error(
        N_(
            "The header row does not name an email column, so the file's format can't be recognised. Use one of the "
            "templates: a member list (email_address), user-based groups (email, FirstName, LastName, Groupname, ...), "
            "group-based groups (Groupname, Email, ...) users (email, username, first_name, last_name, ...) or "
            "enrollments (email | user_id, course_id, role, status, completed_at)."
        )
    )


def layout_for(
    fmt: str, header: list[str], *, mapping: dict[str, Any] | None = None, custom_names: frozenset[str] = frozenset()
) -> Layout:
    """Map the header's columns for ``fmt``; a missing or unknown required header is a file-level error."""
    if fmt not in FORMATS:
        raise InvalidInput(
            N_("Unknown format %(fmt)r."),
            details={"format": [Message(N_("Must be one of auto, %(choices)s."), choices=", ".join(IMPORT_FORMATS))]},
            fmt=fmt,
        )
    format_ = FORMATS[fmt]
    written, header = header, mapped_header(fmt, header, mapping)
    if not any(header):
        raise format_.file_error(N_("The first row is empty; it must be the header row."))
    duplicates = duplicate_headers(header, allowed=set(format_.repeatable_headers))
    if duplicates:
        raise format_.file_error(
            Message(N_("The header repeats the column(s) %(columns)s."), columns=", ".join(repr(d) for d in duplicates))
        )
    layout = format_.layout(header, mapping or {}, custom_names)
    layout.header = list(written)  # errors and the preview name the columns as the file writes them
    return layout


def header_matches(
    cells: list[str],
    *,
    fmt: str = "auto",
    has_group_target: bool = False,
    mapping: dict[str, Any] | None = None,
    custom_names: frozenset[str] = frozenset(),
) -> bool:
    """Whether a row is a header row of ``fmt`` (or, for "auto", of the format detected from it):
    the format recognises it and lays it out without a file-level error.  What the reader looks
    for among a file's first rows and sheets (a title, blank rows or an instructions sheet come first)."""
    header = list(cells[leading_blanks(cells) :])  # as the reader keeps it: no empty columns before or after
    while header and not header[-1]:
        header.pop()
    try:
        name = detect_format(header, has_group_target=has_group_target, mapping=mapping) if fmt == "auto" else fmt
        layout_for(name, header, mapping=mapping, custom_names=custom_names)
    except InvalidInput:
        return False
    return True
