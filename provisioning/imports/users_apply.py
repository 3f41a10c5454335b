"""Apply one chunk of a users import: update the existing users, create the missing ones.

Both are set-based over the staged rows: ``UPDATE users ... FROM import_rows`` for the users
whose email existed when the file was staged (blank cells keep the current value), ``INSERT
INTO users ... SELECT`` for the others, created with status invited.  The seat limit is
checked per chunk.  The rows applied are not rewritten (the report derives "Updated" or
"Created" from whether the row had a user); unchanged and failed rows are marked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, text, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from provisioning.activity import Actor
from provisioning.db import id_in
from provisioning.errors import LimitExceeded
from provisioning.i18n import N_, Message
from provisioning.imports.events import record_events, reevaluate_rules
from provisioning.imports.inserts import insert_from
from provisioning.imports.marks import mark_rows, same_email, user_gone
from provisioning.mail import trigger_events
from provisioning.models import Tenant, User, utcnow
from provisioning.models.imports import STAGED_USER_FIELDS, Import, ImportRow
from provisioning.runtime import Runtime
from provisioning.store.ui_sessions import settle_user_sessions
from provisioning.store.users import check_seats, count_seats


def check_seats_for(s: Session, imp: Import, adding: int) -> None:
    """Refuse (LimitExceeded) an import that would create more users than the tenant has seats left."""
    try:
        check_seats(s, imp.tenant_id, adding=adding)
    except LimitExceeded as exc:
        limit = s.scalar(select(Tenant.seat_limit).where(Tenant.id == imp.tenant_id)) or 0  # set: check_seats refused
        used = count_seats(s, imp.tenant_id)
        raise LimitExceeded(
            N_(
                "This import would create %(adding)s users, but the tenant uses %(used)s of its %(seats)s seats "
                "(%(left)s left). Exclude rows or raise the seat limit."
            ),
            limit="seats",
            adding=adding,
            used=used,
            seats=limit,
            left=max(limit - used, 0),
        ) from exc


def _custom_merge(s: Session):
    users, rows = User.__table__.c, ImportRow.__table__.c
    merged: ColumnElement[Any]
    differs: ColumnElement[bool]
    if s.get_bind().dialect.name == "postgresql":
        merged = users.custom_attributes.op("||")(rows.custom_attributes)
        differs = ~users.custom_attributes.op("@>", is_comparison=True)(rows.custom_attributes)
    else:
        merged = func.json_patch(users.custom_attributes, rows.custom_attributes)
        differs = func.json_patch(users.custom_attributes, rows.custom_attributes) != func.json(users.custom_attributes)
    return func.coalesce(merged, users.custom_attributes), and_(rows.custom_attributes.is_not(None), differs)


def apply_users_chunk(rt: Runtime, s: Session, imp: Import, chunk, actor: Actor) -> dict[str, int]:
    """Update the chunk's existing users, create the new ones; only unchanged or failed rows are marked."""
    users, rows = User.__table__, ImportRow.__table__
    ok = and_(chunk, rows.c.status == "ok")
    existing, new = s.execute(
        select(func.count(rows.c.user_id), func.count().filter(rows.c.user_id.is_(None))).where(ok)
    ).one()
    skipped = errors = 0
    now = utcnow()
    updated: list[int] = []
    if existing:
        merged, custom_differs = _custom_merge(s)
        differs = or_(
            custom_differs,
            *(and_(rows.c[f].is_not(None), users.c[f].is_distinct_from(rows.c[f])) for f in STAGED_USER_FIELDS),
        )
        same = exists().where(users.c.id == rows.c.user_id, ~differs)
        skipped = mark_rows(
            s,
            and_(chunk, rows.c.user_id.is_not(None), same),
            "skipped",
            N_("Unchanged: the user already has these values."),
        )
        updated = _update_existing(s, imp, chunk, merged, differs, now)
        settle_user_sessions(s, imp.tenant_id, updated)  # a row that changed a role ends that user's UI sessions
        if len(updated) < existing - skipped:
            errors += mark_rows(
                s,
                and_(chunk, rows.c.user_id.is_not(None), user_gone(imp.tenant_id)),
                "error",
                N_("Not updated: the user was deleted since the preview."),
            )
    created: list[tuple[int, str]] = []
    if new:
        try:
            check_seats_for(s, imp, new)
        except LimitExceeded as exc:
            errors += mark_rows(
                s,
                and_(chunk, rows.c.user_id.is_(None)),
                "error",
                Message(N_("Not created: %(reason)s"), reason=exc.message),
            )
        else:
            created = _insert_users(s, imp, chunk, now)
            if len(created) < new:
                made = exists().where(
                    users.c.tenant_id == imp.tenant_id,
                    same_email(User),
                    id_in(s, users.c.id, [uid for uid, _ in created]),
                )
                errors += mark_rows(
                    s,
                    and_(chunk, rows.c.user_id.is_(None), ~made),
                    "error",
                    N_("Not created: another user has this username or email."),
                )
    record_events(s, imp, actor, "user.updated", "user", updated)
    record_events(
        s, imp, actor, "user.created", "user", [uid for uid, _ in created], username=[name for _, name in created]
    )
    reevaluate_rules(rt, s, imp.tenant_id, sorted(set(updated) | {uid for uid, _ in created}))
    # New users take a seat (they are invited, not deactivated): the seat_assigned notification, set-based.
    trigger_events.seats_assigned(s, rt, imp.tenant_id, [uid for uid, _ in created], operation_id=imp.operation_id)
    return {
        "applied": existing + new - skipped - errors,
        "skipped": skipped,
        "errors": errors,
        "users_created": len(created),
        "users_updated": len(updated),
    }


def _update_existing(s: Session, imp: Import, chunk, merged, differs, now) -> list[int]:
    """UPDATE users ... FROM import_rows for the chunk's rows naming an existing user; blank cells keep values."""
    users, rows = User.__table__, ImportRow.__table__
    values: dict[str, Any] = {f: func.coalesce(rows.c[f], users.c[f]) for f in (*STAGED_USER_FIELDS, "username_key")}
    # A role a users file changes is given by hand: the identity provider's role map leaves it alone (role_maps.py).
    values["role_source"] = case(
        (and_(rows.c.role.is_not(None), rows.c.role != users.c.role), literal("admin")), else_=users.c.role_source
    )
    return update_users_from_rows(
        s, imp, and_(chunk, rows.c.status == "ok"), differs, now, custom_attributes=merged, **values
    )


def update_users_from_rows(s: Session, imp: Import, staged, differs, now, **values: Any) -> list[int]:
    """``UPDATE users ... FROM import_rows``: the tenant's users the ``staged`` rows name, where ``differs``,
    to ``values``; returns the ids updated (each once)."""
    users, rows = User.__table__, ImportRow.__table__
    with index_lookups(s):
        updated = s.execute(
            update(users)
            .where(users.c.id == rows.c.user_id, users.c.tenant_id == imp.tenant_id, staged, differs)
            .values(**values, version=users.c.version + 1, updated_at=now)
            .returning(users.c.id)
        ).scalars()
        return sorted(set(updated))


@contextmanager
def index_lookups(s: Session) -> Iterator[None]:
    """On PostgreSQL, plan the statements inside as nested loops over indexes.

    A chunk joins a couple of thousand staged rows to users by primary key; with the users
    table's statistics stale after a bulk load the planner may prefer hashing all of users,
    once per chunk.  SET LOCAL only lasts for this transaction; the settings are reset after.
    """
    postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        s.execute(text("SET LOCAL enable_hashjoin = off"))
        s.execute(text("SET LOCAL enable_mergejoin = off"))
    yield
    if postgres:
        s.execute(text("RESET enable_hashjoin"))
        s.execute(text("RESET enable_mergejoin"))


def _insert_users(s: Session, imp: Import, chunk, now) -> list[tuple[int, str]]:
    users = User.__table__
    fields = [f for f in STAGED_USER_FIELDS if f != "username"]
    source = select(
        literal(imp.tenant_id),
        func.coalesce(ImportRow.username, ImportRow.value, ImportRow.email),
        func.coalesce(ImportRow.username_key, ImportRow.email),  # the email's key when the username is the email
        func.coalesce(ImportRow.value, ImportRow.email),
        ImportRow.email,
        *(func.coalesce(ImportRow.role, "learner") if f == "role" else getattr(ImportRow, f) for f in fields),
        literal("invited"),
        literal(True),
        func.coalesce(ImportRow.custom_attributes, literal({}, users.c.custom_attributes.type)),
        literal({}, users.c.extra.type),
        literal(now, users.c.created_at.type),
        literal(now, users.c.updated_at.type),
        literal(1),
    ).where(chunk, ImportRow.status == "ok", ImportRow.user_id.is_(None), true())
    columns = [
        "tenant_id",
        "username",
        "username_key",
        "email",
        "email_key",
        *fields,
        "status",
        "active",
        "custom_attributes",
        "extra",
        "created_at",
        "updated_at",
        "version",
    ]
    return insert_from(s, users, columns, source, (users.c.id, users.c.username))
