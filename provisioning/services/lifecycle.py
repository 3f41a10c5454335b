"""User lifecycle: deactivate, reactivate and delete, set-based.

One behaviour whatever the channel: the batch action, the admin API and a SCIM
``active=false`` all call :func:`deactivate_users`.

Deactivation and deletion end the user's UI sessions (store.ui_sessions).

Deactivation deletes a user's *temporary* data — pending invitations (and their
unsent emails), open tasks, enrollments in courses not started (status
``enrolled``) — and keeps the *permanent* data: completed tasks, certificates,
started or completed enrollments, memberships and the activity history, so a
reactivated user finds them again.  Deletion removes the user and everything
they own, and anonymises the activity records about them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_user_events, user_events_insert
from provisioning.chunking import chunked
from provisioning.db import id_chunks, id_in
from provisioning.models import (
    ActivityEvent,
    Certificate,
    EmailMessage,
    Enrollment,
    Group,
    Invitation,
    ManagerShare,
    Membership,
    Notification,
    Task,
    User,
    utcnow,
)
from provisioning.store.ui_sessions import end_user_sessions
from provisioning.store.users import check_seats

CHUNK = 2000


def deactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Deactivate users inside an open unit of work; returns the ids that were not deactivated before.

    Their temporary data goes (pending invitations, unsent invitation emails, open
    tasks, enrollments in courses not started); permanent records are kept.
    """
    changed: list[int] = []
    now = utcnow()
    for chunk in id_chunks(s, user_ids, CHUNK):
        deactivating = (
            update(User)
            .where(User.tenant_id == tenant_id, id_in(s, User.id, chunk), User.status != "deactivated")
            .values(status="deactivated", active=False, version=User.version + 1, updated_at=now)
            .returning(User.id)
        )
        if s.get_bind().dialect.name == "postgresql":
            changed.extend(_deactivate_in_one_statement(s, tenant_id, deactivating, now, actor))
            continue
        rows = s.scalars(deactivating.execution_options(synchronize_session=False)).all()
        if rows:
            for statement in _temporary_data(tenant_id, lambda column, rows=rows: id_in(s, column, rows), now):
                s.execute(statement)
            record_user_events(s, tenant_id, actor, "user.deactivated", rows)
        changed.extend(rows)
    end_user_sessions(s, tenant_id, changed, "deactivated")
    return changed


def _deactivate_in_one_statement(s: Session, tenant_id: int, deactivating, now, actor: Actor) -> list[int]:
    """PostgreSQL: the UPDATE, the temporary-data statements and the events as one statement.

    Data-modifying CTEs (``WITH changed AS (UPDATE users ... RETURNING id), ... DELETE FROM tasks
    WHERE user_id IN (SELECT id FROM changed) ...``): one round trip per chunk instead of six, and the
    changed ids are read once, by the database, instead of travelling back as arrays (bench/README.md).
    """
    changed = deactivating.cte("changed")
    in_changed = select(changed.c.id)
    parts = [
        statement.cte(f"temporary_{i}")
        for i, statement in enumerate(_temporary_data(tenant_id, lambda column: column.in_(in_changed), now))
    ]
    parts.append(user_events_insert(tenant_id, actor, "user.deactivated", changed.c.id, None).cte("events"))
    return list(s.scalars(select(changed.c.id).add_cte(*parts)))


def reactivate_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Reactivate deactivated users inside an open unit of work; returns the ids that changed."""
    ids = list(user_ids)
    # The users first, then the tenant's seat lock (check_seats), in the order a single user's change
    # (services.users.change_user: the user FOR UPDATE, then this) takes them: no deadlock between the two.
    pending = (
        list(
            s.scalars(
                select(User.id)
                .where(User.tenant_id == tenant_id, id_in(s, User.id, ids), User.status == "deactivated")
                .order_by(User.id)
                .with_for_update(key_share=True)
            )
        )
        if ids
        else []
    )
    if pending:
        check_seats(s, tenant_id, adding=len(pending))
    changed: list[int] = []
    now = utcnow()
    for chunk in id_chunks(s, ids, CHUNK):
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


def _temporary_data(tenant_id: int, of_users, now) -> list:
    """One statement per kind of temporary data of the users ``of_users(column)`` selects."""
    return [
        delete(Invitation).where(
            Invitation.tenant_id == tenant_id, of_users(Invitation.user_id), Invitation.status == "pending"
        ),
        update(EmailMessage)
        .where(
            EmailMessage.tenant_id == tenant_id,
            of_users(EmailMessage.user_id),
            EmailMessage.kind == "invitation",
            EmailMessage.status == "queued",
        )
        .values(status="cancelled", last_error="Cancelled: the user was deactivated.", updated_at=now)
        .execution_options(synchronize_session=False),
        delete(Task).where(Task.tenant_id == tenant_id, of_users(Task.user_id), Task.status == "open"),
        # "enrolled" means the course has not started for them; in_progress and completed are history.
        delete(Enrollment).where(
            Enrollment.tenant_id == tenant_id, of_users(Enrollment.user_id), Enrollment.status == "enrolled"
        ),
    ]


def delete_users(s: Session, tenant_id: int, user_ids: Sequence[int], actor: Actor) -> list[int]:
    """Delete users permanently inside an open unit of work; returns the ids deleted.

    Everything they own goes with them.  Activity records about them stay, anonymised:
    their details (names, emails) are cleared and only the opaque id remains.
    """
    deleted: list[int] = []
    ids = list(user_ids)
    now = utcnow()
    for piece in chunked(ids, CHUNK):
        chunk = list(s.scalars(select(User.id).where(User.tenant_id == tenant_id, id_in(s, User.id, piece))))
        if not chunk:
            continue
        s.execute(
            update(Group)
            .where(
                Group.tenant_id == tenant_id,
                Group.id.in_(select(Membership.group_id).where(id_in(s, Membership.user_id, chunk))),
            )
            .values(version=Group.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        for model in (Membership, Enrollment, Task, Certificate, Notification, Invitation, EmailMessage):
            s.execute(delete(model).where(model.tenant_id == tenant_id, id_in(s, model.user_id, chunk)))
        s.execute(
            delete(ManagerShare).where(
                ManagerShare.tenant_id == tenant_id,
                id_in(s, ManagerShare.user_id, chunk) | id_in(s, ManagerShare.manager_id, chunk),
            )
        )
        s.execute(
            update(ActivityEvent)
            .where(
                ActivityEvent.tenant_id == tenant_id,
                ActivityEvent.object_type == "user",
                id_in(s, ActivityEvent.object_id, [str(i) for i in chunk]),
            )
            .values(details={"anonymised": True})
            .execution_options(synchronize_session=False)
        )
        record_user_events(s, tenant_id, actor, "user.deleted", chunk, {"anonymised": True})
        end_user_sessions(s, tenant_id, chunk, "deleted")
        deleted.extend(
            s.scalars(
                delete(User).where(User.tenant_id == tenant_id, id_in(s, User.id, chunk)).returning(User.id)
            ).all()
        )
    return deleted
