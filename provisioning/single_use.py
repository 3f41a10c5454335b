"""Use a signed link at most once: the first use records an activity event with the link's nonce.

Sign-in links and LTI registration invites are signed {tenant, nonce} tokens (itsdangerous), so
nothing is stored when they are issued.  Using one records an event ``action`` with the nonce as
its object id while the tenant's row is locked (``SELECT ... FOR UPDATE``), so of two concurrent
uses on PostgreSQL exactly one finds no event and records it; the other waits, then finds it.
The event doubles as the audit trail of the use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.models import ActivityEvent, Tenant
from provisioning.runtime import Runtime


def was_used(s: Session, tenant_id: int, action: str, object_type: str, nonce: str) -> bool:
    return bool(
        s.scalar(
            select(
                exists().where(
                    ActivityEvent.tenant_id == tenant_id,
                    ActivityEvent.object_type == object_type,
                    ActivityEvent.object_id == nonce,
                    ActivityEvent.action == action,
                )
            )
        )
    )


def use_once(
    rt: Runtime,
    tenant_id: int,
    nonce: str,
    *,
    action: str,
    object_type: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> bool:
    """True for the first use of ``nonce`` (now recorded); False when used before or the tenant is gone."""
    with rt.db.transaction() as s:
        if s.scalar(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update()) is None:
            return False
        if was_used(s, tenant_id, action, object_type, nonce):
            return False
        record(s, tenant_id, actor, action, object_type, nonce, details)
    return True
