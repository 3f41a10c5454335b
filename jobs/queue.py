"""Two ways to run the job of an Operation, behind one interface.

* :class:`InProcessQueue` — the embedded default (no REDIS_URL): a background thread of
  the web process.
* :class:`RQQueue` — REDIS_URL set: RQ with its JSON serializer; ``provisioning worker``
  runs the jobs.

Either way the Operation row is the source of truth: the queue only carries its id.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

TASK = "jobs.tasks.run_operation"


def job_id(operation_id: int) -> str:
    """One RQ job id per Operation, so enqueueing twice never makes two jobs."""
    return f"operation-{operation_id}"


class InProcessQueue:
    """Runs jobs on a small thread pool inside this process."""

    def __init__(self, runtime_getter: Callable[[], Runtime], *, threads: int = 2) -> None:
        self._runtime = runtime_getter
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="provisioning-job")
        self._pending: set[int] = set()
        self._lock = threading.Lock()

    def enqueue(self, operation_id: int) -> None:
        with self._lock:
            if operation_id in self._pending:
                return
            self._pending.add(operation_id)
        self._pool.submit(self._run, operation_id)

    def _run(self, operation_id: int) -> None:
        from .runner import execute

        try:
            execute(self._runtime(), operation_id)
        except Exception:  # recorded on the Operation by the runner
            pass
        finally:
            with self._lock:
                self._pending.discard(operation_id)

    def ping(self) -> None:
        return None

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)

    def is_pending(self, operation_id: int) -> bool:
        with self._lock:
            return operation_id in self._pending


class RQQueue:
    """Enqueues jobs on RQ; ``provisioning worker`` runs them."""

    def __init__(self, connection, *, name: str = "provisioning", job_timeout: int = 3600) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.connection = connection
        self.queue = Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=job_timeout)

    def enqueue(self, operation_id: int) -> None:
        self.queue.enqueue_call(
            TASK, args=(operation_id,), job_id=job_id(operation_id),
            description=f"operation {operation_id}", result_ttl=3600, failure_ttl=7 * 24 * 3600,
        )

    def is_pending(self, operation_id: int) -> bool:
        """Whether RQ still holds a queued, scheduled, deferred or started job for the operation."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id(operation_id), connection=self.connection, serializer=self.queue.serializer)
        except NoSuchJobError:
            return False
        return job.get_status(refresh=True) in {"queued", "started", "deferred", "scheduled"}

    def ping(self) -> None:
        self.connection.ping()
