"""An operation's progress and result in words: the sentence, the figures in a fixed order, the time left.

The figures are the run's own (the Operation's counters, and for an import its preview's left-out
rows); the job's bookkeeping (where it got to, for resuming) is never shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext

from provisioning.batch.registry import ACTIONS
from provisioning.models import OPERATION_TYPES
from ui.batch_words import result_sentence

FINISHED = ("succeeded", "failed", "cancelled")

# The figures a result may hold, in the order they are shown (whatever order the job stored them in).
FIGURES: tuple[tuple[str, Any], ...] = (
    ("rows_done", lazy_gettext("Rows read")),
    ("processed", lazy_gettext("People processed")),
    ("members_read", lazy_gettext("Members read from the course")),
    ("applied", lazy_gettext("Added or updated")),
    ("added", lazy_gettext("Added")),
    ("changed", lazy_gettext("Changed")),
    ("users_created", lazy_gettext("People created")),
    ("invited", lazy_gettext("Invitations sent")),
    ("members_added", lazy_gettext("Added to the group")),
    ("included", lazy_gettext("Now always included in the automatic group")),
    ("users_updated", lazy_gettext("People updated")),
    ("groups_created", lazy_gettext("Groups created")),
    ("removed", lazy_gettext("Removed")),
    ("skipped", lazy_gettext("Already done (nothing to change)")),
    ("already_members", lazy_gettext("Already members")),
    ("sent", lazy_gettext("Emails sent")),
    ("errors", lazy_gettext("Errors while applying")),
    ("preview_errors", lazy_gettext("Rows with errors in the file (skipped)")),
    ("excluded", lazy_gettext("Left out by you in the preview")),
    ("failed", lazy_gettext("Failed")),
    ("members", lazy_gettext("Members")),
    ("enrolled_members", lazy_gettext("Members enrolled in a course")),
    ("completed_enrollments", lazy_gettext("Completed enrollments")),
    ("rows", lazy_gettext("Report rows")),
)

STATUS_WORDS = {
    "queued": lazy_gettext("Waiting to start"),
    "running": lazy_gettext("Running"),
    "succeeded": lazy_gettext("Finished"),
    "failed": lazy_gettext("Failed"),
    "cancelled": lazy_gettext("Stopped"),
}


def action_words(action: str) -> str:
    """A batch action in plain words, as the logs name a run of it: "Reactivate users", "Add a task to users"."""
    declared = ACTIONS[action]
    if declared.log_label:
        return _(declared.log_label)  # declared with N_ in the registry
    return _("%(action)s users", action=_(declared.label))


def operation_words(op) -> str:
    """What the operation is, e.g. "Import", "Reactivate users"."""
    action = (op.params or {}).get("action")
    if op.type == "batch_action" and action in ACTIONS:
        return action_words(action)
    return _(OPERATION_TYPES.get(op.type, op.type.replace("_", " ").capitalize()))


def figures(op, imp: dict[str, Any] | None = None) -> dict[str, int]:
    """The numeric figures of the result (and, for an import, its rows left out in the preview)."""
    result = op.result or {}
    out = {k: int(v) for k, v in result.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if imp is not None:
        for key, value in (("preview_errors", imp.get("error_rows")), ("excluded", imp.get("excluded"))):
            if value:
                out[key] = int(value)
    return out


# Figures shown even when they are 0 (the others only when something happened).
ALWAYS = frozenset(("rows_done", "processed", "applied", "added", "changed", "errors", "failed", "members"))


def facts(op, imp: dict[str, Any] | None = None) -> list[tuple[str, int]]:
    """The figures as (label, value), always in the same order; a figure the result lacks, or a 0 that
    says nothing happened of that kind, is left out."""
    found = figures(op, imp)
    return [(str(label), found[key]) for key, label in FIGURES if key in found and (found[key] or key in ALWAYS)]


# What else an import's run did, in the order its sentence says it (a figure of 0 is left out).
IMPORT_EXTRAS = (
    ("invited", lambda n: ngettext("%(num)s invitation sent", "%(num)s invitations sent", n)),
    ("members_added", lambda n: ngettext("%(num)s added to the group", "%(num)s added to the group", n)),
    ("included", lambda n: ngettext("%(num)s always included", "%(num)s always included", n)),
    ("users_created", lambda n: ngettext("%(num)s person created", "%(num)s people created", n)),
    ("groups_created", lambda n: ngettext("%(num)s group created", "%(num)s groups created", n)),
    ("removed", lambda n: ngettext("%(num)s member removed", "%(num)s members removed", n)),
    ("skipped", lambda n: ngettext("%(num)s already there", "%(num)s already there", n)),
    ("excluded", lambda n: ngettext("%(num)s left out by you", "%(num)s left out by you", n)),
)


def sentence(op, imp: dict[str, Any] | None = None) -> str:
    """The result in one sentence, e.g. "Imported 4 rows: 3 added, 1 error."."""
    f = figures(op, imp)
    if op.status == "queued":
        return _("Waiting to start.")
    if op.status == "running":
        return _("Working on it…")
    if op.status == "failed":
        return _("It failed; see the errors below. Nothing after the last finished step was changed.")
    stopped = op.status == "cancelled"
    if op.type == "import":
        errors = f.get("errors", 0) + f.get("preview_errors", 0)
        text = _(
            "%(verb)s %(rows)s: %(added)s, %(errors)s.",
            verb=_("Stopped after") if stopped else _("Imported"),
            rows=ngettext("%(num)s row", "%(num)s rows", f.get("rows_done", 0))
            if imp is None or imp.get("entries") == imp.get("rows")
            # A group-based row lists several people: the job counts each (person, group) it reads.
            else ngettext("%(num)s membership", "%(num)s memberships", f.get("rows_done", 0)),
            added=ngettext(
                "%(num)s account created or updated", "%(num)s accounts created or updated", f.get("applied", 0)
            )
            if (op.result or {}).get("format") == "users"
            else ngettext("%(num)s added", "%(num)s added", f.get("applied", 0)),
            errors=ngettext("%(num)s error", "%(num)s errors", errors),
        )
        extra = [phrase(f[key]) for key, phrase in IMPORT_EXTRAS if f.get(key)]
        said = text if not extra else _("%(main)s Also: %(more)s.", main=text, more=", ".join(extra))
        if f.get("users_created") and not f.get("invited") and not (imp or {}).get("group_id"):
            # A people file creates accounts without inviting anyone (the bulk add into a group invites).
            said += " " + _(
                "No invitation was sent: to invite the new people, tick them in People and choose “Resend "
                "invite”, or upload the file as a bulk add into a group."
            )
        return said
    if op.type == "batch_action":
        done = f.get("changed", 0)
        said = result_sentence(op)  # the action's own words: "Deactivated 3 people." (ui/batch_words.py)
        if said and op.status == "succeeded" and not f.get("failed"):
            return said
        text = ngettext(
            "%(what)s: %(num)s person changed", "%(what)s: %(num)s people changed", done, what=operation_words(op)
        )
        if f.get("failed"):
            text = _(
                "%(main)s, %(failed)s", main=text, failed=ngettext("%(num)s failed", "%(num)s failed", f["failed"])
            )
        return _("Stopped. %(main)s.", main=text) if stopped else _("%(main)s.", main=text)
    if op.type in ("members_copy", "rule_evaluation", "roster_sync"):
        text = _(
            "%(added)s, %(removed)s.",
            added=ngettext("%(num)s member added", "%(num)s members added", f.get("added", 0)),
            removed=ngettext("%(num)s removed", "%(num)s removed", f.get("removed", 0)),
        )
        return _("Stopped. %(main)s", main=text) if stopped else text
    if op.type == "members_bulk_add":  # a manager's bulk add: each row added at once or invited
        rows = int((op.result or {}).get("rows_read") or op.progress_done or 0)
        text = ngettext(
            "%(num)s row of %(total)s read: each person added or invited",
            "%(num)s rows of %(total)s read: each person added or invited",
            rows,
            total=op.progress_total or rows,
        )
        return _("Stopped. %(main)s.", main=text) if stopped else _("%(main)s.", main=text)
    if op.type == "report" and not stopped:
        result = op.result or {}
        return _(
            "Report ready: %(members)s, %(rate)s%% of enrollments completed.",
            members=ngettext("%(num)s member", "%(num)s members", int(result.get("members") or 0)),
            rate=round(100 * float(result.get("completion_rate") or 0)),
        )
    return _("Stopped.") if stopped else _("Finished.")


def time_left(op, now: datetime | None = None) -> str | None:
    """An estimate of the time left in words, from the pace so far; None when there is nothing to go on."""
    if op.status != "running" or not op.started_at or not op.progress_total or not op.progress_done:
        return None
    now = now or datetime.now(UTC)
    started = op.started_at if op.started_at.tzinfo else op.started_at.replace(tzinfo=UTC)
    spent = max(0.0, (now - started).total_seconds())
    left = spent * (op.progress_total - op.progress_done) / op.progress_done
    if left < 60:
        return _("Less than a minute left")
    minutes = round(left / 60)
    if minutes < 90:
        return ngettext("About %(num)s minute left", "About %(num)s minutes left", minutes)
    return ngettext("About %(num)s hour left", "About %(num)s hours left", round(left / 3600))


def state(op, imp: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the progress card shows."""
    total = op.progress_total
    if op.status == "succeeded":
        percent = 100
    else:
        percent = min(100, round(100 * op.progress_done / total)) if total else 0
    return {
        "status": op.status,
        "status_words": str(STATUS_WORDS.get(op.status, op.status)),
        "done": op.progress_done,
        "total": total,
        "percent": percent,
        "finished": op.status in FINISHED,
        "cancel_requested": op.cancel_requested,
        "time_left": time_left(op),
        "sentence": sentence(op, imp),
        "facts": facts(op, imp),
    }
