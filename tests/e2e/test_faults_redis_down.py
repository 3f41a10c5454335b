"""Redis stopped while the service runs: SCIM and the admin API keep answering, jobs submitted
meanwhile are recorded as queued Operations, and they run once Redis is back.

A private redis-server (without persistence: its restart loses every job) is stopped and
started again; the shared one is never touched.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from jobs.bootstrap import build_runtime
from jobs.sweep import sweep_quietly
from server.app import create_app
from tests.support.factories import load
from tests.support.jobs import wait_for
from tests.support.servers import PrivateRedis

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def private_rt(settings, rt, redis_server):
    """The service on the test database with its queue (and rate limiter) on the private Redis."""
    runtime = build_runtime(
        dataclasses.replace(
            settings, redis_url=redis_server.url, rate_limit_per_minute=1000, extra=dict(settings.extra)
        )
    )
    yield runtime
    runtime.db.dispose()


def test_while_redis_is_down_scim_and_the_api_answer_and_jobs_wait_for_it(private_rt, redis_server, tenant):
    app = create_app(runtime=private_rt)
    client = app.test_client()
    source = client.post("/api/v1/groups", json={"name": "Source"}, headers=tenant.admin).json["id"]
    target = client.post("/api/v1/groups", json={"name": "Target"}, headers=tenant.admin).json["id"]
    ann = client.post("/scim/v2/Users", json={"userName": "ann@example.edu"}, headers=tenant.scim)
    assert ann.status_code == 201
    assert client.post(
        f"/api/v1/groups/{source}/members", json={"user_ids": [int(ann.json["id"])]}, headers=tenant.admin
    ).status_code in (200, 201)

    redis_server.stop()
    started = time.monotonic()
    bob = client.post("/scim/v2/Users", json={"userName": "bob@example.edu"}, headers=tenant.scim)
    assert bob.status_code == 201, bob.json
    assert (
        client.get('/scim/v2/Users?filter=userName eq "bob@example.edu"', headers=tenant.scim).json["totalResults"] == 1
    )
    patch = client.patch(
        f"/scim/v2/Groups/{source}",
        headers=tenant.scim,
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": bob.json["id"]}]}],
        },
    )
    assert patch.status_code in (200, 204), patch.json
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 200
    copy = client.post(f"/api/v1/groups/{target}/members/copy", json={"from_group_id": source}, headers=tenant.admin)
    assert copy.status_code == 202, copy.json
    op_id = copy.json["operation_id"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"] == {"database": "ok", "redis": "unreachable"}
    assert time.monotonic() - started < 10  # no request waited on Redis
    assert load(private_rt, op_id).status == "queued"  # recorded, waiting for Redis

    redis_server.start()  # empty: the job that could not be enqueued is in no queue
    # The worker's sweep (at start and every JOBS_SWEEP_INTERVAL) finds the queued Operation
    # without a job and enqueues it; then a real RQ worker runs it.
    wait_for(
        lambda: sweep_quietly(private_rt) is not None and op_id in private_rt.queue.pending_operation_ids(),
        timeout=30,
        what="the sweep to re-enqueue the job once Redis is back",
    )
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    import jobs.tasks

    jobs.tasks.use_runtime(private_rt)
    try:
        SimpleWorker([private_rt.queue.queue], connection=private_rt.queue.connection, serializer=JSONSerializer).work(
            burst=True
        )
    finally:
        jobs.tasks.use_runtime(None)
    assert load(private_rt, op_id).status == "succeeded"
    members = client.get(f"/api/v1/groups/{target}/members", headers=tenant.admin).json
    assert sorted(m["username"] for m in members["items"]) == ["ann@example.edu", "bob@example.edu"]
    assert client.get("/readyz").status_code == 200
