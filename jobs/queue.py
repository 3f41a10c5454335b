"""Two ways to run the job of an Operation, behind one interface.

* :class:`InProcessQueue` — the embedded default (no REDIS_URL): a background thread of
  the web process.
* :class:`RQQueue` — REDIS_URL set: RQ with its JSON serializer; ``provisioning worker``
  runs the jobs.

Either way the Operation row is the source of truth: the queue only carries its id, and
``jobs.sweep.requeue_lost`` re-enqueues any Operation whose job the queue no longer holds.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from jobs.runner import YIELDED, execute
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

TASK = "jobs.tasks.run_operation"
JOB_PREFIX = "operation-"


def job_id(operation_id: int, *, retry: bool = False) -> str:
    """The RQ job id of an Operation: ``operation-<id>``, so enqueueing twice never makes two jobs.

    A re-enqueue by the sweep gets a fresh suffix, so the dead attempt's entry in RQ's
    started registry (which RQ later moves to the failed registry as abandoned) never
    collides with the new attempt.
    """
    base = f"{JOB_PREFIX}{operation_id}"
    return f"{base}-retry-{secrets.token_hex(4)}" if retry else base


def operation_id_of(rq_job_id: str) -> int | None:
    """The Operation id an RQ job id belongs to, or None for a foreign job."""
    if not rq_job_id.startswith(JOB_PREFIX):
        return None
    head = rq_job_id[len(JOB_PREFIX) :].split("-", 1)[0]
    return int(head) if head.isdigit() else None


class InProcessQueue:
    """Runs jobs on a small thread pool inside this process."""

    def __init__(self, runtime_getter: Callable[[], Runtime], *, threads: int = 2) -> None:
        self._runtime = runtime_getter
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="provisioning-job")
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # At interpreter exit, before the pool's threads are joined, ask running jobs to
        # stop after their current chunk: the rest stays queued for the next start's sweep.
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(self._stopping.set)

    def enqueue(self, operation_id: int) -> None:
        with self._lock:
            if operation_id in self._pending:
                return
            self._pending.add(operation_id)
        try:
            self._pool.submit(self._run, operation_id)
        except RuntimeError:  # the pool is shut down: the row stays queued for the next start
            with self._lock:
                self._pending.discard(operation_id)
            raise

    def _run(self, operation_id: int) -> None:
        outcome = None
        try:
            outcome = execute(self._runtime(), operation_id, stopping=self._stopping)
        except Exception:  # noqa: BLE001 - already recorded on the Operation by the runner
            pass
        finally:
            with self._lock:
                self._pending.discard(operation_id)
        if outcome == YIELDED and not self._stopping.is_set():
            # Its turn is over: behind the jobs submitted meanwhile.  (The runner's own enqueue found it
            # still pending here.)
            try:
                self.enqueue(operation_id)
            except RuntimeError:  # shut down meanwhile: the row stays queued for the next start's sweep
                pass

    def ping(self) -> None:
        return None

    def shutdown(self, wait: bool = True) -> None:
        """Stop: running jobs hand their Operation back after the current chunk; queued ones stay queued."""
        self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def pending_operation_ids(self, *, waiting_only: bool = False) -> set[int]:
        """Operations submitted to this process and not finished yet (waiting or running)."""
        with self._lock:
            return set(self._pending)

    def is_pending(self, operation_id: int) -> bool:
        return operation_id in self.pending_operation_ids()

    def depth(self) -> dict[str, int]:
        return {"pending": len(self.pending_operation_ids())}


class QueueUnavailable(RuntimeError):
    """Redis failed moments ago; not trying again yet (the sweep enqueues the job later)."""


class RQQueue:
    """Enqueues jobs on RQ; ``provisioning worker`` runs them."""

    # After Redis fails, requests stop trying it for this long: while Redis is down, SCIM
    # and the admin API keep answering at full speed, and each Operation stays queued.
    retry_after_seconds = 5.0

    def __init__(self, connection, *, name: str = "provisioning", job_timeout: int = 3600) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.connection = connection
        self.queue = Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=job_timeout)
        self._down_until = 0.0

    def enqueue(self, operation_id: int) -> None:
        """Put a job for the Operation on the queue.

        The first job is ``operation-<id>``; a later one (a re-enqueue by the sweep, or after
        a graceful worker shutdown) gets a fresh id, see :func:`job_id`.  A second job for
        an Operation is harmless: the runner's claim lets only one of them do the work.
        """
        from redis.exceptions import ConnectionError, TimeoutError
        from rq.job import Job

        if time.monotonic() < self._down_until:
            raise QueueUnavailable(f"Redis was unreachable less than {self.retry_after_seconds:g} s ago")
        try:
            retry = Job.exists(job_id(operation_id), connection=self.connection)
            self.queue.enqueue_call(
                TASK,
                args=(operation_id,),
                job_id=job_id(operation_id, retry=retry),
                description=f"operation {operation_id}",
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
        except (ConnectionError, TimeoutError):
            self._down_until = time.monotonic() + self.retry_after_seconds
            raise

    def pending_operation_ids(self, *, waiting_only: bool = False) -> set[int]:
        """Operations with a job RQ still holds: waiting (queued, scheduled, deferred) or,
        unless ``waiting_only``, started.

        One pass over the queue and its registries (not one lookup per Operation).
        """
        from rq.registry import (
            DeferredJobRegistry,
            ScheduledJobRegistry,
            StartedJobRegistry,
        )

        q = self.queue
        registries = [ScheduledJobRegistry, DeferredJobRegistry] + ([] if waiting_only else [StartedJobRegistry])
        ids = list(q.get_job_ids())
        for registry in registries:
            ids += registry(queue=q).get_job_ids(cleanup=False)
        found = {operation_id_of(i) for i in ids}
        found.discard(None)
        return found  # type: ignore[return-value]

    def is_pending(self, operation_id: int) -> bool:
        return operation_id in self.pending_operation_ids()

    def depth(self) -> dict[str, int]:
        from rq.registry import StartedJobRegistry

        return {"waiting": self.queue.count, "started": StartedJobRegistry(queue=self.queue).count}

    def ping(self) -> None:
        self.connection.ping()
