"""Report runs and schedules: the activity log's "In progress", "Upcoming" and done reports.

A run is an Operation of type ``report`` (so it is in the action log, filterable by type, status
and date): its first chunk stores the figures as the result, the next ones write the per-member
rows as CSV chunks (ExportChunk) to download, and the last emails the recipients.  A schedule
(daily, weekly or monthly, per tenant) is started by the workers' schedule when due
(:func:`start_due_reports`); the row lock makes two workers start it once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from sqlalchemy import Select, String, cast, delete, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.exports import csv_lines, csv_text
from provisioning.i18n import N_, Message, translate
from provisioning.identity_keys import identity_key
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import Rendered, greeting_name, recipient_language, render
from provisioning.models import (
    OPERATION_STATUSES,
    REPORT_FREQUENCIES,
    REPORT_TYPES,
    ExportChunk,
    Operation,
    ReportSchedule,
    Tenant,
    User,
    utcnow,
)
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.pagination import Page, paginate
from provisioning.reports.progress import PROGRESS_HEADER, group_progress, rows_chunk
from provisioning.runtime import Runtime
from provisioning.services.group_managers import manages_group
from provisioning.settings_catalog import stored
from provisioning.sql import json_text
from provisioning.store.groups import load_group
from provisioning.tenant_roles import role_of

OPERATION_TYPE = "report"
SCHEDULE_ACTOR = Actor("report schedule", "job")
MAX_RECIPIENTS = 20
IN_PROGRESS = ("queued", "running")
RUN_STATUSES = (*OPERATION_STATUSES, "in_progress")


# --- runs ----------------------------------------------------------------------------------------


def _check(report_type: str) -> None:
    if report_type not in REPORT_TYPES:
        raise InvalidInput(
            N_("Unknown report type %(report_type)r."),
            details={"report_type": [Message(N_("Must be one of %(choices)s."), choices=", ".join(REPORT_TYPES))]},
            report_type=report_type,
        )


def _may_receive(s: Session, tenant_id: int, role_key: str) -> bool:
    """Reports name members and their progress: they go to people whose tenant role sees members (an admin,
    a Manager, a Report viewer, a custom role with view_members)."""
    role = role_of(s, tenant_id, role_key)
    return role.is_admin or role.course_scoped or "view_members" in role.permissions


def _recipient_emails(s: Session, tenant_id: int, group_id: int, recipients: Sequence[str]) -> list[str]:
    """The recipients as stored (their emails), each a manager or admin of the tenant, or a manager of the
    group (its course's instructors, people assigned to it: the group-managers article has a manager schedule
    reports to themselves, whatever their tenant role); 400 naming the others."""
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidInput(
            N_("At most %(most)s recipients."),
            details={"recipients": [Message(N_("At most %(most)s."), most=MAX_RECIPIENTS)]},
            most=MAX_RECIPIENTS,
        )
    errors: dict[str, list[str]] = {}
    clean: list[str] = []
    for index, email in enumerate(recipients):
        user = s.scalar(
            select(User).where(User.tenant_id == tenant_id, User.email_key == identity_key(str(email or "")))
        )
        may = user is not None and (
            _may_receive(s, tenant_id, user.role) or manages_group(s, tenant_id, group_id, user.id)
        )
        if user is None or not may or user.status == "deactivated":
            errors[f"recipients.{index}"] = [
                Message(
                    N_(
                        "%(email)r is not an active manager of this group, administrator or report viewer of this tenant; reports go to them only."
                    ),
                    email=email,
                )
            ]
        elif user.email not in clean:
            clean.append(user.email or "")
    if errors:
        raise InvalidInput(N_("Some recipients can't receive reports; nothing was changed."), details=errors)
    return clean


def _start(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    report_type: str,
    group_id: int,
    actor: Actor,
    recipients: Sequence[str],
    schedule_id: int | None = None,
) -> Operation:
    params: dict[str, Any] = {"report": report_type, "group_id": group_id, "recipients": list(recipients)}
    if schedule_id is not None:
        params["schedule_id"] = schedule_id
    return start_operation(s, rt, tenant_id, OPERATION_TYPE, params, actor)


def request_report(
    rt: Runtime, tenant_id: int, report_type: str, group_id: int, actor: Actor, *, recipients: Sequence[str] = ()
) -> Operation:
    """Run a report now, in the background (its figures and CSV on the Operation; emailed to ``recipients``)."""
    _check(report_type)
    with rt.db.transaction() as s:
        load_group(s, tenant_id, group_id)
        emails = _recipient_emails(s, tenant_id, group_id, recipients)
        return _start(s, rt, tenant_id, report_type, group_id, actor, emails)


@dataclass
class ReportCheckpoint(Checkpoint):
    """Where a report run is: figures stored, the member after which rows go next, the next CSV chunk."""

    figured: bool = False
    after_user_id: int = 0
    seq: int = 0
    rows: int = 0


def _figures(progress: Any) -> dict[str, Any]:
    data = asdict(progress)
    for course in data["courses"]:
        course["last_activity"] = course["last_activity"].isoformat() if course["last_activity"] else None
    data["last_activity"] = data["last_activity"].isoformat() if data["last_activity"] else None
    return data


def report_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """One step of a report run (see the module docstring); None when done."""
    at = ReportCheckpoint.from_json(checkpoint)
    group_id = int(params["group_id"])
    if not at.figured:
        figures = _figures(group_progress(rt, tenant_id, group_id))
        with rt.db.transaction() as s:
            header = "".join(csv_lines(PROGRESS_HEADER, []))
            s.execute(
                insert_ignoring_conflicts(s, ExportChunk.__table__).values(
                    operation_id=operation_id, seq=0, tenant_id=tenant_id, content=header
                )
            )
            new = ReportCheckpoint(figured=True, seq=1)
            save_progress(
                s, operation_id, done=0, checkpoint=new.to_json(), result={"report": params["report"], **figures}
            )
        return new.to_json()
    rows, last = rows_chunk(rt, tenant_id, group_id, at.after_user_id)
    with rt.db.transaction() as s:
        op = s.get_one(Operation, operation_id)
        if last is None:
            _email_recipients(s, rt, tenant_id, op)
            save_progress(s, operation_id, done=at.rows, result={**op.result, "rows": at.rows})
            return None
        body = csv_text(rows)
        s.execute(
            insert_ignoring_conflicts(s, ExportChunk.__table__).values(
                operation_id=operation_id, seq=at.seq, tenant_id=tenant_id, content=body
            )
        )
        new = ReportCheckpoint(figured=True, after_user_id=last, seq=at.seq + 1, rows=at.rows + len(rows))
        save_progress(s, operation_id, done=new.rows, checkpoint=new.to_json())
    return new.to_json()


def _percent(rate: Any, language: str) -> str:
    """A rate as the language writes a percentage, with one decimal ("50.0%", "50,0 %")."""
    locale = Locale.parse(language)
    pattern = copy(locale.percent_formats[None])
    pattern.frac_prec = (1, 1)
    return pattern.apply(float(rate or 0), locale)


def _report_email(result: dict[str, Any], url: str, tenant_name: str, user: Any, language: str) -> Rendered:
    """The report's summary as an email in ``language``: its figures, each course's, the rows' link."""
    lines = [
        translate(language, "Group: %(group)s", group=result.get("group_name")),
        translate(
            language,
            "Members: %(members)s; enrolled in a course: %(enrolled)s",
            members=format_decimal(result.get("members") or 0, locale=language),
            enrolled=format_decimal(result.get("enrolled_members") or 0, locale=language),
        ),
        translate(language, "Completion rate: %(rate)s", rate=_percent(result.get("completion_rate"), language)),
        "",
        *(
            translate(
                language,
                "%(course)s: %(completed)s of %(enrolled)s completed (%(rate)s)",
                course=c["title"],
                completed=format_decimal(c["completed"], locale=language),
                enrolled=format_decimal(c["enrolled"], locale=language),
                rate=_percent(c["completion_rate"], language),
            )
            for c in result.get("courses") or []
        ),
        "",
        translate(language, "Download the rows: %(url)s", url=url),
    ]
    subject = translate(language, "Group progress report: %(group)s", group=result.get("group_name"))
    context = {"tenant_name": tenant_name, "name": greeting_name(user), "subject": subject, "body": "\n".join(lines)}
    return render("message", {**context, "sender": ""}, language=language)


def _email_recipients(s: Session, rt: Runtime, tenant_id: int, op: Operation) -> None:
    recipients = list((op.params or {}).get("recipients") or [])
    if not recipients:
        return
    tenant = s.get_one(Tenant, tenant_id)
    result = op.result or {}
    url = f"{rt.settings.public_base_url.rstrip('/')}/api/v1/reports/runs/{op.id}/rows.csv"
    default_language = stored(tenant.settings, "default_language")
    users = s.execute(
        select(User.id, User.email, User.given_name, User.display_name, User.username, User.language).where(
            User.tenant_id == tenant_id, User.email.in_(recipients), User.status != "deactivated"
        )
    ).all()
    queue_emails(
        s,
        rt,
        tenant_id,
        (
            (
                u.id,
                u.email,
                _report_email(result, url, tenant.name, u, recipient_language(u.language, default_language)),
            )
            for u in users
        ),
        "message",
        operation_id=op.id,
    )


def get_run(rt: Runtime, tenant_id: int, operation_id: int) -> Operation:
    with rt.db.read() as s:
        op = s.get(Operation, operation_id)
        if op is None or op.tenant_id != tenant_id or op.type != OPERATION_TYPE:
            raise NotFound(N_("No report run with id %(operation_id)s."), operation_id=operation_id)
        return op


def run_rows_csv(rt: Runtime, tenant_id: int, operation_id: int) -> Iterator[str]:
    """The CSV of a finished run, chunk by chunk (checks first, so a 404 or 409 comes before any byte)."""
    op = get_run(rt, tenant_id, operation_id)
    if op.status != "succeeded":
        raise Conflict(
            N_("The report run is %(status)s; its rows can be downloaded once it has succeeded."), status=op.status
        )
    with rt.db.read() as s:
        seqs = list(
            s.scalars(select(ExportChunk.seq).where(ExportChunk.operation_id == operation_id).order_by(ExportChunk.seq))
        )

    def chunks() -> Iterator[str]:
        for seq in seqs:
            with rt.db.read() as s:
                yield (
                    s.scalar(
                        select(ExportChunk.content).where(
                            ExportChunk.operation_id == operation_id, ExportChunk.seq == seq
                        )
                    )
                    or ""
                )

    return chunks()


def list_runs(
    rt: Runtime,
    tenant_id: int,
    *,
    report_type: str | None = None,
    status: str | None = None,
    group_id: int | None = None,
    within: Select | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Operation]:
    """Report runs, newest first; ``status`` "in_progress" is queued or running; ``within``: only the runs
    of the groups that SELECT of group ids gives (a manager's scope, permissions.group_scope), in the query so
    the page holds theirs however many others there are."""
    if report_type:
        _check(report_type)
    if status and status not in RUN_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(RUN_STATUSES))]},
            status=status,
        )
    stmt = select(Operation).where(Operation.tenant_id == tenant_id, Operation.type == OPERATION_TYPE)
    if report_type:
        stmt = stmt.where(json_text(Operation.params, "report") == report_type)
    if group_id is not None:
        stmt = stmt.where(json_text(Operation.params, "group_id") == str(group_id))
    if within is not None:
        scope = within.subquery()
        stmt = stmt.where(json_text(Operation.params, "group_id").in_(select(cast(list(scope.c)[0], String))))
    if status == "in_progress":
        stmt = stmt.where(Operation.status.in_(IN_PROGRESS))
    elif status:
        stmt = stmt.where(Operation.status == status)
    if since:
        stmt = stmt.where(Operation.created_at >= since)
    if until:
        stmt = stmt.where(Operation.created_at < until)
    with rt.db.read() as s:
        return paginate(s, stmt.order_by(Operation.created_at.desc(), Operation.id.desc()), page, per_page)


# --- schedules -----------------------------------------------------------------------------------


def next_after(frequency: str, moment: datetime) -> datetime:
    """The next start of a day, week (Monday) or month, UTC, strictly after ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == "daily":
        return day + timedelta(days=1)
    if frequency == "weekly":
        return day + timedelta(days=7 - day.weekday())
    if frequency == "monthly":
        days = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1) + timedelta(days=days)
    raise InvalidInput(
        N_("Unknown frequency %(frequency)r."),
        details={"frequency": [Message(N_("Must be one of %(choices)s."), choices=", ".join(REPORT_FREQUENCIES))]},
        frequency=frequency,
    )


def create_schedule(
    rt: Runtime,
    tenant_id: int,
    report_type: str,
    group_id: int,
    frequency: str,
    recipients: Sequence[str],
    actor: Actor,
    *,
    first_run_at: datetime | None = None,
) -> ReportSchedule:
    """Schedule a report; it first runs at ``first_run_at`` or at the start of the next period."""
    _check(report_type)
    now = utcnow()
    next_run = next_after(frequency, now)  # also checks the frequency
    if first_run_at is not None:
        next_run = first_run_at.astimezone(UTC)
    with rt.db.transaction() as s:
        load_group(s, tenant_id, group_id)
        emails = _recipient_emails(s, tenant_id, group_id, recipients)
        schedule = ReportSchedule(
            tenant_id=tenant_id,
            report_type=report_type,
            group_id=group_id,
            frequency=frequency,
            recipients=emails,
            enabled=True,
            next_run_at=next_run,
            created_by=actor.name,
            created_at=now,
        )
        s.add(schedule)
        s.flush()
        record(s, tenant_id, actor, "report.scheduled", "report_schedule", schedule.id, {"group_id": group_id})
        return schedule


def list_schedules(rt: Runtime, tenant_id: int, *, report_type: str | None = None) -> list[ReportSchedule]:
    """The tenant's schedules, the next to run first (the "Upcoming" reports)."""
    if report_type:
        _check(report_type)
    stmt = select(ReportSchedule).where(ReportSchedule.tenant_id == tenant_id)
    if report_type:
        stmt = stmt.where(ReportSchedule.report_type == report_type)
    with rt.db.read() as s:
        return list(
            s.scalars(stmt.order_by(ReportSchedule.enabled.desc(), ReportSchedule.next_run_at, ReportSchedule.id))
        )


def delete_schedule(rt: Runtime, tenant_id: int, schedule_id: int, actor: Actor) -> None:
    with rt.db.transaction() as s:
        gone = s.execute(
            delete(ReportSchedule)
            .where(ReportSchedule.tenant_id == tenant_id, ReportSchedule.id == schedule_id)
            .returning(ReportSchedule.id)
        ).first()
        if gone is None:
            raise NotFound(N_("No report schedule with id %(schedule_id)s."), schedule_id=schedule_id)
        record(s, tenant_id, actor, "report.unscheduled", "report_schedule", schedule_id, {})


def start_due_reports(rt: Runtime, now: datetime | None = None) -> list[int]:
    """Start a run of every schedule (all tenants) that is due, and move it to its next time; returns the runs.

    A schedule missed for several periods (no worker was up) runs once, then follows its period.
    """
    moment = now or utcnow()
    started: list[int] = []
    with rt.db.transaction() as s:
        due = select(ReportSchedule).where(ReportSchedule.enabled.is_(True), ReportSchedule.next_run_at <= moment)
        if s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        for schedule in s.scalars(due.order_by(ReportSchedule.next_run_at).limit(100)).all():
            op = _start(
                s,
                rt,
                schedule.tenant_id,
                schedule.report_type,
                schedule.group_id,
                SCHEDULE_ACTOR,
                schedule.recipients or [],
                schedule_id=schedule.id,
            )
            schedule.last_run_at = moment
            schedule.last_operation_id = op.id
            schedule.next_run_at = next_after(schedule.frequency, max(moment, schedule.next_run_at))
            started.append(op.id)
    return started
