"""User lifecycle: deactivate, reactivate and delete, set-based.

One behaviour whatever the channel: the batch action, the admin API and a SCIM
``active=false`` all call :func:`deactivate_users`.

Deactivation deletes a user's *temporary* data — pending invitations (and their
unsent emails), open tasks, enrollments in courses not started (status
``enrolled``) — and keeps the *permanent* data: completed tasks, certificates,
started or completed enrollments, memberships and the activity history, so a
reactivated user finds them again.  Deletion removes the user and everything
they own, and anonymises the activity records about them.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from ..db import id_in
from ..models import (ActivityEvent, Certificate, EmailMessage, Enrollment, Group, Invitation, ManagerShare,
                      Membership, Notification, Task, User, utcnow)
from .activity import Actor, record_user_events

CHUNK = 2000


def deactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Deactivate users inside an open unit of work; returns the ids that were not deactivated before.

    Their temporary data goes (pending invitations, unsent invitation emails, open
    tasks, enrollments in courses not started); permanent records are kept.
    """
    changed: list[int] = []
    ids = list(user_ids)
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = s.scalars(
            update(User)
            .where(User.tenant_id == tenant_id, id_in(s, User.id, chunk), User.status != "deactivated")
            .values(status="deactivated", active=False, version=User.version + 1, updated_at=now)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        ).all()
        if rows:
            _delete_temporary_data(s, tenant_id, rows, now)
            record_user_events(s, tenant_id, actor, "user.deactivated", rows)
        changed.extend(rows)
    return changed


def reactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Reactivate deactivated users inside an open unit of work; returns the ids that changed."""
    from .users import check_seats

    ids = list(user_ids)
    pending = list(s.scalars(select(User.id).where(User.tenant_id == tenant_id, id_in(s, User.id, ids),
                                                   User.status == "deactivated"))) if ids else []
    if pending:
        check_seats(s, tenant_id, adding=len(pending))
    changed: list[int] = []
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = s.scalars(
            update(User)
            .where(User.tenant_id == tenant_id, id_in(s, User.id, chunk), User.status == "deactivated")
            .values(status="active", active=True, version=User.version + 1, updated_at=now)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        ).all()
        record_user_events(s, tenant_id, actor, "user.reactivated", rows)
        changed.extend(rows)
    return changed


# Up to this many users, one query first asks whether they have any temporary data at all (one
# round trip instead of four for a SCIM deactivation of a user who has none, the usual case).
PROBE_USERS = 100


# One statement, written out: built with the ORM it cost more CPU than the round trips it saves.
_TEMPORARY_DATA = text("""
    SELECT EXISTS (SELECT 1 FROM invitations WHERE tenant_id = :t AND user_id IN :ids AND status = 'pending')
        OR EXISTS (SELECT 1 FROM email_messages WHERE tenant_id = :t AND user_id IN :ids
                   AND kind = 'invitation' AND status = 'queued')
        OR EXISTS (SELECT 1 FROM tasks WHERE tenant_id = :t AND user_id IN :ids AND status = 'open')
        OR EXISTS (SELECT 1 FROM enrollments WHERE tenant_id = :t AND user_id IN :ids AND status = 'enrolled')
""").bindparams(bindparam("ids", expanding=True))


def _has_temporary_data(s: Session, tenant_id: int, user_ids: Sequence[int]) -> bool:
    """What :func:`_delete_temporary_data` would delete or cancel, asked in one query."""
    return bool(s.scalar(_TEMPORARY_DATA, {"t": tenant_id, "ids": list(user_ids)}))


def _delete_temporary_data(s: Session, tenant_id: int, user_ids: Sequence[int], now) -> None:
    """One statement per kind of temporary data, for a chunk of just-deactivated users."""
    if len(user_ids) <= PROBE_USERS and not _has_temporary_data(s, tenant_id, user_ids):
        return
    s.execute(delete(Invitation).where(Invitation.tenant_id == tenant_id, id_in(s, Invitation.user_id, user_ids),
                                       Invitation.status == "pending"))
    s.execute(update(EmailMessage)
              .where(EmailMessage.tenant_id == tenant_id, id_in(s, EmailMessage.user_id, user_ids),
                     EmailMessage.kind == "invitation", EmailMessage.status == "queued")
              .values(status="cancelled", last_error="Cancelled: the user was deactivated.", updated_at=now)
              .execution_options(synchronize_session=False))
    s.execute(delete(Task).where(Task.tenant_id == tenant_id, id_in(s, Task.user_id, user_ids), Task.status == "open"))
    # "enrolled" means the course has not started for them; in_progress and completed are history.
    s.execute(delete(Enrollment).where(Enrollment.tenant_id == tenant_id, id_in(s, Enrollment.user_id, user_ids),
                                       Enrollment.status == "enrolled"))


def delete_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Delete users permanently inside an open unit of work; returns the ids deleted.

    Everything they own goes with them.  Activity records about them stay, anonymised:
    their details (names, emails) are cleared and only the opaque id remains.
    """
    deleted: list[int] = []
    ids = list(user_ids)
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = list(s.scalars(select(User.id).where(User.tenant_id == tenant_id,
                                                    id_in(s, User.id, ids[start:start + CHUNK]))))
        if not chunk:
            continue
        s.execute(update(Group)
                  .where(Group.tenant_id == tenant_id,
                         Group.id.in_(select(Membership.group_id).where(id_in(s, Membership.user_id, chunk))))
                  .values(version=Group.version + 1, updated_at=now)
                  .execution_options(synchronize_session=False))
        for model in (Membership, Enrollment, Task, Certificate, Notification, Invitation, EmailMessage):
            s.execute(delete(model).where(model.tenant_id == tenant_id, id_in(s, model.user_id, chunk)))
        s.execute(delete(ManagerShare).where(ManagerShare.tenant_id == tenant_id,
                                             id_in(s, ManagerShare.user_id, chunk) | id_in(s, ManagerShare.manager_id, chunk)))
        s.execute(update(ActivityEvent)
                  .where(ActivityEvent.tenant_id == tenant_id, ActivityEvent.object_type == "user",
                         id_in(s, ActivityEvent.object_id, [str(i) for i in chunk]))
                  .values(details={"anonymised": True})
                  .execution_options(synchronize_session=False))
        record_user_events(s, tenant_id, actor, "user.deleted", chunk, {"anonymised": True})
        deleted.extend(s.scalars(delete(User).where(User.tenant_id == tenant_id, id_in(s, User.id, chunk))
                                 .returning(User.id)).all())
    return deleted
