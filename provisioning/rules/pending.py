"""At most one pending evaluation per automatic group: a new request joins the queued one.

A change that needs a group re-evaluated in the background (an import of thousands of users, a
batch action, an edited rule) asks for a ``rule_evaluation`` Operation.  If the group already has
one that is queued (not started), the request is merged into it instead of queuing another: a 50k
import in 20 chunks, into a group 100 rules read, queues one evaluation per dependent group, not
20 x 100.  The merge and the new row are written in the caller's transaction (the Operation row is
committed before its job is enqueued, :func:`provisioning.operations.start_operation`), so a crash
loses neither; the group's row is locked first, so two concurrent requests cannot both queue one.

An evaluation either covers all of the tenant's users up to ``params["last_user_id"]`` (a full
evaluation), or only ``params["user_ids"]`` (the users a change touched).  Merging a listed request
into a listed one unions the ids (up to MAX_LISTED, then it becomes full); anything merged into a
full one widens its ``last_user_id`` to the tenant's last user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.db import affected
from provisioning.models import Group, Operation, User
from provisioning.operations import start_operation
from provisioning.runtime import Runtime
from provisioning.sql import json_text

OPERATION_TYPE = "rule_evaluation"
MAX_LISTED = 50_000  # listed users beyond this: evaluate everyone (a keyset scan costs about the same)


def tenant_users(s: Session, tenant_id: int) -> tuple[int, int | None]:
    """(count, last user id) of the tenant."""
    count, last = s.execute(select(func.count(), func.max(User.id)).where(User.tenant_id == tenant_id)).one()
    return count, last


def queued_evaluation(s: Session, group_id: int) -> Operation | None:
    """The group's rule_evaluation Operation that no worker has started yet, if any."""
    return s.scalar(
        select(Operation)
        .where(
            Operation.type == OPERATION_TYPE,
            Operation.status == "queued",
            Operation.cancel_requested.is_(False),
            json_text(Operation.params, "group_id") == str(group_id),
        )
        .order_by(Operation.id.desc())
        .limit(1)
    )


def request_evaluation(
    s: Session,
    rt: Runtime,
    group: Group,
    actor: Actor,
    *,
    user_ids: Sequence[int] | None = None,
    schedule_slot: int | None = None,
    users: tuple[int, int | None] | None = None,
) -> Operation:
    """Queue (or join) the evaluation of ``group``: of ``user_ids`` only, or of everyone (None).

    ``users`` is the tenant's (count, last user id) when the caller has it already.
    """
    s.flush()
    s.execute(select(Group.id).where(Group.id == group.id).with_for_update())
    total, last = users if users is not None else tenant_users(s, group.tenant_id)
    listed = sorted({int(i) for i in user_ids}) if user_ids is not None else None
    if listed is not None and len(listed) > MAX_LISTED:
        listed = None
    pending = queued_evaluation(s, group.id)
    if pending is not None:
        params = _merged(dict(pending.params or {}), listed, last, schedule_slot)
        count = len(params["user_ids"]) if "user_ids" in params else total
        merged = affected(
            s.execute(
                update(Operation)
                .where(Operation.id == pending.id, Operation.status == "queued")
                .values(params=params, progress_total=count)
                .execution_options(synchronize_session=False)
            )
        )
        if merged == 1:  # else a worker claimed it meanwhile: queue a new one
            s.refresh(pending)
            return pending
    params = {"group_id": group.id, "actor": actor.name, "channel": actor.channel, "last_user_id": last or 0}
    if listed is not None:
        params["user_ids"] = listed
    if schedule_slot is not None:
        params["schedule_slot"] = schedule_slot
    count = len(listed) if listed is not None else total
    # The event names how many users, not which: the list can hold MAX_LISTED ids.
    logged = {k: v for k, v in params.items() if k != "user_ids"} | ({"users": count} if listed is not None else {})
    op = start_operation(s, rt, group.tenant_id, OPERATION_TYPE, params, actor, total=count, logged_params=logged)
    group.settings = {**(group.settings or {}), "evaluation_operation_id": op.id}
    return op


def _merged(params: dict[str, Any], listed: list[int] | None, last: int | None, slot: int | None) -> dict[str, Any]:
    params["last_user_id"] = max(int(params.get("last_user_id") or 0), last or 0)
    if slot is not None:
        params["schedule_slot"] = slot
    if "user_ids" in params:
        if listed is None:
            del params["user_ids"]
        else:
            union = sorted(set(params["user_ids"]) | set(listed))
            if len(union) > MAX_LISTED:
                del params["user_ids"]
            else:
                params["user_ids"] = union
    return params
