"""Build the Runtime (database + job queue) from Settings; shared by the web app, CLI and worker."""

from __future__ import annotations

from jobs.queue import InProcessQueue, RQQueue
from provisioning.config import Settings
from provisioning.db import Database
from provisioning.lti.nrps import NrpsClient
from provisioning.runtime import Runtime


def build_runtime(settings: Settings, *, redis_connection=None) -> Runtime:
    """A Runtime whose queue is RQ when REDIS_URL is set, an in-process thread pool otherwise."""
    rt = Runtime(settings=settings, db=Database(settings.database_url), roster_source=NrpsClient)
    if settings.redis_url or redis_connection is not None:
        if redis_connection is None:
            redis_connection = connect_redis(settings.redis_url)
        rt.queue = RQQueue(redis_connection, name=settings.queue_name, job_timeout=settings.job_timeout)
    else:
        rt.queue = InProcessQueue(lambda: rt)
    return rt


def connect_redis(url: str):
    """A Redis client that fails fast when Redis is down (the request goes on; the sweep
    enqueues later) and survives a Redis restart (a stale pooled connection is checked
    and retried once at once, never with back-off sleeps inside a web request)."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30, retry=Retry(NoBackoff(), 1)
    )
