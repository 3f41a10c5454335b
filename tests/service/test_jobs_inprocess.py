"""The embedded default: no REDIS_URL, jobs run on a thread of the web process, and its
sweeper re-runs what a previous process left behind."""

from __future__ import annotations

import dataclasses
import time

import pytest

from provisioning import operations
from provisioning.db import Database
from provisioning.runtime import NullQueue, Runtime
from provisioning.services import memberships
from server.app import create_app, runtime_of
from tests.support.factories import group_with_members, load, member_count
from tests.support.jobs import ADMIN, applied_rows, start_rows_operation, wait_for


@pytest.fixture
def embedded_app(rt, settings):
    """Build apps on the embedded default (same test database, no Redis); stop their threads after."""
    apps = []

    def make(**overrides):
        app = create_app(dataclasses.replace(settings, redis_url=None, **overrides))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        if app.extensions.get("jobs_sweeper"):
            app.extensions["jobs_sweeper"].stop()
        runtime_of(app).queue.shutdown(wait=True)
        runtime_of(app).db.dispose()


def test_without_redis_a_job_runs_on_a_thread_of_the_web_process(rt, tenant, embedded_app):
    source = group_with_members(rt, tenant.id, "source", 1200)
    target = group_with_members(rt, tenant.id, "target", 0)
    client = embedded_app().test_client()

    response = client.post(
        f"/api/v1/groups/{target}/members/copy", json={"from_group_id": source}, headers=tenant.admin
    )

    assert response.status_code == 202
    op_id = response.get_json()["operation_id"]
    wait_for(lambda: load(rt, op_id).status == "succeeded", what="the in-process job")
    assert member_count(rt, target) == 1200
    assert rt.queue.queue.count == 0  # nothing went to RQ


def test_the_in_process_sweeper_runs_what_a_previous_process_left_queued_or_running(rt, settings, tenant, embedded_app):
    source = group_with_members(rt, tenant.id, "source", 30)
    target = group_with_members(rt, tenant.id, "target", 0)
    # The previous process recorded two operations and died: one before its thread
    # started it, one in the middle of its first chunk.
    previous = Runtime(
        settings=dataclasses.replace(settings, operation_stale_seconds=1),
        db=Database(settings.database_url),
        queue=NullQueue(),
    )
    queued = memberships.request_copy(previous, tenant.id, target, source, ADMIN)
    running = start_rows_operation(previous, tenant.id, rows=20, chunk=10)
    assert operations.claim(previous, running, "previous-process") is not None
    previous.db.dispose()
    time.sleep(1.1)

    embedded_app(jobs_sweep_interval=1, operation_stale_seconds=1)

    wait_for(lambda: load(rt, queued.id).status == "succeeded", what="the queued operation")
    wait_for(lambda: load(rt, running).status == "succeeded", what="the abandoned running operation")
    assert member_count(rt, target) == 30
    assert load(rt, running).attempts == 2


def test_the_in_process_sweeper_is_off_when_the_interval_is_zero_or_jobs_go_to_rq(rt, embedded_app):
    assert embedded_app(jobs_sweep_interval=0).extensions["jobs_sweeper"] is None
    assert create_app(runtime=rt).extensions["jobs_sweeper"] is None


def test_stopping_the_web_process_hands_a_running_job_back_and_the_next_start_finishes_it(rt, tenant, embedded_app):
    app = embedded_app()
    op_id = start_rows_operation(runtime_of(app), tenant.id, rows=400, chunk=10, delay=0.05)
    wait_for(lambda: load(rt, op_id).progress_done >= 30, what="the job to be under way")

    runtime_of(app).queue.shutdown(wait=True)

    handed_back = load(rt, op_id)
    assert handed_back.status == "queued"
    assert 30 <= handed_back.progress_done < 400 and handed_back.progress_done % 10 == 0
    embedded_app(jobs_sweep_interval=1)
    wait_for(lambda: load(rt, op_id).status == "succeeded", what="the next start to finish the job")
    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(400)) and set(rows.values()) == {1}
