"""Requests per minute per API token (RATE_LIMIT_PER_MINUTE; 0 turns it off).

A fixed one-minute window per token.  A request counts 1, a SCIM Bulk its weight
(:func:`provisioning.limits.bulk_cost`); a refused request gives its count back, so the limit counts
the work let through and a refused large Bulk does not use up the minute of the small requests after it.
With Redis (REDIS_URL) the count is one ``INCRBY`` on a key shared by every web process, so the limit holds across gunicorn's workers and hosts;
without Redis the service runs as one process and counts in memory.  Redis being down never
blocks a request: the limiter lets it through (availability first) and does not try Redis
again for a few seconds, as the job queue does.

Flask-free: the SCIM and admin API edges call :func:`refusal` after authenticating.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from provisioning.observability import metrics

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until the window resets (RFC 9110 §10.2.3 delay-seconds)


class MemoryWindow:
    """Counts per token in this process (the embedded default runs one process)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int, cost: int = 1) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # drop past windows now and then: memory stays flat
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen, count = self._counts.get(key, (window, 0))
            count = count + cost if seen == window else cost
            self._counts[key] = (window, count)
            return count

    def give_back(self, key: str, window: int, cost: int) -> None:
        with self._lock:
            seen, count = self._counts.get(key, (window, 0))
            if seen == window:
                self._counts[key] = (window, max(0, count - cost))


class RedisWindow:
    """Counts per token in Redis, shared by every process; fails open when Redis is down."""

    retry_after_seconds = 5.0

    def __init__(self, connection, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix
        self._down_until = 0.0

    def _name(self, key: str, window: int) -> str:
        return f"{self.prefix}:ratelimit:{key}:{window}"

    def hit(self, key: str, window: int, cost: int = 1) -> int | None:
        if time.monotonic() < self._down_until:
            return None
        name = self._name(key, window)
        try:
            pipe = self.connection.pipeline(transaction=False)
            pipe.incrby(name, cost)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = pipe.execute()
            return int(count)
        except Exception as exc:  # noqa: BLE001 - Redis down: let requests through
            self._unavailable(exc)
            return None

    def give_back(self, key: str, window: int, cost: int) -> None:
        try:
            self.connection.decrby(self._name(key, window), cost)
        except Exception as exc:  # noqa: BLE001 - Redis down: the count expires with its window
            self._unavailable(exc)

    def _unavailable(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self.retry_after_seconds
        log.warning(
            "rate limiter: Redis unavailable (%s); not limiting for %g s",
            type(exc).__name__,
            self.retry_after_seconds,
        )


class RateLimiter:
    def __init__(self, per_minute: int, backend) -> None:
        self.per_minute = per_minute
        self.backend = backend

    def check(self, key: str, now: float | None = None, cost: int = 1) -> Verdict:
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        count = self.backend.hit(key, window, cost)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        if count is None:  # the shared counter is unavailable
            return Verdict(True, self.per_minute, self.per_minute, retry_after)
        if count > self.per_minute:
            self.backend.give_back(key, window, cost)
            return Verdict(False, self.per_minute, max(0, self.per_minute - count + cost), retry_after)
        return Verdict(True, self.per_minute, self.per_minute - count, retry_after)


def limiter_for(rt) -> RateLimiter | None:
    """The Runtime's limiter (built once), or None when RATE_LIMIT_PER_MINUTE is 0."""
    per_minute = rt.settings.rate_limit_per_minute
    if per_minute <= 0:
        return None
    limiter = rt.extensions.get("rate_limiter")
    if limiter is None:
        connection = getattr(rt.queue, "connection", None)
        backend = RedisWindow(connection, rt.settings.queue_name) if connection is not None else MemoryWindow()
        limiter = rt.extensions.setdefault("rate_limiter", RateLimiter(per_minute, backend))
    return limiter


def check(rt, token_id: int, cost: int = 1) -> Verdict | None:
    """Count ``cost`` requests of the token; None when rate limiting is off."""
    limiter = limiter_for(rt)
    return None if limiter is None else limiter.check(f"token:{token_id}", cost=cost)


def refusal(rt, token_id: int, scope: str, cost: int = 1, weight: int = 1) -> tuple[Verdict | None, str | None]:
    """Count ``cost`` requests of the token (of a request whose whole ``weight`` the message states).
    Returns the verdict (None when rate limiting is off), for the edges to advertise, and beyond the
    limit the 429's message, the refusal counted in the metrics under the token's ``scope``; the
    message None: go on."""
    verdict = check(rt, token_id, cost)
    if verdict is None or verdict.allowed:
        return verdict, None
    metrics.RATE_LIMITED.labels(scope).inc()
    weighs = "" if weight == 1 else f" This request counts as {weight} ({verdict.remaining} left this minute)."
    return verdict, (
        f"Too many requests: this token may make {verdict.limit} requests a minute.{weighs} "
        f"Retry after {verdict.retry_after} s."
    )
