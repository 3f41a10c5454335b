"""Which function does the work of each Operation type.

A handler is called as ``handler(rt, operation_id, tenant_id, params, checkpoint)`` and
processes one chunk: it returns the new checkpoint, or None when the work is done.
Each chunk commits its own work together with its progress and checkpoint, so a
re-run after a crash resumes where the last chunk left off.
"""

from __future__ import annotations

from typing import Any, Callable

from provisioning.runtime import Runtime
from provisioning.imports.apply import apply_import_chunk
from provisioning.services import memberships

ChunkHandler = Callable[[Runtime, int, int, dict[str, Any], dict[str, Any]], "dict[str, Any] | None"]

HANDLERS: dict[str, ChunkHandler] = {
    "members_copy": memberships.copy_members_chunk,
    "import": apply_import_chunk,
}


def register(type: str, handler: ChunkHandler) -> None:
    """Register the chunk handler of an Operation type (later capabilities add theirs)."""
    HANDLERS[type] = handler

from provisioning.services import lti_roster as _lti_roster  # noqa: E402 - issue 7: LTI roster sync (NRPS)
register(_lti_roster.OPERATION_TYPE, _lti_roster.roster_sync_chunk)
from provisioning.services import rule_evaluation as _rule_evaluation  # noqa: E402 - issue 5: automatic groups
register(_rule_evaluation.OPERATION_TYPE, _rule_evaluation.evaluate_chunk)
from provisioning.mail import outbox as _outbox  # noqa: E402 - batch actions, group messages, email sending
from provisioning.services import batch_actions as _batch_actions, messages as _messages  # noqa: E402
register(_batch_actions.OPERATION_TYPE, _batch_actions.batch_action_chunk)
register(_messages.OPERATION_TYPE, _messages.group_message_chunk)
register(_outbox.SEND_OPERATION, _outbox.send_emails_chunk)
