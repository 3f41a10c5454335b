"""Reports: a group's progress (members' courses, completion per course), run now or on a schedule, and the
runs in progress, done and upcoming (user-group-managers article, "Reports Center" and "Activity Log")."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import exports, permissions
from provisioning.errors import InvalidInput
from provisioning.models import REPORT_FREQUENCIES
from provisioning.reports import progress
from provisioning.reports import runs as report_runs
from ui.blueprint import ID, bp, rule
from ui.guard import actor, principal, rt, ui_url
from ui.logs import day_filter, group_filter, log_filters
from ui.results import state as progress_state

REPORT = "group_progress"
TYPE_WORDS = {REPORT: lazy_gettext("Group progress")}  # every type of provisioning.models.REPORT_TYPES
STATUS_WORDS = {
    "enrolled": lazy_gettext("Enrolled"),
    "in_progress": lazy_gettext("In progress"),
    "completed": lazy_gettext("Completed"),
    "dropped": lazy_gettext("Dropped"),
}
MEMBER_ROWS = 200  # the member rows the page shows; the CSV and Excel downloads hold every one
FREQUENCY_WORDS = {
    "daily": lazy_gettext("Every day"),
    "weekly": lazy_gettext("Every week"),
    "monthly": lazy_gettext("Every month"),
}


def _recipients(raw: str) -> list[str]:
    return [e.strip() for e in raw.replace(";", ",").split(",") if e.strip()]


def _people_error(exc: InvalidInput) -> InvalidInput:
    """The core's refusal of recipients, without its field paths ("recipients.0")."""
    problems = [m for msgs in (exc.details or {}).values() for m in msgs]
    return InvalidInput(exc.message, details={str(_("Send it to")): problems} if problems else {})


@bp.get("/reports")
@rule("view_activity")
def reports():
    """The reports of the groups the person sees: in progress, upcoming (schedules) and done; open a group's."""
    args = log_filters("group", "type", "since", "until")
    chosen = group_filter(args["group"])
    if chosen is not None:
        return redirect(ui_url("ui.group_report", group_id=chosen))
    if args["type"] and args["type"] not in TYPE_WORDS:
        raise InvalidInput(_("Choose the type of report from the list."), details={"type": [_("Not a report type.")]})
    # A manager's runs are chosen in the query (their groups); the dates filter the runs, the type both lists.
    page = report_runs.list_runs(
        rt(),
        principal().tenant_id,
        report_type=args["type"] or None,
        within=permissions.group_scope(principal()),
        since=day_filter("since"),
        until=day_filter("until", end=True),
        per_page=100,
    )
    every = report_runs.list_schedules(rt(), principal().tenant_id, report_type=args["type"] or None)
    named = {(op.params or {}).get("group_id") for op in page.items} | {s.group_id for s in every}
    # The names of the reports' groups the person may see (one query, however many groups the tenant has).
    visible = permissions.names_in_scope(rt(), principal(), set(), {g for g in named if isinstance(g, int)}).groups
    mine = [op for op in page.items if (op.params or {}).get("group_id") in visible]
    schedules = [s for s in every if s.group_id in visible]
    return render_template(
        "ui/reports.html",
        args=args,
        types=TYPE_WORDS,
        names=visible,
        in_progress=[op for op in mine if op.status in ("queued", "running")],
        done=[op for op in mine if op.status not in ("queued", "running")][:50],
        schedules=schedules,
        frequencies=FREQUENCY_WORDS,
        state=progress_state,
    )


@bp.get(f"/groups/<{ID}:group_id>/report")
@rule("view_members")
def group_report(group_id: int):
    """A group's progress: members, enrolment and completion per course; its runs and schedules."""
    figures = progress.group_progress(rt(), principal().tenant_id, group_id)
    rows, _after = progress.rows_chunk(rt(), principal().tenant_id, group_id, 0)  # the first members' rows
    runs = report_runs.list_runs(rt(), principal().tenant_id, report_type=REPORT, group_id=group_id, per_page=20)
    schedules = [
        s for s in report_runs.list_schedules(rt(), principal().tenant_id, report_type=REPORT) if s.group_id == group_id
    ]
    return render_template(
        "ui/group_report.html",
        figures=figures,
        member_rows=rows[:MEMBER_ROWS],
        more_rows=len(rows) > MEMBER_ROWS or figures.members > progress.CHUNK,
        status_words=STATUS_WORDS,
        runs=runs.items,
        schedules=schedules,
        frequencies=FREQUENCY_WORDS,
        state=progress_state,
        may_export=permissions.can(rt(), principal(), "export"),
    )


@bp.get(f"/groups/<{ID}:group_id>/report.<any(csv, xlsx):extension>")
@rule("export")
def group_report_file(group_id: int, extension: str):
    """One row per member and course (status, completion date, last activity), as CSV or Excel."""
    tenant_id = principal().tenant_id
    title = exports.group_title(rt(), tenant_id, group_id)
    rows = progress.progress_rows(rt(), tenant_id, group_id)
    disposition = {"Content-Disposition": exports.attachment(title, f"-progress.{extension}", f"group-{group_id}")}
    if extension == "csv":
        body = exports.csv_lines(progress.PROGRESS_HEADER, rows, bom=True)
        return Response(stream_with_context(body), mimetype="text/csv", headers=disposition)
    fh = exports.xlsx_file(progress.PROGRESS_HEADER, rows, title=title)
    return Response(exports.file_chunks(fh), mimetype=exports.XLSX_MIMETYPE, headers=disposition)


@bp.post(f"/groups/<{ID}:group_id>/report/run")
@rule("view_members")
def group_report_run(group_id: int):
    """Run the report now, in the background; its progress page, then back to the group's report."""
    try:
        op = report_runs.request_report(
            rt(),
            principal().tenant_id,
            REPORT,
            group_id,
            actor(),
            recipients=_recipients(request.form.get("recipients") or ""),
        )
    except InvalidInput as exc:
        raise _people_error(exc) from exc
    back = ui_url("ui.group_report", group_id=group_id)
    return redirect(ui_url("ui.operation", operation_id=op.id, back=back))


@bp.post(f"/groups/<{ID}:group_id>/report/schedule")
@rule("view_members")
def group_report_schedule(group_id: int):
    """Schedule the report every day, week or month, emailed to managers or administrators."""
    frequency = request.form.get("frequency") or ""
    if frequency not in REPORT_FREQUENCIES:
        raise InvalidInput(_("Choose how often from the list."), details={})
    try:
        report_runs.create_schedule(
            rt(),
            principal().tenant_id,
            REPORT,
            group_id,
            frequency,
            _recipients(request.form.get("recipients") or ""),
            actor(),
        )
    except InvalidInput as exc:
        raise _people_error(exc) from exc
    return redirect(ui_url("ui.group_report", group_id=group_id))
