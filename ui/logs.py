"""Operations (progress, Stop, the action log), the activity log, and the learner's own page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import Response, jsonify, redirect, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import activity, operations, permissions
from provisioning.activity_words import ACTION_WORDS, action_sentence
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
from ui.results import STATUS_WORDS, action_words, operation_words
from ui.results import state as progress_state

FINISHED = ("succeeded", "failed", "cancelled")
# Where a batch action's job has got to (for resuming it); nothing a reader of the result needs.
BOOKKEEPING = ("done_ranges", "done_through_user_id")
UI_ACTOR = re.compile(r"ui:user-(\d+)")


@dataclass(frozen=True)
class Mention:
    """A person or group as a log shows it: the name, and its page when the viewer may open it."""

    text: str
    href: str | None = None


def _actor_id(name: str | None) -> int | None:
    match = UI_ACTOR.fullmatch(name or "")
    return int(match[1]) if match else None


def _object_id(kind: str | None, object_type: str | None, object_id: str | None) -> int | None:
    return int(object_id) if object_type == kind and (object_id or "").isdigit() else None


def _detail_id(details: dict | None, key: str) -> int | None:
    value = (details or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


SYSTEM_ACTORS = {
    "ui:owner": lazy_gettext("The organisation's owner"),
    "owner": lazy_gettext("The organisation's owner"),
    "system": lazy_gettext("The system"),
    "rule": lazy_gettext("A group rule"),
    "schedule": lazy_gettext("A schedule"),
    "report schedule": lazy_gettext("A report schedule"),
}


class Mentions:
    """The names a page of log rows mentions, resolved at once (one query per kind) within the viewer's scope.

    ``objects``: (object type, object id, details) of each row; the details' user_id and group_id (a
    membership event names the group as its object and the member in its details) are resolved too.
    """

    def __init__(self, actors: list[str | None], objects: list[tuple[str | None, str | None, dict | None]]):
        users = {i for i in map(_actor_id, actors) if i is not None}
        users |= {i for t, o, _ in objects if (i := _object_id("user", t, o)) is not None}
        users |= {i for _, _, d in objects if (i := _detail_id(d, "user_id")) is not None}
        groups = {i for t, o, _ in objects if (i := _object_id("group", t, o)) is not None}
        groups |= {i for _, _, d in objects if (i := _detail_id(d, "group_id")) is not None}
        self.names = permissions.names_in_scope(rt(), principal(), users, groups)

    def actor(self, name: str | None) -> Mention:
        uid = _actor_id(name)
        if uid is not None:
            return self._user(uid) or Mention(_("someone outside your groups"))
        if name in SYSTEM_ACTORS:
            return Mention(str(SYSTEM_ACTORS[name]))
        if (name or "").startswith("token:"):
            return Mention(_("API key “%(name)s”", name=name[len("token:") :]))
        return Mention(name or _("unknown"))

    def object(self, object_type: str | None, object_id: str | None) -> Mention:
        if (uid := _object_id("user", object_type, object_id)) is not None:
            return self.person(uid)
        if (gid := _object_id("group", object_type, object_id)) is not None:
            return self.group(gid)
        kind = OBJECT_WORDS.get(object_type or "")
        text = str(kind) if kind else (object_type or "").replace("_", " ")
        # An administrator may open any operation and upload: link them (others may not see another's).
        if principal().role == "admin" and (object_id or "").isdigit():
            if object_type == "operation":
                return Mention(
                    _("an action (its progress and result)"), ui_url("ui.operation", operation_id=int(object_id))
                )
            if object_type == "import":
                return Mention(_("an upload (its preview)"), ui_url("ui.import_preview", import_id=int(object_id)))
        return Mention(text)

    def person(self, uid: int) -> Mention:
        return self._user(uid) or Mention(_("a person outside your groups"))

    def group(self, gid: int) -> Mention:
        if gid in self.names.groups:
            return Mention(self.names.groups[gid], ui_url("ui.group", group_id=gid))
        return Mention(_("a group outside your groups"))

    def details(self, details: dict | None, object_type: str | None) -> list[Mention]:
        """The people and groups an event's details name beside its object."""
        out = []
        if (uid := _detail_id(details, "user_id")) is not None and object_type != "user":
            out.append(self.person(uid))
        if (gid := _detail_id(details, "group_id")) is not None and object_type != "group":
            out.append(self.group(gid))
        return out

    def _user(self, uid: int) -> Mention | None:
        if uid not in self.names.users:
            return None
        return Mention(self.names.users[uid], ui_url("ui.person", user_id=uid))


# Objects that have no page of their own, in words (never their ids).
OBJECT_WORDS = {
    "import": lazy_gettext("an upload"),
    "operation": lazy_gettext("a running action"),
    "course": lazy_gettext("a course"),
    "tenant": lazy_gettext("the organisation"),
    "lti_registration": lazy_gettext("a learning platform"),
    "notification_trigger": lazy_gettext("an automatic notification"),
    "report_schedule": lazy_gettext("a report schedule"),
    "invitation": lazy_gettext("an invitation"),
    "signin_link": lazy_gettext("a sign-in link"),
}
CHANNEL_WORDS = {
    "ui": lazy_gettext("This site"),
    "api": lazy_gettext("Admin API"),
    "scim": lazy_gettext("Directory sync (SCIM)"),
    "lti": lazy_gettext("Learning platform (LTI)"),
    "job": lazy_gettext("Background job"),
    "rule": lazy_gettext("Group rule"),
    "cli": lazy_gettext("Command line"),
}


def event_words(event) -> str:
    """The event's action as a sentence in the reader's language (provisioning.activity_words)."""
    sentence = action_sentence(event.action, event.details)
    return _(sentence.text, **{k: _(v) for k, v in sentence.values.items()})


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
    return render_template("ui/operation.html", **_progress_context(_operation(operation_id)))


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


def log_filters(*names: str) -> dict:
    """The log filters of the query string.  Admins see the tenant's logs; managers whose permission set
    has view_activity see their scope's (permissions.*_scope); nobody else sees logs."""
    if principal().role != "admin" and not permissions.can(rt(), principal(), "view_activity"):
        raise Forbidden(permissions.refusal("view_activity"))
    return {k: request.args.get(k) or "" for k in names}


def group_choices() -> list:
    """The groups a log can be filtered by: those the principal may see, by name (the first 500)."""
    p = principal()
    return groups.list_groups(rt(), p.tenant_id, per_page=500, within=permissions.group_scope(p)).items


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
        since=_day("since"),
        until=_day("until", end=True),
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
        mentions=Mentions([op.requested_by for op in page.items], []),
        types={t: _(label) for t, label in OPERATION_TYPES.items()},
        actions={name: action_words(name) for name in ACTIONS},
        statuses={s: STATUS_WORDS.get(s, s) for s in OPERATION_STATUSES},
        group_choices=group_choices(),
    )


def _events():
    args = log_filters("action", "channel", "group", "since", "until")
    if args["action"] and args["action"] not in ACTION_WORDS:
        raise InvalidInput(
            _("Choose what happened from the list."), details={_("What happened"): [_("Not one of the choices.")]}
        )
    if args["channel"] and args["channel"] not in CHANNEL_WORDS:
        raise InvalidInput(_("Choose a channel from the list."), details={_("Channel"): [_("Not one of the choices.")]})
    page = activity.list_events(
        rt(),
        principal().tenant_id,
        action=args["action"] or None,
        channel=args["channel"] or None,
        group_id=group_filter(args["group"]),
        since=_day("since"),
        until=_day("until", end=True),
        page=page_number(),
        per_page=50,
        visible=permissions.activity_scope(principal(), actor().name),
    )
    mentions = Mentions([e.actor for e in page.items], [(e.object_type, e.object_id, e.details) for e in page.items])
    return args, page, mentions


@bp.get("/activity")
@rule("view_activity")
def activity_log():
    """The activity log: who did what to whom, in words, with links to the people and groups."""
    args, page, mentions = _events()
    return render_template(
        "ui/activity.html",
        page=page,
        args=args,
        mentions=mentions,
        event_words=event_words,
        action_choices=sorted(((code, _(text)) for code, text in ACTION_WORDS.items()), key=lambda c: c[1]),
        channels=CHANNEL_WORDS,
        group_choices=group_choices(),
    )


@bp.get("/activity.csv")
@rule("view_activity")
def activity_csv():
    """The page of the activity log the filters show, as CSV, in the same words as the page."""
    args, page, mentions = _events()

    rows = []  # built now, inside the request (the names' links need it); a page is 50 rows
    for e in page.items:
        who, what = mentions.actor(e.actor), mentions.object(e.object_type, e.object_id)
        also = ", ".join(m.text for m in mentions.details(e.details, e.object_type))
        channel = CHANNEL_WORDS.get(e.channel)
        when = e.created_at.strftime("%Y-%m-%d %H:%M:%S")
        rows.append([when, who.text, event_words(e), what.text, also, str(channel or e.channel)])
    header = [_("When"), _("Who"), _("What happened"), _("To what"), _("Also named"), _("Channel")]
    return Response(
        "".join(csv_lines(header, rows)),
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
        since=_day("since"),
        until=_day("until", end=True),
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


EMAIL_KIND_WORDS = {
    "invitation": lazy_gettext("Invitation"),
    "password_reset": lazy_gettext("Password reset"),
    "message": lazy_gettext("Message"),
    "notification": lazy_gettext("Automatic notification"),
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
