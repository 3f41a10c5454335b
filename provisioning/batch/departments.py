"""Copy the people of a department into a group: the groups article's "copying users from a branch"
(a branch is this service's department).

The department's active people, of those the principal may act on, are chosen in SQL when asked, and
added by the "Add to groups" batch action: an Operation, chunked and resumable, followed on its page
and in the user action log like any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.batch.actions import MAX_USER_IDS, request_batch_action
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.models import Operation, User
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group
from provisioning.store.members import ensure_hand_editable

FIELD = "department"


def request_department_copy(
    rt: Runtime, tenant_id: int, group_id: int, department: str, actor: Actor, *, users_within: Any = None
) -> Operation:
    """Start an Operation adding the active people of ``department`` to the hand-edited ``group_id``.

    ``users_within``: the people the principal may act on (a SELECT of user ids; None for the whole
    tenant).  A department with nobody in it, and one whose people are all beyond ``users_within``,
    get the same answer, so a manager learns nothing about people they don't manage.
    """
    name = (department or "").strip()
    if not name:
        raise InvalidInput(N_("Choose the department to copy people from."), details={FIELD: [N_("Required.")]})
    with rt.db.read() as s:
        ensure_hand_editable(load_group(s, tenant_id, group_id))
        stmt = select(User.id).where(User.tenant_id == tenant_id, User.department == name, User.status == "active")
        if users_within is not None:
            stmt = stmt.where(User.id.in_(users_within))
        ids = list(s.scalars(stmt.order_by(User.id).limit(MAX_USER_IDS + 1)))
    if not ids:
        raise InvalidInput(
            N_("Nobody active you may add is in the department %(department)r."),
            details={FIELD: [N_("Choose a department from the list.")]},
            department=name,
        )
    if len(ids) > MAX_USER_IDS:
        raise InvalidInput(
            N_("The department %(department)r has more than %(most)s people: add them with an automatic group's rule."),
            details={FIELD: [Message(N_("At most %(most)s people."), most=MAX_USER_IDS)]},
            department=name,
            most=MAX_USER_IDS,
        )
    return request_batch_action(rt, tenant_id, "add_to_groups", {"group_ids": [group_id]}, actor, user_ids=ids)
