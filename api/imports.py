"""/api/v1/imports: preview a CSV/TXT/XLSX file, fix the preview, commit it as a job, download the report."""

from __future__ import annotations

import json

from flask import Response, stream_with_context
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    CsvQuery,
    OperationAccepted,
    PageQuery,
    StrictSchema,
    page_schema,
)
from provisioning.exports import csv_lines
from provisioning.imports import edits, people, preview, report, templates
from provisioning.imports.apply import commit_import
from provisioning.models.imports import IMPORT_FORMATS, IMPORT_MODES

blp = Blueprint("imports", __name__, description="CSV and Excel imports: preview, edit, commit, report.")
require_admin(blp)


class ImportForm(Schema):
    format = fields.String(load_default="auto", validate=validate.OneOf(("auto", *IMPORT_FORMATS)))
    group_id = fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={
            "description": "members format: the existing group to import into. users format: bulk add -- the new "
            "people are created as invited and emailed an invitation, and everyone is added to this group. An "
            "automatic group takes the file's people as always-included members (its rule's include list)."
        },
    )
    group_name = fields.String(
        validate=validate.Length(min=1, max=400),
        metadata={"description": "members format: the name of a new group to create."},
    )
    mode = fields.String(load_default="add", validate=validate.OneOf(IMPORT_MODES))
    all_or_nothing = fields.Boolean(load_default=False)
    column_mapping = fields.String(
        metadata={
            "description": 'JSON: {"Header as written": target | null (ignore the column)}. The users format takes '
            'any user attribute or "custom.<name>"; the others email, given_name, family_name, group (user- and '
            "group-based files), user_id, course, role, status, completed_at (enrollments). With format=auto the "
            "format is detected from the mapped header."
        }
    )

    class Meta:
        unknown = "exclude"

    @validates("column_mapping")
    def _json_object(self, value, **kwargs):
        try:
            mapping = json.loads(value)
        except ValueError as exc:
            raise ValidationError(f"Must be a JSON object: {exc}.") from exc
        if not isinstance(mapping, dict) or not all(v is None or isinstance(v, str) for v in mapping.values()):
            raise ValidationError("Must be a JSON object of header -> attribute name (or null).")


class ImportFile(Schema):
    file = Upload(required=True, metadata={"description": "The .csv, .txt or .xlsx file."})


class GroupPreview(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String()
    new = fields.Boolean(metadata={"description": "The preview would create this group."})
    members_before = fields.Integer(metadata={"description": "Members when the file was previewed."})
    members_after = fields.Integer(
        metadata={
            "description": "Before the commit: the preview's forecast. Once committed (running, stopped, failed or "
            "applied): the members the group has now, the run's own figure; the forecast is preview_members_after."
        }
    )
    preview_members_after = fields.Integer(
        allow_none=True, metadata={"description": "Once committed: the preview's forecast of members_after."}
    )
    listed = fields.Integer(metadata={"description": "Members the file lists for this group (preview)."})
    automatic = fields.Boolean(metadata={"description": "An automatic group: the people join its include list."})
    included_before = fields.Integer(metadata={"description": "Automatic group: always-included people now."})
    included_after = fields.Integer(metadata={"description": "Automatic group: always-included people after."})


class ImportResult(Schema):
    operation_id = fields.Integer()
    status = fields.String(metadata={"description": "The Operation's status: queued, running, succeeded, ..."})
    stopped = fields.Boolean(metadata={"description": "Stopped by an admin before the last row."})
    rows_done = fields.Integer()
    rows_total = fields.Integer()
    applied = fields.Integer()
    skipped = fields.Integer()
    errors = fields.Integer()
    removed = fields.Integer()
    groups_created = fields.Integer()
    users_created = fields.Integer()
    users_updated = fields.Integer()
    members_added = fields.Integer(metadata={"description": "Import into one group: members it added."})
    invited = fields.Integer(metadata={"description": "Bulk add: invitation emails queued, one per user created."})
    included = fields.Integer(metadata={"description": "Automatic group: people added to its include list."})


class RowError(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    message = fields.String()
    email = fields.String(allow_none=True)
    group = fields.String(allow_none=True)


class ImportSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    format = fields.String()
    encoding = fields.String(allow_none=True)
    delimiter = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    mode = fields.String()
    all_or_nothing = fields.Boolean()
    group_id = fields.Integer(allow_none=True)
    group_name = fields.String(allow_none=True)
    rows = fields.Integer()
    entries = fields.Integer()
    groups = fields.List(fields.Nested(GroupPreview))
    groups_total = fields.Integer()
    users_matched = fields.Integer()
    users_new = fields.Integer(allow_none=True)
    names_changing = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Membership files: how many existing people's first or last name the file changes "
            "(blank cells keep the current name; a group manager's upload changes no name)."
        },
    )
    error_count = fields.Integer()
    error_rows = fields.Integer()
    excluded = fields.Integer()
    errors = fields.List(fields.Nested(RowError), metadata={"description": "The first page; see /errors."})
    warnings = fields.List(fields.String())
    sheet = fields.String(allow_none=True, metadata={"description": "XLSX: the worksheet the rows were read from."})
    header_row = fields.Integer(
        metadata={"description": "The row holding the header (rows above it, blank or a title, are not read)."}
    )
    operation_id = fields.Integer(allow_none=True)
    result = fields.Nested(
        ImportResult,
        allow_none=True,
        metadata={
            "description": "Once committed: what the run did (its Operation's counters). The other figures "
            "(rows, users_matched, error_count, ...) are the preview's."
        },
    )
    created_at = fields.DateTime()


class ExcludedMember(StrictSchema):
    group = fields.String(required=True)
    email = fields.String(required=True)


class ImportEdit(StrictSchema):
    rename_groups = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1, max=400)))
    exclude_rows = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)), validate=validate.Length(max=100_000)
    )
    exclude_emails = fields.List(
        fields.String(validate=validate.Length(max=320)), validate=validate.Length(max=100_000)
    )
    exclude_members = fields.List(fields.Nested(ExcludedMember), validate=validate.Length(max=100_000))


class PersonSchema(Schema):
    row = fields.Integer()
    email = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    new = fields.Boolean(metadata={"description": "No user has this email: the commit creates and invites them."})
    user_status = fields.String(allow_none=True)
    already_member = fields.Boolean()


class PeopleQuery(PageQuery):
    kind = fields.String(load_default="all", validate=validate.OneOf(people.KINDS))


ErrorPage = page_schema(RowError, "ImportErrorPage")
PersonPage = page_schema(PersonSchema, "ImportPersonPage")
ImportPage = page_schema(ImportSchema, "ImportPage")


@blp.post("/imports")
@blp.arguments(ImportForm, location="form")
@blp.arguments(ImportFile, location="files")
@blp.response(201, ImportSchema)
def create_import(form, files):
    """Parse and validate a file without changing anything; answers the preview."""
    options = preview.ImportOptions(
        format=form["format"],
        group_id=form.get("group_id"),
        group_name=form.get("group_name"),
        mode=form["mode"],
        all_or_nothing=form["all_or_nothing"],
        column_mapping=json.loads(form.get("column_mapping") or "{}"),
    )
    upload = files["file"]
    imp = preview.create_import(runtime(), tenant_id(), upload.stream, upload.filename, options, actor())
    return preview.describe_import(runtime(), tenant_id(), imp.id)


@blp.get("/imports")
@blp.arguments(PageQuery, location="query")
@blp.response(200, ImportPage)
def list_imports(args):
    """The tenant's imports, newest first (each with its stored preview)."""
    page = preview.list_imports(runtime(), tenant_id(), page=args["page"], per_page=args["per_page"])
    items = [preview.describe_import(runtime(), tenant_id(), i.id, errors_per_page=0) for i in page.items]
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.get("/imports/<int:import_id>")
@blp.response(200, ImportSchema)
def get_import(import_id):
    """The preview again (and the import's status once committed)."""
    return preview.describe_import(runtime(), tenant_id(), import_id)


@blp.patch("/imports/<int:import_id>")
@blp.arguments(ImportEdit)
@blp.response(200, ImportSchema)
def edit_import(body, import_id):
    """Fix the preview before commit: rename groups, exclude rows, emails or single members."""
    edits.update_import(runtime(), tenant_id(), import_id, body, actor())
    return preview.describe_import(runtime(), tenant_id(), import_id)


@blp.get("/imports/<int:import_id>/errors")
@blp.arguments(PageQuery, location="query")
@blp.response(200, ErrorPage)
def list_errors(args, import_id):
    """Every row error, in file order, a page at a time."""
    page = preview.list_errors(runtime(), tenant_id(), import_id, page=args["page"], per_page=args["per_page"])
    return {
        "items": [preview.error_item(r) for r in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


@blp.get("/imports/<int:import_id>/people")
@blp.arguments(PeopleQuery, location="query")
@blp.response(200, PersonPage)
def list_people(args, import_id):
    """The people the import names, in file order: new (created and invited on commit) or existing."""
    page = people.list_people(
        runtime(), tenant_id(), import_id, kind=args["kind"], page=args["page"], per_page=args["per_page"]
    )
    return {
        "items": [people.person_item(r) for r in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


@blp.post("/imports/<int:import_id>/commit")
@blp.response(202, OperationAccepted)
def commit(import_id):
    """Apply the previewed import as a background Operation (type "import")."""
    op = commit_import(runtime(), tenant_id(), import_id, actor())
    return {"operation_id": op.id}


@blp.get("/imports/<int:import_id>/report.csv")
@blp.arguments(CsvQuery, location="query")
@blp.response(200, content_type="text/csv")
def download_report(query, import_id):
    """What happened to each row: applied, skipped or error, with a message."""
    rows = report.report_rows(runtime(), tenant_id(), import_id)
    first = next(rows, None)  # runs the tenant check before the response starts
    body = csv_lines(report.HEADER, _prepend(first, rows), bom=query["bom"])
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'},
    )


def _prepend(first, rest):
    if first is not None:
        yield first
    yield from rest


@blp.get("/imports/templates/<string:filename>")
@blp.response(200, content_type="application/octet-stream")
def download_template(filename):
    """The template of a format (members, user-groups, group-users, users, enrollments) or bulk-add-members;
    .csv or .xlsx."""
    name, _, extension = filename.rpartition(".")
    content, mimetype = templates.template(name, extension)
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}-template.{extension}"'},
    )
