"""Operations (progress, Stop, the action log), the activity log, and the learner's own page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import Response, jsonify, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _

from provisioning import activity, activity_words, operations, permissions
from provisioning.batch import actions as batch_actions
from provisioning.batch.registry import ACTIONS, check_action
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.mail import outbox
from provisioning.models import EMAIL_STATUSES, OPERATION_STATUSES, OPERATION_TYPES
from provisioning.services import certificates, groups, notifications, tasks
from provisioning.services import signin_links as ui_links
from ui.batch_words import result_sentence
from ui.blueprint import ID, bp, rule
from ui.groups import page_number
from ui.guard import actor, principal, rt, translated, ui_url

FINISHED = ("succeeded", "failed", "cancelled")
# Where a batch action's job has got to (for resuming it); nothing a reader of the result needs.
BOOKKEEPING = ("done_ranges", "done_through_user_id")
UI_ACTOR = re.compile(r"ui:user-(\d+)")


@dataclass(frozen=True)
class Mention:
    """A person or group as a log shows it: the name, and its page when the viewer may open it."""

    text: str
    href: str | None = None


def action_words(action: str) -> str:
    """A batch action in words, e.g. "Reactivate users"."""
    label = translated(ACTIONS[action].label)
    return _("%(action)s users", action=label) if " " not in label else _("%(action)s (users)", action=label)


def operation_words(op) -> str:
    action = (op.params or {}).get("action")
    if op.type == "batch_action" and action in ACTIONS:
        return action_words(action)
    return translated(OPERATION_TYPES.get(op.type, op.type.replace("_", " ").capitalize()))


def _actor_id(name: str | None) -> int | None:
    match = UI_ACTOR.fullmatch(name or "")
    return int(match[1]) if match else None


def _object_id(kind: str | None, object_type: str | None, object_id: str | None) -> int | None:
    return int(object_id) if object_type == kind and (object_id or "").isdigit() else None


class Mentions:
    """The names a page of log rows mentions, resolved at once (one query per kind) within the viewer's scope."""

    def __init__(self, actors: list[str | None], objects: list[tuple[str | None, str | None]]):
        users = {i for i in map(_actor_id, actors) if i is not None}
        users |= {i for t, o in objects if (i := _object_id("user", t, o)) is not None}
        groups = {i for t, o in objects if (i := _object_id("group", t, o)) is not None}
        self.names = permissions.names_in_scope(rt(), principal(), users, groups)

    def actor(self, name: str | None) -> Mention:
        uid = _actor_id(name)
        if uid is None:
            return Mention(name or "")
        return self._user(uid) or Mention("someone outside your groups")

    def object(self, object_type: str | None, object_id: str | None) -> Mention:
        if (uid := _object_id("user", object_type, object_id)) is not None:
            return self._user(uid) or Mention("a person outside your groups")
        if (gid := _object_id("group", object_type, object_id)) is not None:
            if gid in self.names.groups:
                return Mention(self.names.groups[gid], ui_url("ui.group", group_id=gid))
            return Mention("a group outside your groups")
        if (oid := _object_id("operation", object_type, object_id)) is not None:
            return Mention("its progress", ui_url("ui.operation", operation_id=oid))
        # Never an internal id as text: the kind of object in words.
        return Mention((object_type or "").replace("_", " "))

    def _user(self, uid: int) -> Mention | None:
        if uid not in self.names.users:
            return None
        return Mention(self.names.users[uid], ui_url("ui.person", user_id=uid))


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
        "result": _readable(op.result or {}),
        "sentence": result_sentence(op),
        "errors": (op.errors or [])[:20],
        "export_url": ui_url("ui.operation_export", operation_id=op.id) if is_finished_export(op) else None,
    }


def is_finished_export(op) -> bool:
    return op.status == "succeeded" and (op.params or {}).get("action") == "export_csv"


def _readable(result: dict) -> dict:
    """The result without the job's bookkeeping, its batch action in words."""
    shown = {k: v for k, v in result.items() if k not in BOOKKEEPING}
    if shown.get("action") in ACTIONS:
        shown["action"] = action_words(shown["action"])
    return shown


@bp.get(f"/operations/<{ID}:operation_id>")
@rule("follow_operation")
def operation(operation_id: int):
    op = _operation(operation_id)
    return render_template(
        "ui/operation.html",
        op=op,
        words=operation_words,
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
        raise InvalidInput(
            _("Enter the date as YYYY-MM-DD, e.g. 2026-03-31."), details={name: [_("Must be YYYY-MM-DD.")]}
        ) from None
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
    """The action log: operations, filtered by type, bulk action, status and date."""
    args = _filters("type", "action", "status", "since", "until")
    page = operations.list_operations(
        rt(),
        principal().tenant_id,
        type=args["type"] or None,
        action=check_action(args["action"]) if args["action"] else None,
        status=args["status"] or None,
        since=_day("since"),
        until=_day("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.operation_scope(principal(), actor().name),
    )
    return render_template(
        "ui/logs.html",
        page=page,
        args=args,
        progress=progress,
        words=operation_words,
        mentions=Mentions([op.requested_by for op in page.items], []),
        types=OPERATION_TYPES,
        actions={name: action_words(name) for name in ACTIONS},
        statuses=OPERATION_STATUSES,
    )


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
    mentions = Mentions([e.actor for e in page.items], [(e.object_type, e.object_id) for e in page.items])
    return render_template(
        "ui/activity.html",
        page=page,
        args=args,
        mentions=mentions,
        event_words=activity_words.event_words,
        event_choices=activity_words.EVENT_WORDS,
    )


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
