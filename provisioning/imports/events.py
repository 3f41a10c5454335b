"""What applying an import tells the rest of the system: activity events and rule re-evaluation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import utcnow
from ..models.imports import Import
from ..runtime import Runtime
from ..services.activity import Actor


def event_row(imp: Import, actor: Actor, action: str, object_type: str, object_id: Any,
              details: dict[str, Any]) -> dict[str, Any]:
    """One ActivityEvent row for ``record_many``, tagged with the import it came from."""
    return {"tenant_id": imp.tenant_id, "actor": actor.name, "channel": actor.channel, "action": action,
            "object_type": object_type, "object_id": str(object_id), "details": {**details, "import_id": imp.id},
            "created_at": utcnow()}


def reevaluate_rules(rt: Runtime, s: Session, tenant_id: int, user_ids: list[int]) -> None:
    """Let automatic groups follow the users an import touched (in the chunk's own transaction).

    The rules service belongs to the automatic-groups capability; imports work without it.
    """
    try:
        from ..services import rules  # built by the automatic-groups capability
    except ImportError:
        return
    reevaluate = getattr(rules, "reevaluate_users", None)
    if reevaluate is not None and user_ids:
        # Many users at once make it start full evaluations (jobs) instead of inline passes.
        reevaluate(s, tenant_id, user_ids, rt=rt)
