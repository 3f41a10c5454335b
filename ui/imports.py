"""Upload: choose a file, see the preview, fix it (drop rows, rename groups), commit, download the report.

Admins upload anything.  A group manager whose permission set has ``upload`` uploads files for
the groups they manage: the preview lists what they may not do (a group that is not theirs, a new
group without ``create_groups``, a file of users) and the commit is refused until it is fixed
(permissions.import_refusals).  A manager sees only the imports they started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import Response, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import permissions
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.exports import csv_lines
from provisioning.i18n import N_
from provisioning.imports import edits, group_people, preview, report, scope, templates
from provisioning.imports import people as people_list
from provisioning.imports.apply import commit_import
from provisioning.lti import launch as lti_launch
from ui import results
from ui.batch import managed_group
from ui.blueprint import ID, bp, rule
from ui.guard import actor, form_int, principal, rt, translated, ui_url
from ui.pickers import picked_group


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
        lazy_gettext("One row per person: new emails become invited accounts, known ones are updated."),
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


def _uploader() -> int:
    if not permissions.can(rt(), principal(), "upload"):
        raise Forbidden(permissions.refusal("upload"))
    return principal().tenant_id


def _import(import_id: int) -> int:
    """The tenant id, if the principal may see this import: admins any, others those they started."""
    tenant_id = _uploader()
    if principal().role != "admin" and preview.get_import(rt(), tenant_id, import_id).created_by != actor().name:
        raise NotFound(N_("No import with id %(import_id)s."), import_id=import_id)
    return tenant_id


def _kinds() -> dict[str, UploadKind]:
    """The kinds of file this person may upload."""
    admin = principal().role == "admin"
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


def _upload_page(status: int = 200, **values):
    values.setdefault("error", None)
    values.setdefault("problems", [])
    values.setdefault("chosen", request.values.get("kind") or "")
    return (
        render_template(
            "ui/upload.html",
            kinds=_kinds(),
            template_names=TEMPLATE_NAMES,
            **values,
        ),
        status,
    )


@bp.route("/imports/new", methods=["GET", "POST"])
@rule("upload")
def upload():
    """The upload form (what the file is, in words, with its templates); a POST reads the file into a
    preview without changing anything."""
    _uploader()
    if request.method == "GET":
        raw_group = request.values.get("group_id") or ""
        return _upload_page(
            target=managed_group(form_int(raw_group, "group_id"), "manage_group") if raw_group else None
        )
    try:
        picked = picked_group(request.form, "group_id", label=_("Into the group"))
    except InvalidInput as exc:
        return _upload_page(400, target=None, error=exc.message)
    target = managed_group(picked, "manage_group") if picked else None
    kinds = _kinds()
    chosen = request.form.get("kind") or ("group" if target else "groups")
    kind = kinds.get(chosen)
    if kind is None:
        return _upload_page(400, target=target, error=_("Choose what the file is from the list."))
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(400, target=target, error=_("Choose a file to upload: CSV, TXT or Excel (.xlsx)."))
    if not file.filename.lower().endswith(ACCEPTED):
        ext = file.filename.rpartition(".")[2] if "." in file.filename else ""
        return _upload_page(
            400,
            target=target,
            error=_(
                "“%(file)s” is not a spreadsheet (%(ext)s). Upload a CSV, TXT or Excel (.xlsx) file; the templates "
                "below show the columns.",
                file=file.filename,
                ext=ext.upper() or _("no file type"),
            ),
        )
    group_name = (request.form.get("group_name") or "").strip() or None
    if kind.into_group and target is None and not (group_name and kind.format == "members"):
        return _upload_page(
            400,
            target=target,
            error=_("Choose the group the file goes into.")
            if kind.format != "members"
            else _("Choose the group the file goes into, or give the name of a new group."),
        )
    options = preview.ImportOptions(
        format=kind.format,
        group_id=target.id if target and kind.into_group else None,
        group_name=group_name if kind.into_group and not target else None,
        mode="replace" if request.form.get("mode") == "replace" and kind.format in ("members", "auto") else "add",
    )
    try:
        imp = preview.create_import(
            rt(),
            principal().tenant_id,
            file.stream,
            file.filename,
            options,
            actor(),
            users_within=permissions.import_users_within(principal()),
        )
    except InvalidInput as exc:
        error, problems = people_error(exc)
        return _upload_page(400, target=target, error=error, problems=problems)
    return redirect(ui_url("ui.import_preview", import_id=imp.id))


FORMAT_WORDS = {
    "members": lazy_gettext("Members of one group"),
    "user-groups": lazy_gettext("User-based: each row is a person and their groups"),
    "group-users": lazy_gettext("Group-based: each row is a group and its people"),
    "users": lazy_gettext("People (accounts)"),
    "enrollments": lazy_gettext("Course enrollments"),
}
IMPORT_STATUS_WORDS = {
    "previewed": lazy_gettext("Preview: nothing has changed yet"),
    "committed": lazy_gettext("Committed: being applied"),
    "applied": lazy_gettext("Applied"),
    "cancelled": lazy_gettext("Stopped"),
    "failed": lazy_gettext("Failed"),
}


@bp.get(f"/imports/<{ID}:import_id>")
@rule("use_import")
def import_preview(import_id: int):
    """The preview: what the file is, the sheet and header row read, each group with who joins, stays and
    leaves (expandable lists), the rows with errors; edits (leave out rows or people, rename) and Commit."""
    tenant_id = _import(import_id)
    described = preview.describe_import(rt(), tenant_id, import_id, errors_per_page=200)
    # A manager sees the counts of their own groups only; the rows were scoped when the file was staged.
    described["groups"] = permissions.scoped_import_groups(rt(), principal(), described["groups"])
    refusals = permissions.import_refusals(rt(), principal(), import_id) if described["status"] == "previewed" else []
    # Who joins, stays and leaves: a forecast, so only while nothing has changed yet.
    shown = [g for g in described["groups"] if g.get("new") is not None][:PEOPLE_GROUPS]
    people = (
        group_people.group_people(rt(), tenant_id, import_id, shown, limit=PEOPLE_PER_LIST)
        if described["status"] == "previewed"
        else []
    )
    new_people = existing_people = None
    if described["format"] == "users" and described["status"] == "previewed":
        # A users file (bulk add when it goes into a group): who gets an account and an invitation, who exists.
        new_people = people_list.list_people(rt(), tenant_id, import_id, kind="new", per_page=PEOPLE_PER_LIST)
        existing_people = people_list.list_people(rt(), tenant_id, import_id, kind="existing", per_page=PEOPLE_PER_LIST)
    run = None
    if described["result"]:
        # The run's own figures (imports/outcome.py), in the words of the progress page.
        ran = SimpleNamespace(
            type="import", status=described["result"]["status"], result=described["result"], params={}
        )
        run = {"sentence": results.sentence(ran, described), "facts": results.facts(ran, described)}
    return render_template(
        "ui/import.html",
        imp=described,
        run=run,
        refusals=refusals,
        people={(p.name, p.group_id): p for p in people},
        new_people=new_people,
        existing_people=existing_people,
        person_item=people_list.person_item,
        format_words=FORMAT_WORDS,
        status_words=IMPORT_STATUS_WORDS,
    )


PEOPLE_GROUPS = 50  # groups whose people the preview lists (the counts cover every group)
PEOPLE_PER_LIST = 100


@bp.post(f"/imports/<{ID}:import_id>/edit")
@rule("use_import")
def import_edit(import_id: int):
    """Leave out the checked rows and people, rename groups, then show the preview again."""
    tenant_id = _import(import_id)
    changes: dict = {}
    rows = [form_int(v, "exclude_rows") for v in request.form.getlist("exclude_rows")]
    typed = (request.form.get("exclude_row_numbers") or "").replace(";", ",").replace(" ", ",")
    for part in (p for p in typed.split(",") if p.strip()):
        if not part.strip().isdigit():
            raise InvalidInput(
                _("Rows to leave out: “%(value)s” is not a row number.", value=part.strip()),
                details={str(FIELD_WORDS["exclude_rows"]): [_("Row numbers, separated by commas.")]},
            )
        rows.append(int(part))
    if rows:
        changes["exclude_rows"] = rows
    members = []
    for raw in request.form.getlist("exclude_member"):
        try:
            member = json.loads(raw)
        except ValueError:
            member = None
        if not isinstance(member, dict):
            raise InvalidInput(_("A person to leave out was not understood; open the preview again."), details={})
        members.append({"group": str(member.get("group") or ""), "email": str(member.get("email") or "")})
    if members:
        changes["exclude_members"] = members
    renames = {
        old: (request.form.get(f"rename-{n}") or "").strip()
        for n, old in enumerate(request.form.getlist("group_names"))
    }
    emails = [e.strip() for e in (request.form.get("exclude_emails") or "").replace(";", ",").split(",") if e.strip()]
    if emails:
        changes["exclude_emails"] = emails
    renames = {old: new for old, new in renames.items() if new and new != old}
    if renames:
        changes["rename_groups"] = renames
        # The renames apply first: a person left out in the same step is named by the group's new name.
        lowered = {old.lower(): new for old, new in renames.items()}
        for member in changes.get("exclude_members", []):
            member["group"] = lowered.get(member["group"].lower(), member["group"])
    if changes:
        try:
            edits.update_import(rt(), tenant_id, import_id, changes, actor())
        except InvalidInput as exc:
            message, problems = people_error(exc)
            raise InvalidInput(message, details={str(_("Details")): problems} if problems else {}) from exc
    return redirect(ui_url("ui.import_preview", import_id=import_id))


@bp.post(f"/imports/<{ID}:import_id>/commit")
@rule("use_import")
def import_commit(import_id: int):
    tenant_id, p = _import(import_id), principal()
    refusals = permissions.import_refusals(rt(), p, import_id)
    if refusals:
        raise Forbidden(
            _("This upload can't be committed: %(reasons)s", reasons=" ".join(translated(r) for r in refusals))
        )
    if p.role == "manager" and not permissions.wide(p, "create_groups"):
        # New groups (create_groups) become groups of the manager's course before the job runs.
        for group_id in scope.create_new_groups(rt(), tenant_id, import_id, actor()):
            lti_launch.add_course_group(rt(), tenant_id, p.course_id, group_id)
    try:
        op = commit_import(rt(), tenant_id, import_id, actor())
    except InvalidInput as exc:
        if "join_url" in (exc.details or {}):
            raise InvalidInput(
                _(
                    "This upload creates new people and emails each an invitation, but the invitation link "
                    "(the join address) is not set yet. An administrator sets it in the settings; nothing was changed."
                ),
                details={},
            ) from exc
        message, problems = people_error(exc)
        raise InvalidInput(message, details={str(_("Details")): problems} if problems else {}) from exc
    return redirect(ui_url("ui.operation", operation_id=op.id, import_id=import_id))


@bp.get(f"/imports/<{ID}:import_id>/report.csv")
@rule("use_import")
def import_report(import_id: int):
    rows = report.report_rows(rt(), _import(import_id), import_id)
    first = next(rows, None)  # the tenant check runs before the response starts

    def all_rows():
        if first is not None:
            yield first
        yield from rows

    return Response(
        stream_with_context(csv_lines(report.HEADER, all_rows())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'},
    )


@bp.get("/imports/templates/<string:filename>")
@rule("upload")
def import_template(filename: str):
    """A template file of a format (members, user-groups, group-users, users), .csv or .xlsx."""
    _uploader()
    name, _, extension = filename.rpartition(".")
    content, mimetype = templates.template(name, extension)
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}-template.{extension}"'},
    )
