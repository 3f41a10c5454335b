"""Which function does the work of each Operation type.

A handler is called as ``handler(rt, operation_id, tenant_id, params, checkpoint)`` and
processes one chunk: it returns the new checkpoint, or None when the work is done.
Each chunk commits its own work together with its progress and checkpoint, so a
re-run after a crash resumes where the last chunk left off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioning.batch import actions as batch_actions
from provisioning.batch import messages
from provisioning.imports import bulk_add
from provisioning.imports.apply import apply_import_chunk
from provisioning.lti import roster as lti_roster
from provisioning.mail import outbox
from provisioning.mail.settings import MailSettings
from provisioning.reports import runs as report_runs
from provisioning.rules import evaluation as rule_evaluation
from provisioning.runtime import Runtime
from provisioning.services import memberships

ChunkHandler = Callable[[Runtime, int, int, dict[str, Any], dict[str, Any]], "dict[str, Any] | None"]

HANDLERS: dict[str, ChunkHandler] = {
    "members_copy": memberships.copy_members_chunk,
    bulk_add.OPERATION_TYPE: bulk_add.bulk_add_chunk,
    "import": apply_import_chunk,
    lti_roster.OPERATION_TYPE: lti_roster.roster_sync_chunk,
    rule_evaluation.OPERATION_TYPE: rule_evaluation.evaluate_chunk,
    batch_actions.OPERATION_TYPE: batch_actions.batch_action_chunk,
    messages.OPERATION_TYPE: messages.group_message_chunk,
    outbox.SEND_OPERATION: outbox.send_emails_chunk,
    report_runs.OPERATION_TYPE: report_runs.report_chunk,
}


def register(type: str, handler: ChunkHandler) -> None:
    """Register the chunk handler of an Operation type (tests add their own)."""
    HANDLERS[type] = handler


def turn_seconds(rt: Runtime, operation_type: str) -> float | None:
    """How long one run of an Operation may hold its worker before it queues again behind the jobs that came
    meanwhile (None: until it is done).  Only the outbox takes turns: paced towards the SMTP server, a bulk add's
    invitations take hours, which would hold a worker from every other job and outlast JOB_TIMEOUT."""
    if operation_type == outbox.SEND_OPERATION:
        return MailSettings.of(rt.settings).turn_seconds or None
    return None
