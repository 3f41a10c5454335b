"""What an upload is, in words (the kinds of file the upload page offers), and the core's refusals of a file
worded for people: shared by the upload page (ui/imports.py) and its column mapping step (ui/import_columns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning.errors import InvalidInput
from ui.guard import translated


@dataclass(frozen=True)
class UploadKind:
    """What a file is, in words: the format the core reads it as, whether it goes into one chosen group,
    the templates to start from, and whether only administrators may upload it."""

    label: Any
    hint: Any
    format: str
    templates: tuple[str, ...]
    into_group: bool = False
    admin_only: bool = False


KINDS: dict[str, UploadKind] = {
    "groups": UploadKind(
        lazy_gettext("Members of several groups"),
        lazy_gettext(
            "Each row names a group: user-based (a person, then their groups) or group-based (a group, then its "
            "people). Groups that don't exist yet are created; the people must already have an account."
        ),
        "auto",
        ("user-groups", "group-users"),
    ),
    "group": UploadKind(
        lazy_gettext("Members of one group"),
        lazy_gettext(
            "A list of emails for the group you choose: add them, or make the file its whole member list. On an "
            "automatic group they become members who are always included, whatever its rule says."
        ),
        "members",
        ("members",),
        into_group=True,
    ),
    "bulk_add": UploadKind(
        lazy_gettext("Bulk add new members to one group, with invitations"),
        lazy_gettext(
            "Username and email are required. People who have no account yet get one and an invitation email "
            "(in their language); everyone is added to the group you choose."
        ),
        "users",
        ("bulk-add-members",),
        into_group=True,
        admin_only=True,
    ),
    "users": UploadKind(
        lazy_gettext("People (create or update accounts)"),
        lazy_gettext(
            "One row per person: new emails become accounts waiting for an invitation (none is sent; a bulk add "
            "into a group sends them), known ones are updated."
        ),
        "users",
        ("users",),
        admin_only=True,
    ),
    "enrollments": UploadKind(
        lazy_gettext("Course enrollments"),
        lazy_gettext("One row per person and course, with the role, the status and the completion date."),
        "enrollments",
        ("enrollments",),
        admin_only=True,
    ),
}
TEMPLATE_NAMES = {
    "user-groups": lazy_gettext("User-based (a person and their groups)"),
    "group-users": lazy_gettext("Group-based (a group and its people)"),
    "members": lazy_gettext("Member list (emails)"),
    "bulk-add-members": lazy_gettext("Bulk add members (username, email, names, language, department)"),
    "users": lazy_gettext("People"),
    "enrollments": lazy_gettext("Enrollments"),
}
ACCEPTED = (".csv", ".txt", ".xlsx")
# How the core's field names read on the upload page.
FIELD_WORDS = {
    "file": lazy_gettext("The file"),
    "group_id": lazy_gettext("Group"),
    "group_name": lazy_gettext("New group's name"),
    "mode": lazy_gettext("Replace"),
    "format": lazy_gettext("What the file is"),
    "column_mapping": lazy_gettext("Columns"),
    "exclude_rows": lazy_gettext("Rows to leave out"),
    "exclude_emails": lazy_gettext("People to leave out"),
    "exclude_members": lazy_gettext("People to leave out"),
    "rename_groups": lazy_gettext("New group names"),
}


def kinds_for(p: Any) -> dict[str, UploadKind]:
    """The kinds of file this person may upload."""
    admin = p.role == "admin"
    return {k: v for k, v in KINDS.items() if admin or not v.admin_only}


def people_error(exc: InvalidInput) -> tuple[str, list[str]]:
    """The core's refusal of a file worded for people: one message, and the details without API field names."""
    details = exc.details or {}
    if exc.message.startswith("The file is not a text file"):
        return _(
            "This file can't be read as a spreadsheet. Save it as CSV (UTF-8), TXT or Excel (.xlsx) and upload it "
            "again."
        ), []
    if "column_mapping" in details:
        unknown = [m for m in details.get("file", [])]
        return (
            _(
                "The file has columns this kind of upload doesn't know. Use the column names of the template "
                "(download it below), or delete the columns you don't need."
            ),
            unknown,
        )
    # The admin API's words name its fields (group_id); the page names what the person chooses.
    ui_words = UI_WORDS.get(exc.template)
    message = ui_words(**exc.values) if ui_words else translated(exc.message)
    listed = []
    for field_name, messages in details.items():
        label = FIELD_WORDS.get(field_name, field_name)
        listed += [
            _("%(field)s: %(problem)s", field=label, problem=translated(m))
            for m in messages
            if "_id" not in m and "format=" not in m
        ]
    return message, listed


# A refusal worded for the admin API (by its template, provisioning/imports/formats), as the upload page says it.
UI_WORDS = {
    "A member list goes into a group: give group_id (an existing group) or group_name (a new one).": lambda: _(
        "A member list goes into a group: choose a group, or give a new group's name."
    ),
    "A group named %(name)r already exists; import into it with its group_id.": lambda name: _(
        "A group named %(name)s already exists; choose it in the group list instead.", name=repr(name)
    ),
    "A users file goes into an existing group: create the group first and give its group_id.": lambda: _(
        "A users file goes into an existing group: create the group first, then choose it in the group list."
    ),
}
