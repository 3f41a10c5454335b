"""Map your headers: when an upload's header row isn't one we know (or when asked), say what each column holds.

The page lists the file's columns (the header as written and a few sample values) with a choice per column of
the fields the chosen kind of file takes, in words; the choices become the ``column_mapping`` the admin API takes
(provisioning.imports.formats.mapped_header, formats/users.py) and the preview runs again with it.  The file
travels back with the form (base64 in a hidden field), so nothing is kept between the two steps.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import permissions
from provisioning.errors import Forbidden, InvalidInput
from provisioning.imports import preview
from provisioning.imports.formats.columns import EMAIL, FIRST_NAME, GROUP_NAME, LAST_NAME, USER_FIELDS, norm
from provisioning.imports.reading import read_table
from ui.batch import managed_group
from ui.blueprint import bp, rule
from ui.guard import actor, form_int, principal, rt, translated, ui_url
from ui.upload_kinds import kinds_for, people_error

SAMPLES = 3
IGNORE = ""

# What a column may be used as, per format the kind of file is read as: (the core's target, the words shown).
_PERSON = [
    ("email", lazy_gettext("Email address")),
    ("given_name", lazy_gettext("First name")),
    ("family_name", lazy_gettext("Last name")),
]
FIELDS: dict[str, list[tuple[str, Any]]] = {
    "members": _PERSON,
    "auto": [*_PERSON, ("group", lazy_gettext("Group"))],
    "users": [
        *_PERSON,
        ("username", lazy_gettext("Username")),
        ("display_name", lazy_gettext("Display name")),
        ("role", lazy_gettext("Role")),
        ("language", lazy_gettext("Language")),
        ("department", lazy_gettext("Department")),
        ("title", lazy_gettext("Job title")),
        ("organization", lazy_gettext("Organisation")),
        ("division", lazy_gettext("Division")),
        ("cost_center", lazy_gettext("Cost centre")),
        ("employee_number", lazy_gettext("Employee number")),
        ("external_id", lazy_gettext("External ID")),
        ("user_type", lazy_gettext("Type of user")),
        ("timezone", lazy_gettext("Time zone")),
    ],
    "enrollments": [
        ("email", lazy_gettext("Email address")),
        ("user_id", lazy_gettext("User number")),
        ("course", lazy_gettext("Course")),
        ("role", lazy_gettext("Role in the course")),
        ("status", lazy_gettext("Status")),
        ("completed_at", lazy_gettext("Completion date")),
    ],
}
# Fields a file may give in several columns (the user-based format lists a person's groups side by side).
REPEATABLE = {"group"}


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    samples: list[str]
    chosen: str


def _guess(fmt: str, header: str) -> str:
    """The field a header we know already names (preselected), else ignore."""
    key = norm(header)
    offered = {target for target, _words in FIELDS[fmt]}
    for names, target in ((EMAIL, "email"), (FIRST_NAME, "given_name"), (LAST_NAME, "family_name")):
        if key in names:
            return target
    if key in GROUP_NAME and "group" in offered:
        return "group"
    target = USER_FIELDS.get(key, key)
    return target if target in offered else IGNORE


def file_columns(data: bytes, filename: str, fmt: str) -> list[Column]:
    """The file's columns: header as written (its first filled row) and the first few values below it."""
    table = read_table(io.BytesIO(data), filename, max_rows=rt().settings.import_max_rows, is_header=lambda c: True)
    samples: list[list[str]] = [[] for _h in table.header]
    for n, (_row, cells) in enumerate(table.rows):
        if n >= SAMPLES:
            break
        for i, value in enumerate(cells[: len(samples)]):
            if value:
                samples[i].append(value)
    return [Column(i, h, samples[i], _guess(fmt, h)) for i, h in enumerate(table.header)]


def columns_page(
    *, kind: str, fmt: str, data: bytes, filename: str, options: dict[str, str], status: int = 200, **values: Any
):
    """The mapping step for a file already read (``options``: the upload form's other choices, sent again)."""
    try:
        columns = file_columns(data, filename, fmt)
    except InvalidInput as exc:
        values.setdefault("error", translated(exc.message))
        columns = []
    chosen = values.pop("chosen", None) or {}
    if chosen:
        columns = [Column(c.index, c.header, c.samples, chosen.get(c.index, IGNORE)) for c in columns]
    return (
        render_template(
            "ui/import_columns.html",
            kind=kind,
            fields=FIELDS[fmt],
            columns=columns,
            file_data=base64.b64encode(data).decode("ascii"),
            filename=filename,
            options=options,
            error=values.get("error"),
            problems=values.get("problems", []),
        ),
        status,
    )


def chosen_mapping(fmt: str, header: list[str], form: Any) -> tuple[dict[str, str | None], dict[int, str], list[str]]:
    """The column mapping the form's choices make, the choices by column, and what is wrong with them (in words)."""
    offered = dict(FIELDS[fmt])
    mapping: dict[str, str | None] = {}
    chosen: dict[int, str] = {}
    problems: list[str] = []
    used: dict[str, str] = {}
    for i, h in enumerate(header):
        value = form.get(f"column-{i}", IGNORE)
        if value != IGNORE and value not in offered:
            problems.append(_("Column “%(column)s”: choose one of the fields in its list.", column=h))
            value = IGNORE
        chosen[i] = value
        if value and value in used and value not in REPEATABLE:
            problems.append(
                _(
                    "Columns “%(first)s” and “%(second)s” are both used as “%(field)s”; choose one of them.",
                    first=used[value],
                    second=h,
                    field=str(offered[value]),
                )
            )
        used.setdefault(value, h)
        if h:
            mapping[h] = value or None
    if "email" not in used and not (fmt == "enrollments" and "user_id" in used):
        problems.insert(0, _("Choose which column holds the email address."))
    if fmt == "auto" and "group" not in used:
        problems.append(_("Choose which column holds the group."))
    if fmt == "enrollments" and "course" not in used:
        problems.append(_("Choose which column holds the course."))
    return mapping, chosen, problems


@bp.post("/imports/columns")
@rule("upload")
def import_columns():
    """Run the preview again with the columns mapped as chosen; the page again, with what's missing, if not."""
    if not permissions.can(rt(), principal(), "upload"):
        raise Forbidden(permissions.refusal("upload"))
    kind_key = request.form.get("kind") or ""
    kind = kinds_for(principal()).get(kind_key)
    if kind is None:
        raise InvalidInput(_("Choose what the file is from the list."), details={})
    try:
        data = base64.b64decode(request.form.get("file_data") or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    filename = (request.form.get("filename") or "file.csv")[:400]
    if not data:
        raise InvalidInput(_("The file was not sent again; upload it once more."), details={})
    options = {k: request.form.get(k) or "" for k in ("group_id", "group_name", "mode")}
    page = {"kind": kind_key, "fmt": kind.format, "data": data, "filename": filename, "options": options}
    try:
        header = [c.header for c in file_columns(data, filename, kind.format)]
    except InvalidInput as exc:
        return columns_page(**page, status=400, error=translated(exc.message))
    mapping, chosen, problems = chosen_mapping(kind.format, header, request.form)
    if problems:
        return columns_page(**page, status=400, error=problems[0], problems=problems[1:], chosen=chosen)
    group_id = form_int(options["group_id"], "group_id") if options["group_id"] else None
    if group_id is not None:
        group_id = managed_group(group_id, "manage_group").id
    group_name = options["group_name"].strip() or None
    import_options = preview.ImportOptions(
        format=kind.format,
        group_id=group_id if kind.into_group else None,
        group_name=group_name if kind.into_group and group_id is None else None,
        mode="replace" if options["mode"] == "replace" and kind.format in ("members", "auto") else "add",
        column_mapping=mapping,
    )
    try:
        imp = preview.create_import(
            rt(),
            principal().tenant_id,
            io.BytesIO(data),
            filename,
            import_options,
            actor(),
            users_within=permissions.import_users_within(principal()),
        )
    except InvalidInput as exc:
        error, listed = people_error(exc)
        return columns_page(**page, status=400, error=error, problems=listed, chosen=chosen)
    return redirect(ui_url("ui.import_preview", import_id=imp.id))
