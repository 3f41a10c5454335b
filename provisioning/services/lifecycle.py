"""User lifecycle: deactivate and reactivate, set-based.

One behaviour whatever the channel: the batch action, the admin API and a SCIM
``active=false`` all call :func:`deactivate_users`.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import User, utcnow
from .activity import Actor, record_many

CHUNK = 1000


def deactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Deactivate users inside an open unit of work; returns the ids that were not deactivated before.

    Later capabilities extend this with the clean-up of temporary data (pending
    invitations, open tasks, upcoming enrolments); permanent records are kept.
    """
    changed: list[int] = []
    ids = list(user_ids)
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = s.scalars(
            update(User)
            .where(User.tenant_id == tenant_id, User.id.in_(chunk), User.status != "deactivated")
            .values(status="deactivated", active=False, version=User.version + 1, updated_at=now)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        ).all()
        changed.extend(rows)
    record_many(s, ({"tenant_id": tenant_id, "actor": actor.name, "channel": actor.channel,
                     "action": "user.deactivated", "object_type": "user", "object_id": str(uid),
                     "details": {}, "created_at": now} for uid in changed))
    return changed


def reactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Reactivate deactivated users inside an open unit of work; returns the ids that changed."""
    from .users import check_seats

    ids = list(user_ids)
    pending = list(s.scalars(select(User.id).where(User.tenant_id == tenant_id, User.id.in_(ids),
                                                   User.status == "deactivated"))) if ids else []
    if pending:
        check_seats(s, tenant_id, adding=len(pending))
    changed: list[int] = []
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = s.scalars(
            update(User)
            .where(User.tenant_id == tenant_id, User.id.in_(chunk), User.status == "deactivated")
            .values(status="active", active=True, version=User.version + 1, updated_at=now)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        ).all()
        changed.extend(rows)
    record_many(s, ({"tenant_id": tenant_id, "actor": actor.name, "channel": actor.channel,
                     "action": "user.reactivated", "object_type": "user", "object_id": str(uid),
                     "details": {}, "created_at": now} for uid in changed))
    return changed
