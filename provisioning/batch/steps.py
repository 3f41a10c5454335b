"""What each batch action does to one chunk of selected users, set-based.

Each step takes the chunk's :class:`StepContext` and the ids of the tenant's users in
the chunk, changes them with a few statements (never one per user), records
activity events set-based (``record_user_events``), and returns an :class:`Outcome`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_user_events
from provisioning.db import id_in, insert_ignoring_conflicts
from provisioning.errors import LimitExceeded
from provisioning.i18n import N_
from provisioning.mail import trigger_events
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import greeting_name, recipient_language, render
from provisioning.models import (
    ExportChunk,
    ManagerShare,
    Tenant,
    User,
    utcnow,
)
from provisioning.runtime import Runtime
from provisioning.services import (
    certificates,
    invitations,
    lifecycle,
    notifications,
    tasks,
)
from provisioning.settings_catalog import stored
from provisioning.store.groups import load_group
from provisioning.store.members import delete_members, ensure_hand_editable, insert_members, touch_group
from provisioning.store.ui_sessions import end_user_sessions

EXPORT_COLUMNS = (
    "id",
    "username",
    "email",
    "given_name",
    "family_name",
    "display_name",
    "status",
    "role",
    "language",
    "department",
    "external_id",
    "created_at",
    "last_login_at",
)


@dataclass
class StepContext:
    s: Session
    rt: Runtime
    tenant_id: int
    operation_id: int
    actor: Actor
    params: dict[str, Any]
    seq: int

    def events(self, user_ids: list[int], action: str, **details: Any) -> None:
        record_user_events(
            self.s, self.tenant_id, self.actor, action, user_ids, {"operation_id": self.operation_id, **details}
        )


@dataclass
class Outcome:
    changed: list[int]
    skipped: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[int, str]] = field(default_factory=list)


Step = Callable[[StepContext, list[int]], Outcome]
"""What an action does to a chunk: the ids of the tenant's users in it -> the outcome."""


def _unchanged(ids: list[int], changed: list[int], reason: str) -> dict[str, int]:
    return {reason: len(ids) - len(changed)} if len(ids) > len(changed) else {}


# --- the steps --------------------------------------------------------------------------------


def deactivate(ctx: StepContext, ids: list[int]) -> Outcome:
    changed = lifecycle.deactivate_users(ctx.s, ctx.tenant_id, ids, ctx.actor)
    return Outcome(changed, _unchanged(ids, changed, "already_deactivated"))


def reactivate(ctx: StepContext, ids: list[int]) -> Outcome:
    try:
        changed = lifecycle.reactivate_users(ctx.s, ctx.tenant_id, ids, ctx.actor)
        trigger_events.seats_assigned(ctx.s, ctx.rt, ctx.tenant_id, changed, operation_id=ctx.operation_id)
    except LimitExceeded as exc:
        refused = list(
            ctx.s.scalars(
                select(User.id).where(
                    User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids), User.status == "deactivated"
                )
            )
        )
        return Outcome([], {"not_deactivated": len(ids) - len(refused)}, [(i, exc.message) for i in refused])
    return Outcome(changed, _unchanged(ids, changed, "not_deactivated"))


def delete(ctx: StepContext, ids: list[int]) -> Outcome:
    return Outcome(lifecycle.delete_users(ctx.s, ctx.tenant_id, ids, ctx.actor))


def add_to_groups(ctx: StepContext, ids: list[int]) -> Outcome:
    changed: set[int] = set()
    for group_id in ctx.params["group_ids"]:
        group = load_group(ctx.s, ctx.tenant_id, group_id)
        ensure_hand_editable(group)
        added = insert_members(ctx.s, ctx.tenant_id, group.id, ids, "manual")
        if added:
            touch_group(ctx.s, group.id)
            ctx.events(added, "user.added_to_group", group_id=group.id)
            trigger_events.members_added(ctx.s, ctx.rt, ctx.tenant_id, group.id, added, operation_id=ctx.operation_id)
        changed.update(added)
    return Outcome(sorted(changed), _unchanged(ids, list(changed), "already_members"))


def remove_from_group(ctx: StepContext, ids: list[int]) -> Outcome:
    group = load_group(ctx.s, ctx.tenant_id, ctx.params["group_id"])
    ensure_hand_editable(group)
    removed = delete_members(ctx.s, group.id, ids)
    if removed:
        touch_group(ctx.s, group.id)
        ctx.events(removed, "user.removed_from_group", group_id=group.id)
    return Outcome(removed, _unchanged(ids, removed, "not_members"))


def _set_attribute(ctx: StepContext, ids: list[int], name: str, value: str) -> Outcome:
    column = getattr(User, name)
    changed = list(
        ctx.s.scalars(
            update(User)
            .where(User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids), or_(column.is_(None), column != value))
            .values(
                {name: value, "version": User.version + 1, "updated_at": utcnow()}
                | ({"role_source": "admin"} if name == "role" else {})  # by hand: the identity provider keeps off it
            )
            .returning(User.id)
            .execution_options(synchronize_session=False)
        )
    )
    ctx.events(changed, "user.updated", changed=[name], **{name: value})
    if name == "role":
        end_user_sessions(ctx.s, ctx.tenant_id, changed, "role_changed")
    return Outcome(changed, _unchanged(ids, changed, "unchanged"))


def change_role(ctx: StepContext, ids: list[int]) -> Outcome:
    return _set_attribute(ctx, ids, "role", ctx.params["role"])


def change_language(ctx: StepContext, ids: list[int]) -> Outcome:
    return _set_attribute(ctx, ids, "language", ctx.params["language"])


def _without_email(ctx: StepContext, ids: list[int], status: str) -> list[int]:
    return list(
        ctx.s.scalars(
            select(User.id).where(
                User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids), User.status == status, User.email.is_(None)
            )
        )
    )


def resend_invite(ctx: StepContext, ids: list[int]) -> Outcome:
    sent = invitations.send_invitations(ctx.s, ctx.rt, ctx.tenant_id, ids, ctx.actor, operation_id=ctx.operation_id)
    failed = [(i, N_("The user has no email address.")) for i in _without_email(ctx, ids, "invited")]
    return Outcome(
        sent, {"not_invited": len(ids) - len(sent) - len(failed)} if len(ids) > len(sent) + len(failed) else {}, failed
    )


def password_reset(ctx: StepContext, ids: list[int]) -> Outcome:
    tenant = ctx.s.get_one(Tenant, ctx.tenant_id)
    reset_url = invitations.tenant_link(tenant, "password_reset_url", "tenant.settings.password_reset_url")
    default_language = stored(tenant.settings, "default_language")
    users = ctx.s.execute(
        select(User.id, User.email, User.given_name, User.display_name, User.username, User.language)
        .where(
            User.tenant_id == ctx.tenant_id,
            id_in(ctx.s, User.id, ids),
            User.status == "active",
            User.email.is_not(None),
        )
        .order_by(User.id)
    ).all()
    queue_emails(
        ctx.s,
        ctx.rt,
        ctx.tenant_id,
        (
            (
                u.id,
                u.email,
                render(
                    "password_reset",
                    {"tenant_name": tenant.name, "name": greeting_name(u), "reset_url": reset_url},
                    language=recipient_language(u.language, default_language),
                ),
            )
            for u in users
        ),
        "password_reset",
        operation_id=ctx.operation_id,
    )
    sent = [u.id for u in users]
    ctx.events(sent, "user.password_reset_sent")
    failed = [(i, N_("The user has no email address.")) for i in _without_email(ctx, ids, "active")]
    rest = len(ids) - len(sent) - len(failed)
    return Outcome(sent, {"not_active": rest} if rest else {}, failed)


def notify(ctx: StepContext, ids: list[int]) -> Outcome:
    delivered, kept = notifications.notify_users(
        ctx.s,
        ctx.rt,
        ctx.tenant_id,
        ids,
        ctx.params["subject"],
        ctx.params["body"],
        ctx.actor.name,
        operation_id=ctx.operation_id,
    )
    ctx.events(delivered, "user.notified", delivered=True)
    ctx.events(kept, "user.notified", delivered=False)
    skipped = {"deactivated": len(ids) - len(delivered) - len(kept)} if len(ids) > len(delivered) + len(kept) else {}
    if kept:
        skipped["kept_until_joined"] = len(kept)
    return Outcome(sorted(delivered + kept), skipped)


def add_task(ctx: StepContext, ids: list[int]) -> Outcome:
    due = ctx.params.get("due_date")
    changed = tasks.add_tasks(
        ctx.s, ctx.tenant_id, ids, ctx.params["title"], date.fromisoformat(due) if due else None, ctx.actor.name
    )
    ctx.events(changed, "user.task_added", title=ctx.params["title"])
    return Outcome(changed, _unchanged(ids, changed, "deactivated"))


def assign_certificate(ctx: StepContext, ids: list[int]) -> Outcome:
    changed = certificates.assign_certificates(
        ctx.s, ctx.tenant_id, ids, ctx.params["name"], date.fromisoformat(ctx.params["issued_on"]), ctx.actor.name
    )
    ctx.events(changed, "user.certificate_assigned", name=ctx.params["name"])
    return Outcome(changed)


def share(ctx: StepContext, ids: list[int]) -> Outcome:
    manager_id = ctx.params["manager_id"]
    rows = select(
        literal(manager_id),
        User.id,
        literal(ctx.tenant_id),
        literal(ctx.actor.name),
        literal(utcnow(), type_=ManagerShare.created_at.type),
    ).where(User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids), User.id != manager_id)
    stmt = (
        insert_ignoring_conflicts(ctx.s, ManagerShare.__table__)
        .from_select(
            ["manager_id", "user_id", "tenant_id", "shared_by", "created_at"],
            rows,
        )
        .returning(ManagerShare.__table__.c.user_id)
    )
    changed = sorted(ctx.s.scalars(stmt).all())
    ctx.events(changed, "user.shared", manager_id=manager_id)
    return Outcome(changed, _unchanged(ids, changed, "already_shared"))


def _csv_cell(value: Any) -> str:
    text = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    # Spreadsheets run cells that start like a formula (OWASP "CSV injection"); make them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_header() -> str:
    out = io.StringIO()
    csv.writer(out).writerow(EXPORT_COLUMNS)
    return out.getvalue()


def export_csv(ctx: StepContext, ids: list[int]) -> Outcome:
    rows = ctx.s.execute(
        select(*(getattr(User, c) for c in EXPORT_COLUMNS))
        .where(User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids))
        .order_by(User.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    ctx.s.execute(
        insert_ignoring_conflicts(ctx.s, ExportChunk.__table__).values(
            operation_id=ctx.operation_id, seq=ctx.seq, tenant_id=ctx.tenant_id, content=out.getvalue()
        )
    )
    changed = [r.id for r in rows]
    ctx.events(changed, "user.exported")
    return Outcome(changed)
