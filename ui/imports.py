"""Upload: choose a file, see the preview, fix it (drop rows, rename groups), commit, download the report.

Admins upload anything.  A group manager whose permission set has ``upload`` uploads files for
the groups they manage: the preview lists what they may not do (a group that is not theirs, a new
group without ``create_groups``, a file of users) and the commit is refused until it is fixed
(permissions.import_refusals).  A manager sees only the imports they started.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

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
from ui.import_columns import columns_page
from ui.pickers import picked_group
from ui.upload_kinds import ACCEPTED, FIELD_WORDS, TEMPLATE_NAMES, kinds_for, people_error


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


def _upload_page(status: int = 200, **values):
    values.setdefault("error", None)
    values.setdefault("problems", [])
    values.setdefault("chosen", request.values.get("kind") or "")
    return (
        render_template(
            "ui/upload.html",
            kinds=kinds_for(principal()),
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
    kinds = kinds_for(principal())
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
    data = file.stream.read()
    # The mapping step (ui/import_columns.py) gets the upload's choices and the file back with its form.
    again = {
        "kind": chosen,
        "fmt": kind.format,
        "data": data,
        "filename": file.filename,
        "options": {
            "group_id": str(options.group_id or ""),
            "group_name": options.group_name or "",
            "mode": options.mode,
        },
    }
    if request.form.get("map_columns"):
        return columns_page(**again)
    try:
        imp = preview.create_import(
            rt(),
            principal().tenant_id,
            io.BytesIO(data),
            file.filename,
            options,
            actor(),
            users_within=permissions.import_users_within(principal()),
        )
    except InvalidInput as exc:
        error, problems = people_error(exc)
        if _header_problem(exc):
            return columns_page(
                **again,
                status=400,
                error=_("Some columns of this file have names we don't know. Say what each column holds."),
                problems=[error, *problems],
            )
        return _upload_page(400, target=target, error=error, problems=problems)
    return redirect(ui_url("ui.import_preview", import_id=imp.id))


# Refusals of a file's header that naming its columns doesn't fix (provisioning/imports/reading.py, preview.py).
UNNAMEABLE = ("no data rows", "the file has no header row", "sheet is empty", "utf-8")


def _header_problem(exc: InvalidInput) -> bool:
    """Whether the core refused the file for its header row (columns it doesn't know, no email column): what
    naming the columns fixes.  Not an unreadable file, nor a file without data rows."""
    details = exc.details or {}
    if "column_mapping" in details:
        return True
    message = str(exc.message).lower()
    named = "header" in message or "column" in message
    return "file" in details and named and not any(w in message for w in UNNAMEABLE)


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
