"""Nothing is lost: find Operations whose job went missing and enqueue them again.

A queued Operation whose job the queue does not hold (the enqueue after commit failed,
Redis restarted and lost it, the web process died before its thread ran it) and a running
one whose heartbeat went stale (its worker was killed) are re-enqueued.  The job's
``claim`` makes any duplicate harmless, and its checkpoint makes the re-run resume.

The RQ worker sweeps at start and periodically (jobs/worker.py); the embedded default
sweeps in the web process (:func:`start_in_process_sweeper`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from jobs.queue import InProcessQueue
from provisioning import operations
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

# A running operation found abandoned this many times is failed instead of retried:
# something (a huge input, an out-of-memory kill) takes its worker down every time.
MAX_ATTEMPTS = 5


@dataclass
class SweepResult:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def requeue_lost(rt: Runtime) -> SweepResult:
    """Re-enqueue lost Operations (see the module docstring); returns what was done.

    Raises when the queue can't be reached: the caller logs it and tries again later.
    """
    queue = rt.queue
    # A dead worker's job still shows as started in RQ until RQ's own cleanup: that is why a
    # stale running operation only counts as handled when a job for it is *waiting*.
    lost = operations.find_lost(
        rt,
        pending=queue.pending_operation_ids(),  # type: ignore[attr-defined]
        waiting=queue.pending_operation_ids(waiting_only=True),
    )  # type: ignore[attr-defined]
    result = SweepResult()
    for op_id in lost.queued:
        rt.queue.enqueue(op_id)
        result.requeued.append(op_id)
    for op_id, attempts in lost.stale:
        if attempts >= MAX_ATTEMPTS:
            if operations.fail_abandoned(rt, op_id, attempts):
                result.failed.append(op_id)
            continue
        rt.queue.enqueue(op_id)
        result.requeued.append(op_id)
    if result.requeued or result.failed:
        log.warning("sweep: re-enqueued lost operations %s; gave up on %s", result.requeued, result.failed)
    return result


class Sweeper:
    """Calls :func:`requeue_lost` now (unless ``sweep_now`` is False) and then every
    ``interval`` seconds, on a daemon thread."""

    def __init__(self, rt: Runtime, interval: float, *, sweep_now: bool = True) -> None:
        self.rt = rt
        self.interval = interval
        self.sweep_now = sweep_now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="provisioning-sweep", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        if self.sweep_now:
            sweep_quietly(self.rt)
        while not self._stop.wait(self.interval):
            sweep_quietly(self.rt)


def sweep_quietly(rt: Runtime) -> SweepResult | None:
    """:func:`requeue_lost`, logging instead of raising (the database or Redis may be down)."""
    try:
        return requeue_lost(rt)
    except Exception as exc:  # noqa: BLE001 - the next sweep tries again
        log.warning("sweep for lost operations failed (%s: %s); will retry", type(exc).__name__, exc)
        return None


def start_in_process_sweeper(rt: Runtime) -> Sweeper | None:
    """In the embedded default (jobs on a thread of this process), sweep at start and every
    ``settings.jobs_sweep_interval`` seconds, so a restart loses nothing.

    Does nothing when the interval is 0 or jobs go to RQ (the worker sweeps then).
    """
    interval = rt.settings.jobs_sweep_interval
    if interval <= 0 or not isinstance(rt.queue, InProcessQueue):
        return None
    return Sweeper(rt, interval).start()
