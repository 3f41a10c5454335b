"""Upload: choose a file, see the preview, fix it (drop rows, rename groups), commit, download the report.

Admins upload anything.  A group manager whose permission set has ``upload`` uploads files for
the groups they manage: the preview lists what they may not do (a group that is not theirs, a new
group without ``create_groups``, a file of users) and the commit is refused until it is fixed
(permissions.import_refusals).  A manager sees only the imports they started.
"""

from __future__ import annotations

from flask import Response, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _

from provisioning import permissions
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.exports import csv_lines
from provisioning.imports import edits, preview, report, scope, templates
from provisioning.imports.apply import commit_import
from provisioning.lti import launch as lti_launch
from provisioning.models.imports import IMPORT_FORMATS
from ui.batch import managed_group
from ui.blueprint import ID, bp, rule
from ui.guard import actor, form_int, principal, rt, translated, ui_url


def _uploader() -> int:
    if not permissions.can(rt(), principal(), "upload"):
        raise Forbidden(permissions.refusal("upload"))
    return principal().tenant_id


def _import(import_id: int) -> int:
    """The tenant id, if the principal may see this import: admins any, others those they started."""
    tenant_id = _uploader()
    if principal().role != "admin" and preview.get_import(rt(), tenant_id, import_id).created_by != actor().name:
        raise NotFound(f"No import with id {import_id}.")
    return tenant_id


@bp.route("/imports/new", methods=["GET", "POST"])
@rule("upload")
def upload():
    """The upload form; a POST parses the file into a preview without changing anything."""
    tenant_id = _uploader()
    raw_group = request.values.get("group_id") or ""
    target = managed_group(form_int(raw_group, "group_id"), "manage_group") if raw_group else None
    if request.method == "GET":
        return render_template("ui/upload.html", error=None, target=target, formats=IMPORT_FORMATS)
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template(
            "ui/upload.html", error=_("Choose a .csv, .txt or .xlsx file."), target=target, formats=IMPORT_FORMATS
        ), 400
    group_name = (request.form.get("group_name") or "").strip() or None
    options = preview.ImportOptions(
        group_id=target.id if target else None,
        group_name=None if target else group_name,
        mode="replace" if request.form.get("mode") == "replace" else "add",
    )
    try:
        imp = preview.create_import(
            rt(),
            tenant_id,
            file.stream,
            file.filename,
            options,
            actor(),
            users_within=permissions.import_users_within(principal()),
        )
    except InvalidInput as exc:
        return render_template(
            "ui/upload.html", error=exc.message, details=exc.details, target=target, formats=IMPORT_FORMATS
        ), 400
    return redirect(ui_url("ui.import_preview", import_id=imp.id))


@bp.get(f"/imports/<{ID}:import_id>")
@rule("use_import")
def import_preview(import_id: int):
    """The preview: detected format, groups new and existing, matched users, row errors."""
    tenant_id = _import(import_id)
    described = preview.describe_import(rt(), tenant_id, import_id, errors_per_page=200)
    # A manager sees the counts of their own groups only; the rows were scoped when the file was staged.
    described["groups"] = permissions.scoped_import_groups(rt(), principal(), described["groups"])
    refusals = permissions.import_refusals(rt(), principal(), import_id) if described["status"] == "previewed" else []
    return render_template("ui/import.html", imp=described, refusals=refusals)


@bp.post(f"/imports/<{ID}:import_id>/edit")
@rule("use_import")
def import_edit(import_id: int):
    """Drop the checked rows and rename groups, then show the preview again."""
    tenant_id = _import(import_id)
    changes: dict = {}
    rows = [form_int(v, "exclude_rows") for v in request.form.getlist("exclude_rows")]
    if rows:
        changes["exclude_rows"] = rows
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
    if changes:
        edits.update_import(rt(), tenant_id, import_id, changes, actor())
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
    if p.role == "manager":
        # New groups (create_groups) become groups of the manager's course before the job runs.
        for group_id in scope.create_new_groups(rt(), tenant_id, import_id, actor()):
            lti_launch.add_course_group(rt(), tenant_id, p.course_id, group_id)
    op = commit_import(rt(), tenant_id, import_id, actor())
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
