"""Where each automatic notification's events come from: one SELECT per trigger, fired per chunk.

The code that enrolls, completes, adds to a group, invites or gives a seat calls one of these in
its own unit of work with the ids it just changed (a chunk of a bulk path at most); each call
is one ``INSERT ... SELECT`` into the outbox (:func:`provisioning.mail.triggers.fire`).  The
event instance in the dedupe key is what stays the same when the event is replayed: the
enrollment row for enrolled and completed, the membership's ``added_at`` for a group (removed
and added again is a new event), the invitation's creation, the user's version for a seat.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from provisioning.chunking import IN_LIST, chunked
from provisioning.db import id_in
from provisioning.mail.triggers import _enabled_row, event_select, fire
from provisioning.models import Course, Enrollment, Group, Invitation, Membership, User
from provisioning.runtime import Runtime


def _moment(s: Session, column: Any) -> Any:
    """A timestamp as an event instance: seconds since the epoch on PostgreSQL (a cast to text would follow the
    session's TimeZone), the stored UTC text on SQLite."""
    return func.extract("epoch", column) if s.get_bind().dialect.name == "postgresql" else column


def _on(s: Session, tenant_id: int, trigger: str) -> bool:
    return _enabled_row(s, tenant_id, trigger) is not None


def _course_name():
    return func.coalesce(Course.title, Course.external_id)


def enrollments_created(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    user_ids: Sequence[int],
    stamp: datetime,
    *,
    course_id: int | None = None,
    operation_id: int | None = None,
) -> int:
    """``enrolled``: the enrollments of ``user_ids`` that the statement stamped ``stamp`` created."""
    if not user_ids or not _on(s, tenant_id, "enrolled"):
        return 0
    conditions = [Enrollment.created_at == stamp, Enrollment.status != "dropped"]
    if course_id is not None:
        conditions.append(Enrollment.course_id == course_id)
    return _fire_enrollments(s, rt, tenant_id, "enrolled", user_ids, conditions, operation_id)


def _fire_enrollments(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    trigger: str,
    user_ids: Sequence[int],
    conditions: list[ColumnElement[bool]],
    operation_id: int | None,
) -> int:
    """Fire ``trigger`` for the enrollments of ``user_ids`` that meet ``conditions``, a chunk of users at a time."""
    sent = 0
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        events = (
            event_select(Enrollment.user_id, Enrollment.course_id, Enrollment.id, course=_course_name())
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.tenant_id == tenant_id, id_in(s, Enrollment.user_id, chunk), *conditions)
        )
        sent += fire(s, rt, tenant_id, trigger, events, operation_id=operation_id)
    return sent


def completed_before(s: Session, tenant_id: int, user_ids: Sequence[int]) -> set[int]:
    """Ids of the completed enrollments of ``user_ids`` (read before a change, to see who completes now)."""
    if not user_ids or not _enabled_row(s, tenant_id, "completed"):
        return set()
    found: set[int] = set()
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        found.update(
            s.scalars(
                Enrollment.__table__.select()
                .with_only_columns(Enrollment.id)
                .where(
                    Enrollment.tenant_id == tenant_id,
                    id_in(s, Enrollment.user_id, chunk),
                    Enrollment.status == "completed",
                )
            )
        )
    return found


def enrollments_completed(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    user_ids: Sequence[int],
    stamp: datetime,
    before: set[int],
    *,
    operation_id: int | None = None,
) -> int:
    """``completed``: enrollments of ``user_ids`` the statement stamped ``stamp`` left completed, not completed before."""
    if not user_ids or not _on(s, tenant_id, "completed"):
        return 0
    conditions = [Enrollment.updated_at == stamp, Enrollment.status == "completed"]
    if before:
        conditions.append(Enrollment.id.not_in(sorted(before)))
    return _fire_enrollments(s, rt, tenant_id, "completed", user_ids, conditions, operation_id)


def members_added(
    s: Session,
    rt: Runtime | None,
    tenant_id: int,
    group_id: int,
    user_ids: Sequence[int],
    *,
    operation_id: int | None = None,
) -> int:
    """``group_added``: ``user_ids`` just became members of the group."""
    if rt is None or not user_ids or not _on(s, tenant_id, "group_added"):
        return 0
    sent = 0
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        events = (
            event_select(Membership.user_id, Membership.group_id, _moment(s, Membership.added_at), group=Group.name)
            .join(Group, Group.id == Membership.group_id)
            .where(
                Membership.group_id == group_id, Membership.tenant_id == tenant_id, id_in(s, Membership.user_id, chunk)
            )
        )
        sent += fire(s, rt, tenant_id, "group_added", events, operation_id=operation_id)
    return sent


def memberships_stamped(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    user_ids: Sequence[int],
    stamp: datetime,
    *,
    operation_id: int | None = None,
) -> int:
    """``group_added`` for the memberships of ``user_ids`` (in any groups) that a statement stamped ``stamp``
    inserted: an import chunk naming many groups still fires one INSERT ... SELECT per IN_LIST users."""
    if not user_ids or not _on(s, tenant_id, "group_added"):
        return 0
    sent = 0
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        events = (
            event_select(Membership.user_id, Membership.group_id, _moment(s, Membership.added_at), group=Group.name)
            .join(Group, Group.id == Membership.group_id)
            .where(
                Membership.tenant_id == tenant_id,
                id_in(s, Membership.user_id, chunk),
                Membership.added_at == stamp,
            )
        )
        sent += fire(s, rt, tenant_id, "group_added", events, operation_id=operation_id)
    return sent


def invitations_created(
    s: Session, rt: Runtime, tenant_id: int, user_ids: Sequence[int], *, operation_id: int | None = None
) -> int:
    """``invited``: ``user_ids`` just got their (first) invitation."""
    if not user_ids or not _on(s, tenant_id, "invited"):
        return 0
    sent = 0
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        events = event_select(Invitation.user_id, None, _moment(s, Invitation.created_at)).where(
            Invitation.tenant_id == tenant_id, id_in(s, Invitation.user_id, chunk)
        )
        sent += fire(s, rt, tenant_id, "invited", events, operation_id=operation_id)
    return sent


def seats_assigned(
    s: Session, rt: Runtime | None, tenant_id: int, user_ids: Sequence[int], *, operation_id: int | None = None
) -> int:
    """``seat_assigned``: ``user_ids`` were just created or reactivated (not deactivated: they take a seat)."""
    if rt is None or not user_ids or not _on(s, tenant_id, "seat_assigned"):
        return 0
    sent = 0
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        events = event_select(User.id, None, literal("v") + cast(User.version, String)).where(
            User.tenant_id == tenant_id, id_in(s, User.id, chunk), User.status != "deactivated"
        )
        sent += fire(s, rt, tenant_id, "seat_assigned", events, operation_id=operation_id)
    return sent
