"""/api/v1/groups/{id}/progress (the group progress report) and /api/v1/reports: runs and schedules."""

from __future__ import annotations

from flask import Response, stream_with_context
from marshmallow import Schema, fields, pre_dump, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    CsvQuery,
    OperationAccepted,
    QuerySchema,
    StrictSchema,
    TimeRangeQuery,
    id_field,
    page_response,
    page_schema,
    timestamp_field,
)
from provisioning import exports
from provisioning.models import REPORT_FREQUENCIES, REPORT_TYPES
from provisioning.reports import progress, runs

blp = Blueprint(
    "reports",
    __name__,
    description="Reports: group progress (figures, CSV and Excel), report runs (In progress and done) and "
    "schedules (Upcoming).",
)
require_admin(blp)


class CourseProgressSchema(Schema):
    course_id = fields.Integer()
    external_id = fields.String()
    title = fields.String()
    enrolled = fields.Integer(metadata={"description": "Members enrolled (not dropped)."})
    in_progress = fields.Integer()
    completed = fields.Integer()
    completion_rate = fields.Float(metadata={"description": "completed / enrolled, from 0 to 1."})
    last_activity = fields.DateTime(allow_none=True)


class GroupProgressSchema(Schema):
    group_id = fields.Integer()
    group_name = fields.String()
    members = fields.Integer()
    enrolled_members = fields.Integer(metadata={"description": "Members enrolled in at least one course."})
    completed_enrollments = fields.Integer()
    completion_rate = fields.Float(metadata={"description": "Completed enrollments / enrollments, from 0 to 1."})
    last_activity = fields.DateTime(allow_none=True)
    courses = fields.List(fields.Nested(CourseProgressSchema))


@blp.get("/groups/<int:group_id>/progress")
@blp.response(200, GroupProgressSchema)
def group_progress(group_id):
    """The group progress report: members, and per course enrolled, completed, completion rate and last activity."""
    return progress.group_progress(runtime(), tenant_id(), group_id)


@blp.get("/groups/<int:group_id>/progress.csv")
@blp.arguments(CsvQuery, location="query")
@blp.response(200, content_type="text/csv")
def group_progress_csv(query, group_id):
    """One row per member and course: status, completion date, last activity; ?bom=1 for Excel."""
    rt, t = runtime(), tenant_id()
    title = exports.group_title(rt, t, group_id)
    body = exports.csv_lines(progress.PROGRESS_HEADER, progress.progress_rows(rt, t, group_id), bom=query["bom"])
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": exports.attachment(title, "-progress.csv", f"group-{group_id}")},
    )


@blp.get("/groups/<int:group_id>/progress.xlsx")
@blp.response(200, content_type=exports.XLSX_MIMETYPE)
def group_progress_xlsx(group_id):
    """The same rows as an Excel workbook."""
    rt, t = runtime(), tenant_id()
    title = exports.group_title(rt, t, group_id)
    fh = exports.xlsx_file(progress.PROGRESS_HEADER, progress.progress_rows(rt, t, group_id), title=title)
    return Response(
        exports.file_chunks(fh),
        mimetype=exports.XLSX_MIMETYPE,
        headers={"Content-Disposition": exports.attachment(title, "-progress.xlsx", f"group-{group_id}")},
    )


class RunRequest(StrictSchema):
    report_type = fields.String(required=True, validate=validate.OneOf(REPORT_TYPES))
    group_id = id_field(required=True)
    recipients = fields.List(
        fields.String(validate=validate.Length(min=1, max=320)),
        load_default=list,
        metadata={"description": "Emails of managers or admins of the tenant to email the figures to."},
    )


class RunSchema(Schema):
    id = fields.Integer()
    report_type = fields.String()
    group_id = fields.Integer()
    schedule_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "queued and running are In progress."})
    rows = fields.Integer()
    result = fields.Dict(metadata={"description": "The figures (as GET /groups/{id}/progress) once computed."})
    requested_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)

    @pre_dump
    def _from_operation(self, op, **kwargs):
        params = op.params or {}
        return {
            "id": op.id,
            "report_type": params.get("report"),
            "group_id": params.get("group_id"),
            "schedule_id": params.get("schedule_id"),
            "status": op.status,
            "rows": op.progress_done,
            "result": op.result,
            "requested_by": op.requested_by,
            "created_at": op.created_at,
            "finished_at": op.finished_at,
        }


class RunQuery(TimeRangeQuery):
    report_type = fields.String(validate=validate.OneOf(REPORT_TYPES))
    status = fields.String(
        validate=validate.OneOf(runs.RUN_STATUSES),
        metadata={"description": "An operation status, or in_progress (queued or running)."},
    )
    group_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


RunPage = page_schema(RunSchema, "ReportRunPage")


@blp.post("/reports/runs")
@blp.arguments(RunRequest)
@blp.response(202, OperationAccepted)
def run_report(body):
    """Run a report now in the background; its figures and rows are on the run, and it is in GET /operations."""
    op = runs.request_report(
        runtime(), tenant_id(), body["report_type"], body["group_id"], actor(), recipients=body["recipients"]
    )
    return {"operation_id": op.id}


@blp.get("/reports/runs")
@blp.arguments(RunQuery, location="query")
@blp.response(200, RunPage)
def list_runs(args):
    """Report runs, newest first: filter by type, status (in_progress: queued or running), group and date."""
    return page_response(runs.list_runs(runtime(), tenant_id(), **args))


@blp.get("/reports/runs/<int:run_id>")
@blp.response(200, RunSchema)
def get_run(run_id):
    """One report run."""
    return runs.get_run(runtime(), tenant_id(), run_id)


@blp.get("/reports/runs/<int:run_id>/rows.csv")
@blp.response(200, content_type="text/csv")
def run_rows(run_id):
    """The rows of a finished run as CSV (409 while it is not done)."""
    body = runs.run_rows_csv(runtime(), tenant_id(), run_id)
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": exports.attachment(f"report-{run_id}", ".csv", "report")},
    )


class ScheduleRequest(StrictSchema):
    report_type = fields.String(required=True, validate=validate.OneOf(REPORT_TYPES))
    group_id = id_field(required=True)
    frequency = fields.String(required=True, validate=validate.OneOf(REPORT_FREQUENCIES))
    recipients = fields.List(
        fields.String(validate=validate.Length(min=1, max=320)),
        load_default=list,
        metadata={"description": "Emails of managers or admins of the tenant."},
    )
    first_run_at = timestamp_field(
        metadata={"description": "When it first runs (default: the start of the next day, week or month, UTC)."}
    )


class ScheduleSchema(Schema):
    id = fields.Integer()
    report_type = fields.String()
    group_id = fields.Integer()
    frequency = fields.String()
    recipients = fields.List(fields.String())
    enabled = fields.Boolean()
    next_run_at = fields.DateTime(metadata={"description": "When it runs next (Upcoming)."})
    last_run_at = fields.DateTime(allow_none=True)
    last_run_id = fields.Integer(attribute="last_operation_id", allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ScheduleList(Schema):
    items = fields.List(fields.Nested(ScheduleSchema))


class ScheduleQuery(QuerySchema):
    report_type = fields.String(validate=validate.OneOf(REPORT_TYPES))


@blp.post("/reports/schedules")
@blp.arguments(ScheduleRequest)
@blp.response(201, ScheduleSchema)
def create_schedule(body):
    """Schedule a report daily, weekly or monthly; the workers run it and email the recipients."""
    return runs.create_schedule(
        runtime(),
        tenant_id(),
        body["report_type"],
        body["group_id"],
        body["frequency"],
        body["recipients"],
        actor(),
        first_run_at=body.get("first_run_at"),
    )


@blp.get("/reports/schedules")
@blp.arguments(ScheduleQuery, location="query")
@blp.response(200, ScheduleList)
def list_schedules(args):
    """The Upcoming reports: every schedule with its next run time, the next first."""
    return {"items": runs.list_schedules(runtime(), tenant_id(), report_type=args.get("report_type"))}


@blp.delete("/reports/schedules/<int:schedule_id>")
@blp.response(204)
def delete_schedule(schedule_id):
    """Stop a schedule (its past runs stay)."""
    runs.delete_schedule(runtime(), tenant_id(), schedule_id, actor())
    return ""
