"""The activity log's actions in words: one mapping for every page and export that shows an event.

Events are stored under stable dotted names ("group.member_added"); people read a sentence fragment
("Member added to a group").  Names built from an Operation type ("operation.import.succeeded") read
with that type's words (models.operation.OPERATION_TYPES).  An unknown name still reads as words.
"""

from __future__ import annotations

from provisioning.models import OPERATION_TYPES

EVENT_WORDS: dict[str, str] = {
    "course.created": "Course created",
    "course.deleted": "Course deleted",
    "enrollment.saved": "Enrollment saved",
    "enrollments.saved": "Enrollments saved",
    "group.created": "Group created",
    "group.deleted": "Group deleted",
    "group.updated": "Group changed",
    "group.member_added": "Member added to a group",
    "group.member_removed": "Member removed from a group",
    "group.invitation.sent": "Invitation to a group sent",
    "group.invitation.accepted": "Invitation to a group accepted",
    "group.rule_applied": "Group rule applied",
    "group.rule_broken": "Group rule stopped working",
    "group.rule_exceptions_changed": "Group rule exceptions changed",
    "import.edited": "Upload corrected",
    "import.previewed": "Upload checked",
    "invitation.link.used": "Invitation link used",
    "lti.deployment.recorded": "LMS deployment recorded",
    "lti.launch": "Opened from the LMS",
    "lti.registration.named": "LMS connection renamed",
    "lti.registration.revoked": "LMS connection revoked",
    "lti.registration.saved": "LMS connection saved",
    "lti.registration_invite.used": "LMS connection link used",
    "lti.roster.synced": "Course roster synced from the LMS",
    "lti.settings.changed": "LMS settings changed",
    "tenant.settings.changed": "Settings changed",
    "ui.signin_link.used": "Sign-in link used",
    "user.added_to_group": "Added to a group",
    "user.removed_from_group": "Removed from a group",
    "user.certificate_assigned": "Certificate given",
    "user.created": "Person created",
    "user.updated": "Person changed",
    "user.deactivated": "Person deactivated",
    "user.reactivated": "Person reactivated",
    "user.deleted": "Person deleted",
    "user.exported": "Person exported",
    "user.invited": "Invitation sent",
    "user.invitation.accepted": "Invitation accepted",
    "user.messaged": "Message sent",
    "user.notified": "Notification sent",
    "user.password_reset_sent": "Password reset sent",
    "user.shared": "Shared with a manager",
    "user.task_added": "Task given",
    "task.completed": "Task completed",
    "task.reopened": "Task reopened",
    "operation.cancel": "Job stopped",
}
OPERATION_STEPS = {
    "requested": "started",
    "running": "running",
    "succeeded": "finished",
    "failed": "failed",
    "cancelled": "stopped",
}


def event_words(action: str) -> str:
    """``action`` (an activity event's name) in words."""
    if action in EVENT_WORDS:
        return EVENT_WORDS[action]
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "operation" and parts[1] in OPERATION_TYPES:
        return f"{OPERATION_TYPES[parts[1]]} {OPERATION_STEPS.get(parts[2], parts[2].replace('_', ' '))}"
    words = " ".join(p.replace("_", " ") for p in parts if p)
    return words[:1].upper() + words[1:]
