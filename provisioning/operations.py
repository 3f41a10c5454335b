"""Operations: the durable record of background work.

The row is written in the caller's transaction and the job is enqueued only
after that transaction commits.  The job side claims the row atomically,
reports progress and checkpoints, checks for a Stop request between chunks,
and records the outcome.  A crashed or lost job is found again by
:func:`find_lost` and re-enqueued; the claim makes a second copy harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import BigInteger, ColumnElement, and_, cast, or_, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import affected, on_commit
from provisioning.errors import InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import FINISHED_STATUSES, OPERATION_STATUSES, OPERATION_TYPES, Operation, utcnow
from provisioning.models.imports import Import
from provisioning.observability.context import current_request_id
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

# The worker running the current thread's job (set by the runner), so that a chunk's
# progress write can check that this worker still owns the operation.
_acting_worker: ContextVar[str | None] = ContextVar("operation_worker", default=None)


@dataclass
class Checkpoint:
    """Where a chunked job is, typed; stored on its Operation as JSON after every chunk.

    Subclasses declare their fields with start values.  A stored checkpoint of any earlier
    version loads (missing keys take their start values, unknown ones are dropped), and
    ``None`` fields are left out of the JSON, as they were before the checkpoints were typed.
    """

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Self:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class LostOwnership(RuntimeError):
    """Another worker took the operation over (this one looked dead); this one must stop."""


def start_operation(
    session: Session,
    rt: Runtime,
    tenant_id: int,
    type: str,
    params: dict[str, Any],
    actor: Actor,
    *,
    total: int | None = None,
    logged_params: dict[str, Any] | None = None,
) -> Operation:
    """Add a queued Operation to the caller's unit of work and enqueue it after commit.

    ``logged_params``: what the "requested" event records instead of ``params`` (when those hold a
    long list, e.g. the ids of the users an evaluation covers).
    """
    op = Operation(
        tenant_id=tenant_id,
        type=type,
        status="queued",
        params=params,
        progress_total=total,
        requested_by=actor.name,
        created_at=utcnow(),
        request_id=current_request_id(),
    )
    session.add(op)
    session.flush()
    record(
        session,
        tenant_id,
        actor,
        f"operation.{type}.requested",
        "operation",
        op.id,
        {"params": params if logged_params is None else logged_params},
    )
    op_id = op.id
    on_commit(session, lambda: enqueue_quietly(rt, op_id))
    return op


def enqueue_quietly(rt: Runtime, operation_id: int) -> None:
    """Enqueue the job of a committed Operation; if the queue is down, log it and carry on.

    The row stays queued either way, and ``jobs.sweep.requeue_lost`` enqueues it later.
    """
    try:
        rt.queue.enqueue(operation_id)
    except Exception as exc:  # noqa: BLE001 - any queue failure is recoverable by the sweep
        log.warning(
            "operation %s recorded but not enqueued (%s); it will be picked up by the sweep",
            operation_id,
            type(exc).__name__,
        )


def count_active(rt: Runtime) -> dict[str, int]:
    """How many Operations (all tenants) are queued and running: one grouped count, for /metrics."""
    from sqlalchemy import func

    with rt.db.read() as s:
        rows = s.execute(
            select(Operation.status, func.count())
            .where(Operation.status.in_(("queued", "running")))
            .group_by(Operation.status)
        ).all()
    return {"queued": 0, "running": 0, **{status: count for status, count in rows}}


def get_operation(rt: Runtime, tenant_id: int, operation_id: int) -> Operation:
    with rt.db.read() as s:
        op = s.get(Operation, operation_id)
        if op is None or op.tenant_id != tenant_id:
            raise NotFound(N_("No operation with id %(operation_id)s."), operation_id=operation_id)
        return op


def _about_group(group_id: int) -> ColumnElement[bool]:
    def param(*path: str) -> ColumnElement[int]:
        # Ids are BIGINT: read the JSON value as text and cast it (as_integer() is a 32-bit INTEGER on PostgreSQL).
        return cast(Operation.params[path if len(path) > 1 else path[0]].as_string(), BigInteger)

    return or_(
        param("group_id") == group_id,
        param("selection", "group_id") == group_id,
        and_(Operation.type == "import", param("import_id").in_(select(Import.id).where(Import.group_id == group_id))),
    )


def list_operations(
    rt: Runtime,
    tenant_id: int,
    *,
    type: str | None = None,
    action: str | None = None,
    status: str | None = None,
    group_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
    visible: Any = None,
) -> Page[Operation]:
    """The action log, newest first; ``visible`` (a condition, e.g. :func:`.permissions.operation_scope`) narrows it.

    ``action`` keeps the operations of that bulk action (the "action" their params record, e.g. a batch
    action's name); the caller checks it against its registry (provisioning.batch.registry.check_action).
    ``group_id`` keeps the operations about that group: those whose params name it (copy, rule evaluation,
    a batch action on its members) and the imports into it.
    """
    if status and status not in OPERATION_STATUSES:
        raise InvalidInput(
            N_("Unknown status %(status)r."),
            details={"status": [Message(N_("Must be one of %(choices)s."), choices=", ".join(OPERATION_STATUSES))]},
            status=status,
        )
    if type and type not in OPERATION_TYPES:
        raise InvalidInput(
            N_("Unknown operation type %(type)r."),
            details={"type": [Message(N_("Must be one of %(choices)s."), choices=", ".join(OPERATION_TYPES))]},
            type=type,
        )
    stmt = select(Operation).where(Operation.tenant_id == tenant_id)
    if visible is not None:
        stmt = stmt.where(visible)
    if type:
        stmt = stmt.where(Operation.type == type)
    if action:
        stmt = stmt.where(Operation.params["action"].as_string() == action)
    if status:
        stmt = stmt.where(Operation.status == status)
    if group_id is not None:
        stmt = stmt.where(_about_group(group_id))
    if since:
        stmt = stmt.where(Operation.created_at >= since)
    if until:
        stmt = stmt.where(Operation.created_at < until)
    stmt = stmt.order_by(Operation.created_at.desc(), Operation.id.desc())
    with rt.db.read() as s:
        return paginate(s, stmt, page, per_page)


def cancel_operation(rt: Runtime, tenant_id: int, operation_id: int, actor: Actor) -> Operation:
    """Ask a job to stop.  A queued one is cancelled at once; a running one stops between chunks."""
    with rt.db.transaction() as s:
        op = s.get(Operation, operation_id, with_for_update=True)
        if op is None or op.tenant_id != tenant_id:
            raise NotFound(N_("No operation with id %(operation_id)s."), operation_id=operation_id)
        if op.status in FINISHED_STATUSES:
            return op
        op.cancel_requested = True
        if op.status == "queued":
            op.status = "cancelled"
            op.finished_at = utcnow()
            op.result = {**(op.result or {}), "cancelled": True}
        record(s, tenant_id, actor, "operation.cancel", "operation", op.id, {"type": op.type})
    return op


# --- the job side -----------------------------------------------------------------------------


def claim(rt: Runtime, operation_id: int, worker: str) -> Operation | None:
    """Atomically take a queued (or abandoned running) operation; None if someone else has it."""
    now = utcnow()
    stale = now - timedelta(seconds=rt.settings.operation_stale_seconds)
    with rt.db.transaction() as s:
        claimed = affected(
            s.execute(
                update(Operation)
                .where(
                    Operation.id == operation_id,
                    or_(
                        Operation.status == "queued",
                        (Operation.status == "running") & (Operation.heartbeat_at < stale),
                    ),
                )
                .values(status="running", worker=worker, heartbeat_at=now, attempts=Operation.attempts + 1)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed != 1:
            return None
        op = s.get_one(Operation, operation_id)
        if op.started_at is None:
            op.started_at = now
    return op


@contextmanager
def acting_as(worker: str) -> Iterator[None]:
    """Mark the current thread as ``worker`` running its claimed operation (see :func:`save_progress`)."""
    token = _acting_worker.set(worker)
    try:
        yield
    finally:
        _acting_worker.reset(token)


def heartbeat(rt: Runtime, operation_id: int, worker: str | None = None) -> None:
    """Tell the sweep this operation's worker is alive (only while ``worker`` still owns it)."""
    stmt = update(Operation).where(Operation.id == operation_id, Operation.status == "running")
    if worker is not None:
        stmt = stmt.where(Operation.worker == worker)
    with rt.db.transaction() as s:
        s.execute(stmt.values(heartbeat_at=utcnow()))


def save_progress(
    session: Session,
    operation_id: int,
    *,
    done: int | None = None,
    total: int | None = None,
    checkpoint: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Record progress inside the chunk's own transaction, so progress and work commit together.

    Inside the runner this is also a fence: if another worker has taken the operation over
    (this one stopped heart-beating, e.g. it was frozen), it raises :class:`LostOwnership`
    and the chunk's transaction rolls back, so no chunk is ever applied by two workers.
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    if result is not None:
        values["result"] = result
    stmt = update(Operation).where(Operation.id == operation_id)
    worker = _acting_worker.get()
    if worker is not None:
        stmt = stmt.where(Operation.worker == worker, Operation.status == "running")
    updated = affected(session.execute(stmt.values(**values).execution_options(synchronize_session=False)))
    if worker is not None and updated != 1:
        raise LostOwnership(f"operation {operation_id} is no longer run by {worker}")


def cancel_requested(rt: Runtime, operation_id: int) -> bool:
    with rt.db.read() as s:
        return bool(s.scalar(select(Operation.cancel_requested).where(Operation.id == operation_id)))


def finish(
    rt: Runtime,
    operation_id: int,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    errors: list[Any] | None = None,
    worker: str | None = None,
) -> bool:
    """Mark the operation succeeded, cancelled or failed, and log it.

    With ``worker``, only while that worker still runs it; returns whether it was marked.
    """
    assert status in FINISHED_STATUSES
    with rt.db.transaction() as s:
        op = s.get(Operation, operation_id, with_for_update=True)
        if op is None or (worker is not None and (op.status != "running" or op.worker != worker)):
            return False
        op.status = status
        op.finished_at = utcnow()
        if result is not None:
            op.result = result
        if errors is not None:
            op.errors = errors
        record(
            s,
            op.tenant_id,
            Actor.system("job"),
            f"operation.{op.type}.{status}",
            "operation",
            op.id,
            {"result": op.result, "error_count": len(op.errors or [])},
        )
    return True


def release(rt: Runtime, operation_id: int, worker: str) -> bool:
    """Hand a running operation back to the queue (its worker is shutting down gracefully).

    The committed checkpoint stays, so the next run resumes after the last finished
    chunk.  A graceful hand-back is not a failed attempt, so ``attempts`` is given back.
    """
    with rt.db.transaction() as s:
        released = affected(
            s.execute(
                update(Operation)
                .where(Operation.id == operation_id, Operation.status == "running", Operation.worker == worker)
                .values(status="queued", worker=None, attempts=Operation.attempts - 1)
                .execution_options(synchronize_session=False)
            )
        )
    return released == 1


@dataclass(frozen=True)
class LostOperations:
    queued: list[int]
    """Queued, but the job queue does not hold their job (enqueue failed, Redis lost it)."""
    stale: list[tuple[int, int]]
    """(id, attempts) of running operations whose heartbeat stopped (their worker died)."""


def find_lost(
    rt: Runtime, *, pending: Collection[int], waiting: Collection[int] = (), queued_older_than: timedelta = timedelta(0)
) -> LostOperations:
    """Operations that should be running or queued in the job queue but are not.

    ``pending`` holds the ids the job queue still has a job for (waiting or started);
    ``waiting`` those with a job not started yet.  A stale running operation with a waiting
    job was already re-enqueued.  Queued rows younger than ``queued_older_than`` are left
    alone (their enqueue may be under way).
    """
    now = utcnow()
    stale = now - timedelta(seconds=rt.settings.operation_stale_seconds)
    with rt.db.read() as s:
        rows = s.execute(
            select(Operation.id, Operation.status, Operation.attempts)
            .where(
                or_(
                    (Operation.status == "queued") & (Operation.created_at <= now - queued_older_than),
                    (Operation.status == "running") & (Operation.heartbeat_at < stale),
                )
            )
            .order_by(Operation.id)
        ).all()
    pending, waiting = set(pending), set(waiting)
    return LostOperations(
        queued=[r.id for r in rows if r.status == "queued" and r.id not in pending],
        stale=[(r.id, r.attempts) for r in rows if r.status == "running" and r.id not in waiting],
    )


def fail_abandoned(rt: Runtime, operation_id: int, attempts: int) -> bool:
    """Give up on an operation whose workers kept dying; True if it was still abandoned."""
    stale = utcnow() - timedelta(seconds=rt.settings.operation_stale_seconds)
    with rt.db.transaction() as s:
        op = s.get(Operation, operation_id, with_for_update=True)
        if op is None or op.status != "running" or op.heartbeat_at is None or op.heartbeat_at >= stale:
            return False
        op.status = "failed"
        op.finished_at = utcnow()
        op.errors = [
            *(op.errors or []),
            {
                "code": "abandoned",
                "message": Message(
                    N_(
                        "The job was interrupted %(attempts)s times (its worker stopped each time, for example "
                        "out of memory) and was not retried again. Work done so far is kept; start it again "
                        "to finish."
                    ),
                    attempts=attempts,
                ),
            },
        ]
        record(
            s,
            op.tenant_id,
            Actor.system("job"),
            f"operation.{op.type}.failed",
            "operation",
            op.id,
            {"result": op.result, "error_count": len(op.errors)},
        )
    return True
