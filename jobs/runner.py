"""Run one Operation to completion: claim it, loop over chunks, record the outcome.

The same code runs on the in-process thread (embedded default) and in an RQ worker.
Between chunks it checks two things: a Stop request on the Operation (the admin
cancelled it) and a shutdown request of this process (SIGTERM to the worker): then the
current chunk has finished and committed, and the Operation goes back to the queue
with its checkpoint, for the next worker to resume.  An Operation that takes turns (the
outbox's sender) is queued again the same way when its turn is over, so other jobs run
between its turns.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from rq.timeouts import JobTimeoutException

from jobs.handlers import HANDLERS, turn_seconds
from provisioning import operations, statistics
from provisioning.errors import DomainError
from provisioning.i18n import N_, Message
from provisioning.observability import metrics
from provisioning.observability.context import job_context
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

_shutdown = threading.Event()
YIELDED = "yielded"  # execute()'s outcome when the Operation's turn ended and it was queued again


class UnknownOperationType(RuntimeError):
    pass


def request_shutdown() -> None:
    """Ask every job of this process to stop after its current chunk (the worker's SIGTERM)."""
    _shutdown.set()


def reset_shutdown() -> None:
    _shutdown.clear()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def execute(rt: Runtime, operation_id: int, *, stopping: threading.Event | None = None) -> str:
    """Run an operation.  Returns its final status; "released" when handed back to the queue
    on shutdown (this process's, or ``stopping`` set by the in-process queue); "yielded" when its
    turn ended (:func:`jobs.handlers.turn_seconds`) and it was queued again; "skipped" when
    it was not ours to run (finished, cancelled, or running elsewhere); "superseded" when
    another worker took it over meanwhile.

    Exceptions are recorded on the Operation and then re-raised, so RQ's failed
    registry sees them too.
    """
    me = worker_name()
    op = operations.claim(rt, operation_id, me)
    if op is None:
        log.info("operation %s is finished or taken by another worker; skipping", operation_id)
        return "skipped"
    # The job's log lines carry the id of the request that started the Operation.
    with job_context(operation_id, op.request_id):
        log.info("operation %s (%s) started", operation_id, op.type, extra={"operation_type": op.type})
        started, outcome = time.perf_counter(), "failed"
        try:
            outcome = _run_claimed(rt, op, me, stopping)
            return outcome
        finally:
            seconds = time.perf_counter() - started
            metrics.observe_job(op.type, outcome, seconds)
            log.info(
                "operation %s (%s) %s after %.2f s",
                operation_id,
                op.type,
                outcome,
                seconds,
                extra={"operation_type": op.type, "outcome": outcome, "duration_ms": round(seconds * 1000, 2)},
            )


def _run_claimed(rt: Runtime, op, me: str, stopping: threading.Event | None) -> str:
    operation_id = op.id
    handler = HANDLERS.get(op.type)
    turn = turn_seconds(rt, op.type)
    turn_ends = None if turn is None else time.monotonic() + turn
    stop_beating = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(rt, operation_id, me, stop_beating), daemon=True, name=f"heartbeat-{operation_id}"
    )
    beat.start()
    try:
        with operations.acting_as(me):
            if handler is None:
                raise UnknownOperationType(f"no handler for operation type {op.type!r}")
            checkpoint: dict[str, Any] = dict(op.checkpoint or {})
            while True:
                if operations.cancel_requested(rt, operation_id):
                    done = operations.get_operation(rt, op.tenant_id, operation_id)
                    operations.finish(
                        rt, operation_id, "cancelled", worker=me, result={**(done.result or {}), "cancelled": True}
                    )
                    statistics.analyse_after(rt, op.type, done.progress_done or 0)  # the chunks before Stop
                    return "cancelled"
                if _shutdown.is_set() or (stopping is not None and stopping.is_set()):
                    return _hand_back(rt, operation_id, me)
                new_checkpoint = handler(rt, operation_id, op.tenant_id, op.params, checkpoint)
                if new_checkpoint is None:
                    break
                checkpoint = new_checkpoint
                if turn_ends is not None and time.monotonic() >= turn_ends:
                    return _take_turn(rt, operation_id, me)
        final = operations.get_operation(rt, op.tenant_id, operation_id)
        operations.finish(rt, operation_id, "succeeded", result=final.result, worker=me)
        # Fresh statistics for the tables a bulk job wrote, before the next query plans on them.
        statistics.analyse_after(rt, op.type, final.progress_done or 0)
        return "succeeded"
    except operations.LostOwnership:
        log.warning("operation %s was taken over by another worker; this one stops", operation_id)
        return "superseded"
    except Exception as exc:
        log.exception("operation %s (%s) failed", operation_id, op.type)
        operations.finish(rt, operation_id, "failed", errors=[failure_error(rt, exc)], worker=me)
        raise
    finally:
        stop_beating.set()


def failure_error(rt: Runtime, exc: BaseException) -> dict[str, Any]:
    """What admins read about a failure: a clear message, never a traceback or SQL."""
    if isinstance(exc, DomainError):
        error: dict[str, Any] = {"code": type(exc).__name__.lower(), "message": exc.message}
        if exc.details:
            error["details"] = exc.details
        return error
    if isinstance(exc, JobTimeoutException):
        return {
            "code": "timeout",
            "message": Message(
                N_(
                    "The job ran longer than the %(seconds)s s allowed (JOB_TIMEOUT) and was stopped. "
                    "Work done so far is kept."
                ),
                seconds=rt.settings.job_timeout,
            ),
        }
    return {
        "code": "internal_error",
        "message": Message(
            N_(
                "The job stopped on an unexpected error (%(kind)s). Work done so far is "
                "kept; the worker log has the details."
            ),
            kind=type(exc).__name__,
        ),
    }


def _hand_back(rt: Runtime, operation_id: int, me: str) -> str:
    if operations.release(rt, operation_id, me):
        log.info("operation %s handed back to the queue at its checkpoint (shutting down)", operation_id)
        operations.enqueue_quietly(rt, operation_id)
    return "released"


def _take_turn(rt: Runtime, operation_id: int, me: str) -> str:
    """Queue the Operation again at its checkpoint, behind the jobs waiting now, and free this worker."""
    if operations.release(rt, operation_id, me):
        log.info("operation %s queued again at its checkpoint (its turn is over)", operation_id)
        operations.enqueue_quietly(rt, operation_id)
    return YIELDED


def _heartbeat(rt: Runtime, operation_id: int, me: str, stop: threading.Event) -> None:
    interval = max(1.0, rt.settings.operation_stale_seconds / 4)
    while not stop.wait(interval):
        try:
            operations.heartbeat(rt, operation_id, me)
        except Exception:  # noqa: BLE001 - a missed heartbeat is not fatal
            log.warning("heartbeat for operation %s failed", operation_id)
