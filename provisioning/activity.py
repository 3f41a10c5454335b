"""The audit log: record events inside the caller's transaction; read them back per tenant."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, text
from sqlalchemy.orm import Session

from provisioning.chunking import chunked
from provisioning.db import id_in
from provisioning.models import ActivityEvent, User, utcnow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.sql import json_text


@dataclass(frozen=True)
class Actor:
    """Who acts, and through which channel (scim, api, ui, lti, job, rule, cli).

    ``user_id``: the tenant user acting, when the actor is one (a UI session); the core refuses
    that user the actions that would end their own access (see provisioning.batch.registry).
    """

    name: str
    channel: str
    user_id: int | None = None

    @classmethod
    def system(cls, channel: str = "job") -> Actor:
        return cls(name="system", channel=channel)


def record(
    session: Session,
    tenant_id: int,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: Any = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the caller's unit of work (it commits with the change it describes)."""
    session.add(
        ActivityEvent(
            tenant_id=tenant_id,
            actor=actor.name,
            channel=actor.channel,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            details=details or {},
            created_at=utcnow(),
        )
    )


RECORD_MANY_CHUNK = 10_000
# On PostgreSQL the rows travel as one JSON document unpacked by jsonb_to_recordset: one statement
# and one bind parameter per chunk.  An executemany of dicts (1000-row VALUES batches, 8 parameters a
# row) made the events ~80% of a member import's job time (bench/, issue 9).
_INSERT_FROM_JSON = text(
    "INSERT INTO activity_events (tenant_id, actor, channel, action, object_type, object_id, details, created_at) "
    "SELECT tenant_id, actor, channel, action, object_type, object_id, coalesce(details, '{}'::jsonb), "
    "coalesce(created_at, now()) FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(tenant_id bigint, actor text, "
    "channel text, action text, object_type text, object_id text, details jsonb, created_at timestamptz)"
)


def event_row(
    tenant_id: int, actor: Actor, action: str, object_type: str, object_id: Any, details: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """One row for :func:`record_many`."""
    return dict(
        tenant_id=tenant_id,
        actor=actor.name,
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        created_at=at,
    )


def record_many(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert many events in few statements (bulk jobs record one event per change)."""
    rows = list(rows)
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(ActivityEvent), rows)
        return
    for chunk in chunked(rows, RECORD_MANY_CHUNK):
        doc = json.dumps(chunk, default=_json_value, separators=(",", ":"))
        session.execute(_INSERT_FROM_JSON, {"rows": doc})


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class EventFilter:
    """Which events a log shows: always the tenant's, and within ``visible`` (e.g. a manager's scope)."""

    action: str | None = None
    channel: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    group_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    visible: Any = None

    def statement(self, tenant_id: int):
        """The filtered SELECT, newest first (created_at, then id: a total order, for keyset reads)."""
        stmt = select(ActivityEvent).where(ActivityEvent.tenant_id == tenant_id)
        if self.visible is not None:
            stmt = stmt.where(self.visible)
        if self.action:
            stmt = stmt.where(ActivityEvent.action == self.action)
        if self.channel:
            stmt = stmt.where(ActivityEvent.channel == self.channel)
        if self.object_type:
            stmt = stmt.where(ActivityEvent.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(ActivityEvent.object_id == self.object_id)
        if self.group_id is not None:
            stmt = stmt.where(
                or_(
                    (ActivityEvent.object_type == "group") & (ActivityEvent.object_id == str(self.group_id)),
                    json_text(ActivityEvent.details, "group_id") == str(self.group_id),
                )
            )
        if self.since:
            stmt = stmt.where(ActivityEvent.created_at >= self.since)
        if self.until:
            stmt = stmt.where(ActivityEvent.created_at < self.until)
        return stmt.order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())


def list_events(
    rt: Runtime,
    tenant_id: int,
    *,
    action: str | None = None,
    channel: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    group_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
    visible: Any = None,
) -> Page[ActivityEvent]:
    """Newest first, filtered; always scoped to the tenant (and to ``visible``, e.g. a manager's scope)."""
    where = EventFilter(action, channel, object_type, object_id, group_id, since, until, visible)
    return page_events(rt, tenant_id, where, page=page, per_page=per_page)


def page_events(rt: Runtime, tenant_id: int, where: EventFilter, *, page: int = 1, per_page: int = 50):
    """One page of the events ``where`` selects, newest first."""
    with rt.db.read() as s:
        return paginate(s, where.statement(tenant_id), page, per_page)


EXPORT_CHUNK = 500


def iter_events(
    rt: Runtime, tenant_id: int, where: EventFilter, *, chunk: int = EXPORT_CHUNK
) -> Iterator[list[ActivityEvent]]:
    """Every event ``where`` selects, newest first, in chunks of ``chunk``: each a keyset read (after the
    last row's (created_at, id)) in a short transaction of its own, so memory stays bounded however long
    the log, and no connection is held between chunks."""
    after: tuple[datetime, int] | None = None
    while True:
        stmt = where.statement(tenant_id)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(
                or_(
                    ActivityEvent.created_at < at,
                    and_(ActivityEvent.created_at == at, ActivityEvent.id < last_id),
                )
            )
        with rt.db.read() as s:
            rows = list(s.scalars(stmt.limit(chunk)))
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        after = (rows[-1].created_at, rows[-1].id)


def record_user_events(
    session: Session,
    tenant_id: int,
    actor: Actor,
    action: str,
    user_ids: Iterable[int],
    details: dict[str, Any] | None = None,
) -> None:
    """The set-based form of :func:`record_many` for one action on many users: one INSERT ... SELECT."""
    ids = list(user_ids)
    if not ids:
        return
    session.execute(
        user_events_insert(
            tenant_id, actor, action, User.id, details, User.tenant_id == tenant_id, id_in(session, User.id, ids)
        )
    )


def user_events_insert(
    tenant_id: int, actor: Actor, action: str, user_id: Any, details: dict[str, Any] | None, *where: Any
):
    """``INSERT INTO activity_events SELECT ... <one event per user_id>``: the rows come from the
    table (or CTE) ``user_id`` belongs to, filtered by ``where``."""
    from sqlalchemy import String, cast, literal

    rows = select(
        literal(tenant_id),
        literal(actor.name),
        literal(actor.channel),
        literal(action),
        literal("user"),
        cast(user_id, String),
        literal(details or {}, type_=ActivityEvent.details.type),
        literal(utcnow(), type_=ActivityEvent.created_at.type),
    ).where(*where)
    if not where:
        rows = rows.select_from(user_id.table)
    return insert(ActivityEvent.__table__).from_select(
        ["tenant_id", "actor", "channel", "action", "object_type", "object_id", "details", "created_at"], rows
    )


def deleted_group_names(rt: Runtime, tenant_id: int, group_ids: Iterable[int]) -> dict[int, str]:
    """The names deleted groups had, from their ``group.deleted`` events (one query)."""
    keys = sorted({str(i) for i in group_ids})
    if not keys:
        return {}
    stmt = select(ActivityEvent.object_id, ActivityEvent.details).where(
        ActivityEvent.tenant_id == tenant_id,
        ActivityEvent.action == "group.deleted",
        ActivityEvent.object_type == "group",
        ActivityEvent.object_id.in_(keys),
    )
    with rt.db.read() as s:
        return {
            int(oid): str(details["name"])
            for oid, details in s.execute(stmt)
            if isinstance(details, dict) and details.get("name")
        }
