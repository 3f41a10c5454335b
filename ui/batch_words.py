"""A finished batch action's result as a sentence ("Deactivated 3 people."), in the page's language.

One sentence per action of the registry (provisioning/batch/registry.py); ``changed`` is how many people the
action changed (the result's count), the rest of the result stays in the facts below it.
"""

from __future__ import annotations

from flask_babel import ngettext

SENTENCES = {
    "deactivate": lambda n: ngettext("Deactivated %(num)s person.", "Deactivated %(num)s people.", n),
    "reactivate": lambda n: ngettext("Reactivated %(num)s person.", "Reactivated %(num)s people.", n),
    "delete": lambda n: ngettext("Deleted %(num)s person.", "Deleted %(num)s people.", n),
    "add_to_groups": lambda n: ngettext(
        "Added %(num)s person to the groups.", "Added %(num)s people to the groups.", n
    ),
    "remove_from_group": lambda n: ngettext(
        "Removed %(num)s person from the group.", "Removed %(num)s people from the group.", n
    ),
    "change_role": lambda n: ngettext("Changed the role of %(num)s person.", "Changed the role of %(num)s people.", n),
    "change_language": lambda n: ngettext(
        "Changed the language of %(num)s person.", "Changed the language of %(num)s people.", n
    ),
    "resend_invite": lambda n: ngettext("Sent %(num)s invitation again.", "Sent %(num)s invitations again.", n),
    "password_reset": lambda n: ngettext(
        "Emailed %(num)s person a password reset link.", "Emailed %(num)s people a password reset link.", n
    ),
    "notify": lambda n: ngettext("Sent the message to %(num)s person.", "Sent the message to %(num)s people.", n),
    "add_task": lambda n: ngettext("Gave %(num)s person the task.", "Gave %(num)s people the task.", n),
    "assign_certificate": lambda n: ngettext(
        "Issued the certificate to %(num)s person.", "Issued the certificate to %(num)s people.", n
    ),
    "share": lambda n: ngettext(
        "Shared %(num)s person with the manager.", "Shared %(num)s people with the manager.", n
    ),
    "export_csv": lambda n: ngettext("Exported %(num)s person.", "Exported %(num)s people.", n),
}


def result_sentence(op) -> str | None:
    """The sentence for a finished batch action (None for anything else, or one still running)."""
    action = (op.params or {}).get("action")
    if op.type != "batch_action" or op.status not in ("succeeded", "failed", "cancelled") or action not in SENTENCES:
        return None
    return SENTENCES[action](int((op.result or {}).get("changed", 0) or 0))
