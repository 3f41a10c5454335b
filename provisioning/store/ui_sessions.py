"""Ending UI sessions inside the caller's unit of work, whichever channel changed the person.

A session is ended for good (``ended_at``), so reactivating a user, or giving them their old
role back, does not revive a session that a deactivation or a role change ended.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from provisioning.db import id_chunks, id_in
from provisioning.models import UiSession, User, utcnow


def end_user_sessions(s: Session, tenant_id: int, user_ids: Sequence[int], reason: str) -> None:
    """End every open session of these users of the tenant, for ``reason`` (models.SESSION_END_REASONS)."""
    now = utcnow()
    for chunk in id_chunks(s, user_ids):
        s.execute(
            update(UiSession)
            .where(UiSession.tenant_id == tenant_id, id_in(s, UiSession.user_id, chunk), UiSession.ended_at.is_(None))
            .values(ended_at=now, ended_reason=reason)
            .execution_options(synchronize_session=False)
        )


def settle_user_sessions(s: Session, tenant_id: int, user_ids: Sequence[int]) -> None:
    """After a change of these users: end the sessions of the deactivated ones, and those begun
    with another role than the user has now (a bulk UPDATE of users may have changed either)."""
    now = utcnow()
    theirs = and_(User.id == UiSession.user_id, User.tenant_id == tenant_id)
    deactivated = select(User.id).where(theirs, User.status == "deactivated").exists()
    other_role = select(User.id).where(theirs, User.role != UiSession.user_role).exists()
    for chunk in id_chunks(s, user_ids):
        open_of_chunk = and_(
            UiSession.tenant_id == tenant_id, id_in(s, UiSession.user_id, chunk), UiSession.ended_at.is_(None)
        )
        for condition, reason in ((deactivated, "deactivated"), (other_role, "role_changed")):
            s.execute(
                update(UiSession)
                .where(open_of_chunk, condition)
                .values(ended_at=now, ended_reason=reason)
                .execution_options(synchronize_session=False)
            )
