"""Prometheus metrics: requests and latency by route, jobs and their durations, queue depth.

Counters and histograms live in prometheus_client's default registry, or, when
PROMETHEUS_MULTIPROC_DIR is set (``provisioning serve`` sets it for gunicorn's worker
processes), in its multiprocess files, so /metrics adds up every process that shares the
directory (RQ workers on the same host included, when they are given the same directory).
Queue depth and the Operations waiting or running are read live at each scrape.

Flask-free: the web edge (observability.web) and the job runner record here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

Counts = Callable[[], dict[str, int]]


log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600)

HTTP_REQUESTS = Counter(
    "provisioning_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "provisioning_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
JOBS = Counter(
    "provisioning_jobs_total",
    "Job runs of Operations, by Operation type and outcome "
    "(succeeded, failed, cancelled, released on shutdown, skipped, superseded).",
    ["type", "outcome"],
)
JOB_DURATION = Histogram(
    "provisioning_job_duration_seconds",
    "Duration of one job run, by Operation type and outcome.",
    ["type", "outcome"],
    buckets=_JOB_BUCKETS,
)
RATE_LIMITED = Counter("provisioning_rate_limited_total", "Requests refused with 429, by token scope.", ["scope"])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def observe_job(type_: str, outcome: str, seconds: float) -> None:
    JOBS.labels(type_, outcome).inc()
    JOB_DURATION.labels(type_, outcome).observe(seconds)


class QueueCollector:
    """Live gauges read at scrape time: jobs waiting/started in the queue, Operations by status.

    The caller passes what to count (the queue's ``depth`` and
    :func:`provisioning.operations.count_active`): metrics sit below the modules they measure.
    """

    def __init__(self, queue_name: str, queue_depth: Counts, active_operations: Counts) -> None:
        self.queue_name = queue_name
        self.queue_depth = queue_depth
        self.active_operations = active_operations

    def collect(self):
        depth = GaugeMetricFamily(
            "provisioning_queue_depth", "Jobs in the queue, waiting or started.", labels=["queue", "state"]
        )
        try:
            for state, count in self.queue_depth().items():
                depth.add_metric([self.queue_name, state], count)
            yield depth
        except Exception as exc:  # noqa: BLE001 - Redis down: the metric is absent, the scrape still answers
            log.warning("queue depth unavailable (%s)", type(exc).__name__)
        ops = GaugeMetricFamily(
            "provisioning_operations", "Operations waiting or running (all tenants).", labels=["status"]
        )
        try:
            for status, count in self.active_operations().items():
                ops.add_metric([status], count)
            yield ops
        except Exception as exc:  # noqa: BLE001 - the database down: absent too
            log.warning("operation counts unavailable (%s)", type(exc).__name__)


def render(live: QueueCollector) -> bytes:
    """The exposition text of every metric (all processes in multiprocess mode) and the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        counters = generate_latest(REGISTRY)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(live)
    return counters + generate_latest(gauges)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit hook: drop a dead worker's live-gauge files (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
