"""Operations (progress, Stop, the action log), the activity log, and the learner's own page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Response, jsonify, redirect, render_template, request, stream_with_context

from provisioning import activity, operations, permissions
from provisioning.batch import actions as batch_actions
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.mail import outbox
from provisioning.models import EMAIL_STATUSES
from provisioning.services import certificates, groups, notifications, tasks
from provisioning.services import signin_links as ui_links
from ui.blueprint import ID, bp, rule
from ui.groups import page_number
from ui.guard import actor, principal, rt, ui_url

FINISHED = ("succeeded", "failed", "cancelled")


def _operation(operation_id: int):
    """The operation, if the principal is an admin or started it; another's is a 404, like another tenant's."""
    op = operations.get_operation(rt(), principal().tenant_id, operation_id)
    if not permissions.can_see_operation(rt(), principal(), op, actor().name):
        raise NotFound(f"No operation with id {operation_id}.")
    return op


def progress(op) -> dict:
    total = op.progress_total
    percent = 100 if op.status == "succeeded" else (min(100, round(100 * op.progress_done / total)) if total else 0)
    return {
        "id": op.id,
        "type": op.type,
        "status": op.status,
        "done": op.progress_done,
        "total": total,
        "percent": percent,
        "finished": op.status in FINISHED,
        "cancel_requested": op.cancel_requested,
        "result": op.result or {},
        "errors": (op.errors or [])[:20],
        "export_url": ui_url("ui.operation_export", operation_id=op.id) if is_finished_export(op) else None,
    }


def is_finished_export(op) -> bool:
    return op.status == "succeeded" and (op.params or {}).get("action") == "export_csv"


@bp.get(f"/operations/<{ID}:operation_id>")
@rule("follow_operation")
def operation(operation_id: int):
    op = _operation(operation_id)
    return render_template(
        "ui/operation.html",
        op=op,
        state=progress(op),
        import_id=request.args.get("import_id"),
        back=request.args.get("back") if (request.args.get("back") or "").startswith("/ui/") else None,
    )


@bp.get(f"/operations/<{ID}:operation_id>.json")
@rule("follow_operation")
def operation_json(operation_id: int):
    """What the progress bar polls."""
    return jsonify(progress(_operation(operation_id)))


@bp.get(f"/operations/<{ID}:operation_id>/export.csv")
@rule("follow_operation")
def operation_export(operation_id: int):
    """The CSV of a finished "Export as CSV" batch action, for whoever may see the operation (its page's rule)."""
    _operation(operation_id)
    lines = batch_actions.export_lines(rt(), principal().tenant_id, operation_id)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="users-export-{operation_id}.csv"'},
    )


@bp.post(f"/operations/<{ID}:operation_id>/stop")
@rule("follow_operation")
def operation_stop(operation_id: int):
    _operation(operation_id)
    op = operations.cancel_operation(rt(), principal().tenant_id, operation_id, actor())
    if request.headers.get("X-CSRF-Token"):
        return jsonify(progress(op))
    return redirect(ui_url("ui.operation", operation_id=operation_id))


def _day(name: str, end: bool = False) -> datetime | None:
    raw = request.args.get(name) or ""
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD).", details={name: ["Must be YYYY-MM-DD."]}) from None
    # "until" includes its whole day: the services compare with < until.
    return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)


def _filters(*names: str) -> dict:
    """The log filters of the query string.  Admins see the tenant's logs; managers whose permission set
    has view_activity see their scope's (permissions.*_scope); nobody else sees logs."""
    if principal().role != "admin" and not permissions.can(rt(), principal(), "view_activity"):
        raise Forbidden(permissions.refusal("view_activity"))
    return {k: request.args.get(k) or "" for k in names}


@bp.get("/logs")
@rule("view_activity")
def logs():
    """The action log: operations, filtered by type, status and date."""
    args = _filters("type", "status", "since", "until")
    page = operations.list_operations(
        rt(),
        principal().tenant_id,
        type=args["type"] or None,
        status=args["status"] or None,
        since=_day("since"),
        until=_day("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.operation_scope(principal(), actor().name),
    )
    return render_template("ui/logs.html", page=page, args=args, progress=progress)


@bp.get("/activity")
@rule("view_activity")
def activity_log():
    """The activity log: who did what, through which channel."""
    args = _filters("action", "channel", "since", "until")
    page = activity.list_events(
        rt(),
        principal().tenant_id,
        action=args["action"] or None,
        channel=args["channel"] or None,
        since=_day("since"),
        until=_day("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.activity_scope(principal(), actor().name),
    )
    return render_template("ui/activity.html", page=page, args=args)


@bp.get("/emails")
@rule("view_activity")
def email_log():
    """The email log: what was sent, queued or failed, and why."""
    args = _filters("status", "to", "since", "until")
    page = outbox.list_emails(
        rt(),
        principal().tenant_id,
        status=args["status"] or None,
        to=args["to"] or None,
        since=_day("since"),
        until=_day("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.email_scope(principal(), actor().name),
    )
    return render_template("ui/emails.html", page=page, args=args, statuses=EMAIL_STATUSES)


@bp.get("/me")
@rule("view_own")
def learner():
    """My groups, tasks, certificates and notifications."""
    p = principal()
    if p.user_id == ui_links.OWNER_USER_ID:
        return render_template("ui/learner.html", owner=True)
    mine = groups.list_groups(
        rt(),
        p.tenant_id,
        per_page=100,
        within=permissions.group_scope(permissions.Principal(p.tenant_id, p.user_id, "learner")),
    )
    return render_template(
        "ui/learner.html",
        owner=False,
        groups=mine.items,
        tasks=tasks.list_tasks(rt(), p.tenant_id, p.user_id, per_page=100).items,
        certificates=certificates.list_certificates(rt(), p.tenant_id, p.user_id).items,
        notifications=notifications.list_notifications(rt(), p.tenant_id, p.user_id).items,
    )
