"""Run one Operation to completion: claim it, loop over chunks, record the outcome.

The same code runs on the in-process thread (embedded default) and in an RQ worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from provisioning.runtime import Runtime
from provisioning.services import operations

from .handlers import HANDLERS

log = logging.getLogger(__name__)


class UnknownOperationType(RuntimeError):
    pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def execute(rt: Runtime, operation_id: int) -> str:
    """Run an operation.  Returns its final status, or "skipped" when it was not ours to run.

    Exceptions are recorded on the Operation and then re-raised, so RQ's failed
    registry sees them too.
    """
    op = operations.claim(rt, operation_id, worker_name())
    if op is None:
        log.info("operation %s is finished or taken by another worker; skipping", operation_id)
        return "skipped"
    handler = HANDLERS.get(op.type)
    stop_beating = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(rt, operation_id, stop_beating), daemon=True)
    beat.start()
    try:
        if handler is None:
            raise UnknownOperationType(f"no handler for operation type {op.type!r}")
        checkpoint: dict[str, Any] = dict(op.checkpoint or {})
        while True:
            if operations.cancel_requested(rt, operation_id):
                operations.finish(rt, operation_id, "cancelled",
                                  result={**operations.get_operation(rt, op.tenant_id, operation_id).result,
                                          "cancelled": True})
                return "cancelled"
            new_checkpoint = handler(rt, operation_id, op.tenant_id, op.params, checkpoint)
            if new_checkpoint is None:
                break
            checkpoint = new_checkpoint
        final = operations.get_operation(rt, op.tenant_id, operation_id)
        operations.finish(rt, operation_id, "succeeded", result=final.result)
        return "succeeded"
    except Exception as exc:
        log.exception("operation %s failed", operation_id)
        operations.finish(rt, operation_id, "failed",
                          errors=[{"message": f"The job failed: {type(exc).__name__}: {exc}"[:2000]}])
        raise
    finally:
        stop_beating.set()


def _heartbeat(rt: Runtime, operation_id: int, stop: threading.Event) -> None:
    interval = max(1.0, rt.settings.operation_stale_seconds / 4)
    while not stop.wait(interval):
        try:
            operations.heartbeat(rt, operation_id)
        except Exception:  # noqa: BLE001 - a missed heartbeat is not fatal
            log.warning("heartbeat for operation %s failed", operation_id)
