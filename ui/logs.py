"""Operations (progress, Stop, the action log), the activity log, and the learner's own page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from flask import Response, jsonify, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import activity, operations, permissions
from provisioning.activity_words import ACTION_WORDS, CHANNEL_WORDS, action_sentence
from provisioning.batch import actions as batch_actions
from provisioning.batch.registry import ACTIONS, check_action
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.exports import csv_lines
from provisioning.imports import outcome, preview
from provisioning.mail import outbox, stencils
from provisioning.mail.triggers import KINDS as TRIGGER_KINDS
from provisioning.models import EMAIL_STATUSES, OPERATION_STATUSES, OPERATION_TYPES
from provisioning.services import certificates, groups, notifications, tasks
from provisioning.services import signin_links as ui_links
from ui.batch import managed_group
from ui.batch_words import result_sentence
from ui.blueprint import ID, bp, rule
from ui.groups import page_number
from ui.guard import actor, form_int, principal, rt, ui_url
from ui.mentions import Mentions, channel_choices, channel_words
from ui.pickers import picked_group
from ui.results import STATUS_WORDS, action_words, operation_words
from ui.results import state as progress_state

FINISHED = ("succeeded", "failed", "cancelled")
# Where a batch action's job has got to (for resuming it); nothing a reader of the result needs.
BOOKKEEPING = ("done_ranges", "done_through_user_id")


def event_words(event) -> str:
    """The event's action as a sentence in the reader's language (provisioning.activity_words)."""
    sentence = action_sentence(event.action, event.details)
    return _(sentence.text, **{k: _(v) for k, v in sentence.values.items()})


def _operation(operation_id: int):
    """The operation, if the principal is an admin or started it; another's is a 404, like another tenant's."""
    op = operations.get_operation(rt(), principal().tenant_id, operation_id)
    if not permissions.can_see_operation(rt(), principal(), op, actor().name):
        raise NotFound(_("There is no such action, or it is not yours to see."))
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


def _import_of(op) -> dict | None:
    """An import's preview (for its rows left out and its report), when the operation applies one."""
    import_id = (op.params or {}).get("import_id") if op.type == "import" else None
    if not isinstance(import_id, int):
        return None
    try:
        return preview.describe_import(rt(), principal().tenant_id, import_id, errors_per_page=1)
    except NotFound:
        return None


def _progress_context(op) -> dict:
    imp = _import_of(op)
    back = request.args.get("back") or ""
    return {
        "op": op,
        "words": operation_words,
        "state": progress_state(op, imp),
        "import_id": imp["id"] if imp else None,
        "export_url": ui_url("ui.operation_export", operation_id=op.id) if is_finished_export(op) else None,
        "back": back if back.startswith("/ui/") else None,
    }


@bp.get(f"/operations/<{ID}:operation_id>")
@rule("follow_operation")
def operation(operation_id: int):
    """Progress (a bar, counts, time left, Stop) and, once finished, the result in words."""
    op = _operation(operation_id)
    return render_template(
        "ui/operation.html", by=Mentions([op.requested_by]).actor(op.requested_by), **_progress_context(op)
    )


@bp.get(f"/operations/<{ID}:operation_id>/progress")
@rule("follow_operation")
def operation_progress(operation_id: int):
    """The live part of the progress card: what the page's htmx polling swaps in every second until the run
    ends (with Stop's area, out of band, once there is nothing left to stop)."""
    return render_template("ui/_progress_live.html", oob=True, **_progress_context(_operation(operation_id)))


@bp.get(f"/operations/<{ID}:operation_id>.json")
@rule("follow_operation")
def operation_json(operation_id: int):
    """The progress as JSON."""
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
    if request.headers.get("HX-Request"):
        return render_template("ui/_progress_live.html", oob=True, **_progress_context(op))
    if request.headers.get("X-CSRF-Token"):
        return jsonify(progress(op))
    return redirect(ui_url("ui.operation", operation_id=operation_id, back=request.args.get("back") or None))


def day_filter(name: str, end: bool = False) -> datetime | None:
    """The date filter ``name`` of the query string (YYYY-MM-DD) as a UTC moment; ``end``: the next day's start."""
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


def log_filters(*names: str) -> dict:
    """The log filters of the query string.  Admins see the tenant's logs; managers whose permission set
    has view_activity see their scope's (permissions.*_scope); nobody else sees logs."""
    if principal().role != "admin" and not permissions.can(rt(), principal(), "view_activity"):
        raise Forbidden(permissions.refusal("view_activity"))
    args = {k: request.args.get(k) or "" for k in names}
    if "group" in names:  # the group picker: a name typed (or chosen) among the groups the person may see
        picked = picked_group(request.args, "group", label=_("Group"))
        args["group"] = str(picked) if picked else ""
    return args


def group_filter(raw: str) -> int | None:
    """The group of the filter, if the principal may see it (another's reads as no such group)."""
    if not raw:
        return None
    return managed_group(form_int(raw, "group"), "view_group").id


@bp.get("/logs")
@rule("view_activity")
def logs():
    """The user action log: operations, filtered by type, bulk action, group, status and date."""
    args = log_filters("type", "action", "group", "status", "since", "until")
    page = operations.list_operations(
        rt(),
        principal().tenant_id,
        type=args["type"] or None,
        action=check_action(args["action"]) if args["action"] else None,
        group_id=group_filter(args["group"]),
        status=args["status"] or None,
        since=day_filter("since"),
        until=day_filter("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.operation_scope(principal(), actor().name),
    )
    # An import's result names the rows its preview left out (errors, excluded), as on its own page.
    imports = outcome.preview_figures(rt(), principal().tenant_id, [op.id for op in page.items if op.type == "import"])
    return render_template(
        "ui/logs.html",
        page=page,
        args=args,
        state=lambda op: progress_state(op, imports.get(op.id)),
        words=operation_words,
        mentions=Mentions([op.requested_by for op in page.items]),
        types={t: _(label) for t, label in OPERATION_TYPES.items()},
        actions={name: action_words(name) for name in ACTIONS},
        statuses={s: STATUS_WORDS.get(s, s) for s in OPERATION_STATUSES},
    )


def _event_filter() -> tuple[dict, activity.EventFilter]:
    """The activity log's filters (the query string) and the events they select, within the viewer's scope:
    the page and its CSV download read the same."""
    args = log_filters("action", "channel", "group", "since", "until")
    if args["action"] and args["action"] not in ACTION_WORDS:
        raise InvalidInput(
            _("Choose what happened from the list."), details={_("What happened"): [_("Not one of the choices.")]}
        )
    if args["channel"] and args["channel"] not in CHANNEL_WORDS:
        raise InvalidInput(_("Choose a channel from the list."), details={_("Channel"): [_("Not one of the choices.")]})
    where = activity.EventFilter(
        action=args["action"] or None,
        channel=args["channel"] or None,
        group_id=group_filter(args["group"]),
        since=day_filter("since"),
        until=day_filter("until", end=True),
        visible=permissions.activity_scope(principal(), actor().name),
    )
    return args, where


@bp.get("/activity")
@rule("view_activity")
def activity_log():
    """The activity log: who did what to whom, in words, with links to the people and groups."""
    args, where = _event_filter()
    page = activity.page_events(rt(), principal().tenant_id, where, page=page_number(), per_page=50)
    return render_template(
        "ui/activity.html",
        page=page,
        args=args,
        mentions=Mentions.of_events(page.items),
        event_words=event_words,
        channel_words=channel_words,
        action_choices=sorted(((code, _(text)) for code, text in ACTION_WORDS.items()), key=lambda c: c[1]),
        channels=channel_choices(),
    )


def _utc(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second ("2026-03-31T14:05:09Z"); a stored time without a zone is UTC."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _activity_rows(events) -> list[list[str]]:
    """A chunk of events as CSV rows in the page's words (one name lookup per kind for the chunk)."""
    mentions = Mentions.of_events(events)
    rows = []
    for e in events:
        who = mentions.actor(e.actor, e.channel, e.details)
        what = mentions.object(e.object_type, e.object_id, e.details)
        also = ", ".join(m.text for m in mentions.details(e.details, e.object_type))
        rows.append([_utc(e.created_at), who.text, event_words(e), what.text, also, channel_words(e.channel), e.action])
    return rows


@bp.get("/activity.csv")
@rule("view_activity")
def activity_csv():
    """Every event the filters select (not just the page), within the viewer's scope, as CSV in the page's
    words: streamed, a chunk of rows at a time (a keyset read each), so a long log needs no more memory."""
    args, where = _event_filter()
    tenant_id = principal().tenant_id
    header = [
        _("When (UTC)"),
        _("Who"),
        _("What happened"),
        _("To what"),
        _("Also named"),
        _("Through"),
        _("Action code"),
    ]

    def rows():
        for events in activity.iter_events(rt(), tenant_id, where):
            yield from _activity_rows(events)

    return Response(
        stream_with_context(csv_lines(header, rows())),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="activity.csv"'},
    )


@bp.get("/emails")
@rule("view_activity")
def email_log():
    """The email log: what was sent, queued or failed, why (the trigger), and the message itself."""
    args = log_filters("status", "trigger", "to", "since", "until")
    if args["trigger"] and args["trigger"] not in TRIGGER_KINDS:
        raise InvalidInput(_("Choose a trigger from the list."), details={_("Trigger"): [_("Not one of the choices.")]})
    page = outbox.list_emails(
        rt(),
        principal().tenant_id,
        status=args["status"] or None,
        trigger=args["trigger"] or None,
        to=args["to"] or None,
        since=day_filter("since"),
        until=day_filter("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.email_scope(principal(), actor().name),
    )
    return render_template(
        "ui/emails.html",
        page=page,
        args=args,
        statuses=EMAIL_STATUSES,
        triggers={k: _(v.label) for k, v in TRIGGER_KINDS.items()},
        kinds=EMAIL_KIND_WORDS,
        body=email_body,
    )


# Invitations and password resets carry a single-use link that acts as the person: the log never shows it.
SECRET_LINK_KINDS = ("invitation", "password_reset")
URL = re.compile(r"https?://\S+")


def email_body(message) -> str:
    """The message's text as the log shows it, its single-use links hidden (one not signed yet, too)."""
    hidden = str(_("[the personal link is hidden: only the person it was sent to may use it]"))
    text = stencils.shown_text(message, hidden)
    if message.kind not in SECRET_LINK_KINDS:
        return text
    return URL.sub(hidden, text)


# An automatic notification's badge names its trigger ("Automatic: …", emails.html), so the kind's words are
# shown only for one without a trigger: the "Notification message" batch action's.
EMAIL_KIND_WORDS = {
    "invitation": lazy_gettext("Invitation"),
    "password_reset": lazy_gettext("Password reset"),
    "message": lazy_gettext("Message"),
    "notification": lazy_gettext("Notification message"),
}


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
