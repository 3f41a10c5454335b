"""The RQ worker behind ``provisioning worker``.

It runs Operation jobs with RQ's JSON serializer, sweeps for lost Operations when it
starts and every JOBS_SWEEP_INTERVAL seconds (jobs/sweep.py), starts the periodic full
re-evaluation of automatic groups every RULES_EVALUATE_INTERVAL seconds, once whatever the
number of workers (jobs/schedule.py), and shuts down cleanly:
on the first SIGTERM or SIGINT the job in hand finishes its current chunk, commits, and
goes back to the queue at its checkpoint; the worker then exits.  A second signal (more
than a second later) stops at once; that, or SIGKILL, leaves the Operation running with
a heartbeat that goes stale, and the next sweep re-enqueues it.

Jobs run in the worker's own process (``SimpleWorker``): the Operation's heartbeat
thread, the sweep thread and the database pool live beside the job, with no fork.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from jobs import runner, tasks
from jobs.bootstrap import build_runtime
from jobs.queue import RQQueue
from jobs.schedule import ReportScheduler, RuleSchedule
from jobs.sweep import Sweeper, sweep_quietly
from provisioning.config import ConfigurationError, Settings
from provisioning.observability.logs import configure_logging
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)


class OperationWorker(SimpleWorker):
    """An RQ worker whose warm shutdown also stops the running Operation between chunks."""

    def request_stop(self, signum, frame):
        runner.request_shutdown()
        super().request_stop(signum, frame)


def run_worker(rt: Runtime, *, burst: bool = False, queues: Sequence[str] | None = None) -> bool:
    """Run Operation jobs from RQ until stopped (or, with ``burst``, until the queues are empty).

    Returns whether any job was processed.
    """
    if not isinstance(rt.queue, RQQueue):
        raise ConfigurationError("The worker needs REDIS_URL: without it, jobs run inside the web process.")
    from rq import Queue

    connection = rt.queue.connection
    names = list(queues or [rt.settings.queue_name])
    rq_queues = [
        Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=rt.settings.job_timeout)
        for name in names
    ]
    tasks.use_runtime(rt)
    runner.reset_shutdown()
    sweep_quietly(rt)
    sweeper = schedule = reports = None
    if not burst and rt.settings.jobs_sweep_interval > 0:
        sweeper = Sweeper(rt, rt.settings.jobs_sweep_interval, sweep_now=False).start()  # swept just above
    if not burst and rt.settings.rules_evaluate_interval > 0:
        schedule = RuleSchedule(rt).start()
    if not burst:
        reports = ReportScheduler(rt).start()
    worker = OperationWorker(rq_queues, connection=connection, serializer=JSONSerializer)
    log.info("worker %s listening on %s", worker.name, ", ".join(names))
    try:
        return worker.work(burst=burst, logging_level=logging.getLevelName(log.getEffectiveLevel()))
    finally:
        # Ask each background thread to stop first, then wait for them within one shared 5 s: waiting up to 5 s
        # for each in turn let a SIGTERMed worker take 15 s past its job to exit.
        threads = [t for t in (sweeper, schedule, reports) if t is not None]
        for thread in threads:
            thread.stop(timeout=0)
        deadline = time.monotonic() + 5
        for thread in threads:
            thread.stop(timeout=max(0.0, deadline - time.monotonic()))
        runner.reset_shutdown()
        tasks.use_runtime(None)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jobs.worker [--burst] [--queue NAME ...]``: the worker from the environment."""
    parser = argparse.ArgumentParser(prog="provisioning worker", description="Run background jobs from RQ.")
    parser.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    parser.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="NAME",
        help="queue to listen on (default: QUEUE_NAME); may be repeated",
    )
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
        configure_logging(settings.log_format, settings.log_level)
        rt = build_runtime(settings)
        run_worker(rt, burst=args.burst, queues=args.queues)
    except ConfigurationError as exc:
        print(f"provisioning worker: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
