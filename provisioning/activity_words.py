"""The activity log's codes in words: the actions and the channels, each one declared mapping, read by the
UI and the CSV download.

An event's ``action`` is a code (``group.member_added``, ``operation.batch_action.requested``); people
read a sentence.  :func:`action_sentence` gives the English sentence with named placeholders and
their values; the UI translates the sentence (the strings are marked with ``N_`` so ``pybabel
extract`` finds them, babel.cfg) and fills it in.  An unknown code reads as its words
("Something happened" never: ``billing.plan_changed`` reads "Billing: plan changed").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioning.batch.registry import ACTIONS as BATCH_ACTIONS
from provisioning.models import OPERATION_TYPES


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional "mark for translation" name
    """Mark a string for translation without translating it (the core has no locale)."""
    return message


ACTION_WORDS: dict[str, str] = {
    "group.created": N_("Created the group"),
    "group.updated": N_("Changed the group"),
    "group.deleted": N_("Deleted the group"),
    "group.member_added": N_("Added a member to the group"),
    "group.member_removed": N_("Removed a member from the group"),
    "group.rule_applied": N_("Updated the group's members from its rule"),
    "group.rule_broken": N_("The group's rule stopped working"),
    "group.rule_exceptions_changed": N_("Changed who is always in or always out of the group"),
    "user.created": N_("Created the person"),
    "user.updated": N_("Changed the person's details"),
    "user.deactivated": N_("Deactivated the person"),
    "user.reactivated": N_("Reactivated the person"),
    "user.deleted": N_("Deleted the person"),
    "user.invited": N_("Sent the person an invitation"),
    "user.invitation.accepted": N_("The person accepted their invitation"),
    "invitation.link.used": N_("An invitation link was used"),
    "user.notified": N_("Sent the person a notification"),
    "user.messaged": N_("Sent the person a message"),
    "user.password_reset_sent": N_("Sent the person a password reset"),
    "user.task_added": N_("Gave the person a task"),
    "user.certificate_assigned": N_("Gave the person a certificate"),
    "user.shared": N_("Shared the person with a group manager"),
    "user.added_to_group": N_("Added the person to a group"),
    "user.removed_from_group": N_("Removed the person from a group"),
    "user.exported": N_("Exported the person's details"),
    "import.previewed": N_("Uploaded a file for preview"),
    "import.edited": N_("Changed an upload's preview"),
    "operation.cancel": N_("Stopped a running action"),
    "course.created": N_("Created the course"),
    "course.deleted": N_("Deleted the course"),
    "enrollment.saved": N_("Saved a course enrollment"),
    "enrollments.saved": N_("Saved course enrollments"),
    "lti.registration.named": N_("Named a learning platform"),
    "lti.registration.saved": N_("Registered a learning platform"),
    "lti.registration.revoked": N_("Revoked a learning platform"),
    "lti.registration_invite.used": N_("A learning platform registered itself with an invitation"),
    "lti.deployment.recorded": N_("A learning platform deployment was recorded"),
    "lti.launch": N_("Opened the tool from a learning platform"),
    "ui.signin_link.used": N_("Signed in with a sign-in link"),
    "task.completed": N_("Completed a task"),
    "task.reopened": N_("Reopened a task"),
    "lti.settings.changed": N_("Changed the learning platform settings"),
    "tenant.settings.changed": N_("Changed the organisation's settings"),
    "tenant.settings.password_reset_url": N_("Changed the password reset address"),
    "notification_trigger.updated": N_("Changed an automatic notification"),
    "report.scheduled": N_("Scheduled a report"),
    "report.unscheduled": N_("Cancelled a scheduled report"),
    "group.invitation.sent": N_("Invited someone to join the group"),
    "group.invitation.accepted": N_("Someone accepted an invitation to the group"),
    "group.manager_assigned": N_("Made someone a manager of the group"),
    "group.manager_removed": N_("Removed a manager of the group"),
    "group.manager_changed": N_("Changed what a manager of the group may do"),
    "lti.roster.synced": N_("Synced the course roster from the learning platform"),
    "lti.registration.invited": N_("Invited a learning platform to register"),
    "role.created": N_("Created a role"),
    "role.updated": N_("Changed a role"),
    "role.deleted": N_("Deleted a role"),
}
# The channel an event came through (models.CHANNELS), as the log's "Through" column and filter say it.
CHANNEL_WORDS: dict[str, str] = {
    "ui": N_("The web app"),
    "api": N_("The admin API"),
    "scim": N_("SCIM (directory sync)"),
    "lti": N_("The LMS (LTI)"),
    "job": N_("A background job"),
    "rule": N_("A group rule"),
    "cli": N_("The command line"),
    "join": N_("An invitation link"),
}

STARTED = N_("Started: %(operation)s")
# An operation's end: operation.<type>.<status>.
ENDED = {
    "requested": STARTED,
    "succeeded": N_("Finished: %(operation)s"),
    "cancelled": N_("Stopped: %(operation)s"),
    "failed": N_("Failed: %(operation)s"),
}


@dataclass(frozen=True)
class Sentence:
    """An English sentence with named placeholders, and their values (words the reader may see translated)."""

    text: str
    values: dict[str, str] = field(default_factory=dict)

    def english(self) -> str:
        return self.text % self.values if self.values else self.text


def action_sentence(action: str, details: dict[str, Any] | None = None) -> Sentence:
    """The sentence for an event's action code (``details``: the event's, for the operations it starts)."""
    if action in ACTION_WORDS:
        return Sentence(ACTION_WORDS[action])
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "operation" and parts[2] in ENDED:
        params = (details or {}).get("params") or {}
        batch = params.get("action") if isinstance(params, dict) else None
        if parts[1] == "batch_action" and batch in BATCH_ACTIONS:
            return Sentence(ENDED[parts[2]], {"operation": BATCH_ACTIONS[batch].label})
        return Sentence(ENDED[parts[2]], {"operation": OPERATION_TYPES.get(parts[1], _words(parts[1]))})
    head, _, rest = action.partition(".")
    return (
        Sentence("%(area)s: %(what)s", {"area": _words(head).capitalize(), "what": _words(rest)})
        if rest
        else Sentence(_words(action).capitalize())
    )


def _words(code: str) -> str:
    return code.replace(".", " ").replace("_", " ").strip()
