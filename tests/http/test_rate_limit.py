"""Rate limits per token (RATE_LIMIT_PER_MINUTE): 429 with Retry-After, in SCIM form on /scim and
the JSON error form on /api/v1, per token, shared by every gunicorn process through Redis."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from provisioning.limits import bulk_cost
from provisioning.observability.ratelimit import MemoryWindow, RateLimiter
from provisioning.services import tokens
from tests.support.environment import TEST_REDIS_URL, on_postgres, on_real_redis


def wait_for_a_fresh_minute(margin: float = 5) -> None:
    """Start a burst early in a window, so it can't straddle the fixed window's boundary."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


def test_the_admin_api_answers_429_with_retry_after_in_its_json_error_form(rt, client, tenant):
    rt.settings.rate_limit_per_minute = 3
    wait_for_a_fresh_minute()
    assert [client.get("/api/v1/groups", headers=tenant.admin).status_code for _ in range(3)] == [200] * 3
    r = client.get("/api/v1/groups", headers=tenant.admin)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json["code"] == 429 and "3 requests a minute" in r.json["message"]
    # Another token of the same tenant has its own allowance.
    _, second = tokens.create_token(rt, tenant.id, "admin", "second admin")
    assert client.get("/api/v1/groups", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_scim_answers_429_with_retry_after_as_a_scim_error(rt, client, tenant):
    rt.settings.rate_limit_per_minute = 2
    wait_for_a_fresh_minute()
    for _ in range(2):
        assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 200
    r = client.get("/scim/v2/Users", headers=tenant.scim)
    assert r.status_code == 429 and r.mimetype == "application/scim+json"
    assert int(r.headers["Retry-After"]) >= 1
    body = r.json
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == "429"
    assert "scimType" not in body
    # Requests without a valid token are refused before they are counted: 401, not 429.
    assert client.get("/scim/v2/Users", headers={"Authorization": "Bearer nope"}).status_code == 401
    # The admin token of the same tenant is counted on its own.
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 200


def _fields(response) -> tuple[str, str]:
    return response.headers.get("RateLimit-Policy", ""), response.headers.get("RateLimit", "")


def test_every_response_to_a_token_advertises_its_quota_and_what_is_left(rt, client, tenant):
    """draft-ietf-httpapi-ratelimit-headers-10 §4-§5: RateLimit-Policy (q quota, w window) and RateLimit
    (r remaining, t seconds to the reset), so an IdP can pace a load instead of meeting 429s."""
    rt.settings.rate_limit_per_minute = 5
    wait_for_a_fresh_minute()
    seen = [_fields(client.get("/api/v1/groups", headers=tenant.admin)) for _ in range(5)]
    assert {policy for policy, _ in seen} == {'"per-token";q=5;w=60'}
    assert [now.split(";")[1] for _, now in seen] == ["r=4", "r=3", "r=2", "r=1", "r=0"]
    assert all(1 <= int(now.split(";t=")[1]) <= 60 for _, now in seen)
    refused = client.get("/api/v1/groups", headers=tenant.admin)
    assert refused.status_code == 429 and _fields(refused)[1].split(";")[1] == "r=0"
    # SCIM counts its own token, with the same fields; an unauthenticated request has none.
    scim = [_fields(client.get("/scim/v2/Users", headers=tenant.scim)) for _ in range(2)]
    assert [(policy, now.split(";")[1]) for policy, now in scim] == [
        ('"per-token";q=5;w=60', "r=4"),
        ('"per-token";q=5;w=60', "r=3"),
    ]
    assert "RateLimit" not in client.get("/scim/v2/Users", headers={"Authorization": "Bearer nope"}).headers
    rt.settings.rate_limit_per_minute = 0
    assert "RateLimit" not in client.get("/api/v1/groups", headers=tenant.admin).headers


def test_a_bulk_takes_its_weight_from_what_the_fields_say_is_left(rt, client, tenant):
    rt.settings.rate_limit_per_minute = 100
    wait_for_a_fresh_minute()
    before = client.get("/scim/v2/Users", headers=tenant.scim)
    ops = [
        {"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": {"userName": f"bulk{i}@example.edu"}}
        for i in range(30)
    ]
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}
    bulk = client.post("/scim/v2/Bulk", json=body, headers=tenant.scim)
    assert bulk.status_code == 200
    left = [int(_fields(r)[1].split(";")[1][2:]) for r in (before, bulk)]
    assert left == [99, 99 - bulk_cost(30)]


def test_zero_turns_the_limit_off(rt, client, tenant):
    rt.settings.rate_limit_per_minute = 0
    assert all(client.get("/api/v1/groups", headers=tenant.admin).status_code == 200 for _ in range(30))


def test_the_window_resets_after_the_minute_and_retry_after_counts_down_to_it():
    limiter = RateLimiter(2, MemoryWindow())
    start = 1_800_000_000.0  # a whole minute
    assert [limiter.check("t", start + 10).allowed for _ in range(3)] == [True, True, False]
    assert limiter.check("t", start + 10).retry_after == 50
    assert limiter.check("t", start + 59.5).retry_after == 1
    assert limiter.check("t", start + 60).allowed


def test_the_environment_sets_a_default_limit_and_zero_turns_it_off():
    from provisioning.config import DEFAULT_RATE_LIMIT_PER_MINUTE, Settings

    env = {"DATABASE_URL": "sqlite:///:memory:"}
    assert Settings.from_env(env).rate_limit_per_minute == DEFAULT_RATE_LIMIT_PER_MINUTE == 1200
    assert Settings.from_env({**env, "RATE_LIMIT_PER_MINUTE": "0"}).rate_limit_per_minute == 0


@pytest.mark.slow
@on_postgres
@on_real_redis
def test_the_limit_holds_across_gunicorn_worker_processes(rt, tenant, tmp_path):
    """`provisioning serve --workers 3` on PostgreSQL and Redis: the three processes share one
    count per token, so exactly the limit gets through, whichever process answers; /metrics
    adds up the three processes' counters."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.servers import free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": rt.settings.database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": rt.settings.secret_key,
        "QUEUE_NAME": rt.settings.queue_name,
        "RATE_LIMIT_PER_MINUTE": "12",
        "METRICS_TOKEN": "scrape-secret",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "serve.log").open("wb")
    script = Path(sys.executable).with_name("provisioning")
    proc = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--workers", "3", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        wait_for_a_fresh_minute(margin=10)
        statuses = []
        for _ in range(24):  # a new connection each time: gunicorn spreads them over its processes
            req = urllib.request.Request(f"{base}/api/v1/groups", headers=tenant.admin)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    statuses.append(r.status)
            except urllib.error.HTTPError as err:
                statuses.append(err.code)
                if err.code == 429:
                    assert int(err.headers["Retry-After"]) >= 1
        assert statuses.count(200) == 12 and statuses.count(429) == 12
        assert statuses[:12] == [200] * 12
        # /metrics adds up the counters of every gunicorn process (multiprocess mode).
        from tests.support.api import metric

        req = urllib.request.Request(f"{base}/metrics", headers={"Authorization": "Bearer scrape-secret"})
        text = urllib.request.urlopen(req, timeout=10).read().decode()
        for status in ("200", "429"):
            assert metric(text, "provisioning_http_requests_total", route="/api/v1/groups", status=status) == 12
        assert metric(text, "provisioning_rate_limited_total", scope="admin") == 12
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    requests = [x for x in lines if x.get("logger") == "provisioning.request" and x["path"] == "/api/v1/groups"]
    assert len(requests) == 24  # one structured line per request...
    pids = {x["pid"] for x in requests}
    assert len(pids) >= 2  # ...answered by more than one process
    assert tenant.admin_token not in (tmp_path / "serve.log").read_text()
