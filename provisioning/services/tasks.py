"""Tasks set for users: open until completed.  Open tasks are temporary data, completed ones permanent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import id_in
from provisioning.errors import InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import Task, User, utcnow
from provisioning.models.engagement import TASK_STATUSES
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.store.users import load_user


def add_tasks(
    s: Session, tenant_id: int, user_ids: Sequence[int], title: str, due_date: date | None, assigned_by: str
) -> list[int]:
    """Give each of ``user_ids`` who is not deactivated a new open task, in one INSERT ... SELECT."""
    now = literal(utcnow(), type_=Task.created_at.type)
    rows = select(
        literal(tenant_id),
        User.id,
        literal(title),
        literal(due_date, type_=Task.due_date.type),
        literal("open"),
        literal(assigned_by),
        now,
    ).where(User.tenant_id == tenant_id, id_in(s, User.id, list(user_ids)), User.status != "deactivated")
    stmt = (
        Task.__table__.insert()
        .from_select(
            ["tenant_id", "user_id", "title", "due_date", "status", "assigned_by", "created_at"],
            rows,
        )
        .returning(Task.__table__.c.user_id)
    )
    return sorted(s.scalars(stmt).all())


def list_tasks(
    rt: Runtime, tenant_id: int, user_id: int, *, status: str | None = None, page: int = 1, per_page: int = 50
) -> Page[Any]:
    """A user's tasks, soonest due first."""
    if status and status not in TASK_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(TASK_STATUSES))]},
            status=status,
        )
    with rt.db.read() as s:
        load_user(s, tenant_id, user_id)
        stmt = select(Task).where(Task.tenant_id == tenant_id, Task.user_id == user_id)
        if status:
            stmt = stmt.where(Task.status == status)
        return paginate(s, stmt.order_by(Task.due_date.is_(None), Task.due_date, Task.id), page, per_page)


def set_task_status(rt: Runtime, tenant_id: int, user_id: int, task_id: int, status: str, actor: Actor) -> Task:
    """Mark a user's task open or completed."""
    if status not in TASK_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(TASK_STATUSES))]},
            status=status,
        )
    with rt.db.transaction() as s:
        load_user(s, tenant_id, user_id)
        task = s.scalar(
            select(Task)
            .where(Task.id == task_id, Task.tenant_id == tenant_id, Task.user_id == user_id)
            .with_for_update()
        )
        if task is None:
            raise NotFound(N_("User %(user_id)s has no task with id %(task_id)s."), user_id=user_id, task_id=task_id)
        if task.status != status:
            task.status = status
            task.completed_at = utcnow() if status == "completed" else None
            record(
                s,
                tenant_id,
                actor,
                f"task.{'completed' if status == 'completed' else 'reopened'}",
                "user",
                user_id,
                {"task_id": task.id},
            )
    return task
