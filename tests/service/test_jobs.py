"""Background jobs on RQ, run by a real RQ worker in this process (fakeredis, or Redis in CI)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import func, select

from jobs.bootstrap import connect_redis
from jobs.queue import QueueUnavailable, RQQueue, operation_id_of
from jobs.sweep import MAX_ATTEMPTS, requeue_lost
from jobs.worker import main as worker_main
from jobs.worker import run_worker
from provisioning import operations
from provisioning.models import ActivityEvent, Operation
from provisioning.runtime import Runtime
from provisioning.services import groups, memberships
from tests.support.factories import group_with_members, load, member_count
from tests.support.jobs import (
    ADMIN,
    applied_rows,
    apply_rows_chunk,
    start_rows_operation,
    wait_for,
)


def _rq_jobs(rt, registry_class, operation_id: int) -> list[Job]:
    """The RQ jobs of an Operation in one of the queue's registries."""
    ids = registry_class(queue=rt.queue.queue).get_job_ids()
    return [
        Job.fetch(i, connection=rt.queue.connection, serializer=rt.queue.queue.serializer)
        for i in ids
        if operation_id_of(i) == operation_id
    ]


def _events(rt, action: str) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(ActivityEvent).where(ActivityEvent.action == action))


def test_members_copy_completes_through_an_rq_worker(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 2500)
    target = group_with_members(rt, tenant.id, "target", 0)

    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)
    assert load(rt, op.id).status == "queued"
    run_jobs()

    done = load(rt, op.id)
    assert done.status == "succeeded"
    assert (done.progress_done, done.progress_total) == (2500, 2500)
    assert done.result["added"] == 2500
    assert member_count(rt, target) == 2500
    [job] = _rq_jobs(rt, FinishedJobRegistry, op.id)
    assert job.get_status() == "finished" and job.return_value() == "succeeded"


def test_a_failed_transaction_enqueues_nothing(rt, tenant):
    source = group_with_members(rt, tenant.id, "source", 3)
    target = group_with_members(rt, tenant.id, "target", 0)

    with pytest.raises(RuntimeError):
        with rt.db.transaction() as s:
            operations.start_operation(
                s, rt, tenant.id, "members_copy", {"group_id": target, "from_group_id": source}, ADMIN
            )
            raise RuntimeError("the use case failed after adding the operation")

    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Operation)) == 0
    assert rt.queue.queue.count == 0


def test_a_failing_job_is_recorded_on_the_operation_and_reaches_rqs_failed_registry(rt, run_jobs, tenant):
    op_id = start_rows_operation(rt, tenant.id, rows=30, chunk=10, fail_at=20)
    run_jobs()

    op = load(rt, op_id)
    assert op.status == "failed"
    assert op.finished_at is not None
    assert op.progress_done == 20  # the two chunks before the failure stay applied
    [error] = op.errors
    assert error["code"] == "internal_error"
    assert "RuntimeError" in error["message"] and "worker log" in error["message"]
    assert "hunter2" not in error["message"] and "Traceback" not in error["message"]
    [job] = _rq_jobs(rt, FailedJobRegistry, op_id)
    assert "RuntimeError: password=hunter2" in job.latest_result().exc_string  # the worker's side keeps it all


def test_a_domain_error_in_a_job_gives_its_own_message(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 5)
    target = group_with_members(rt, tenant.id, "target", 0)
    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)
    groups.delete_group(rt, tenant.id, target, ADMIN)

    run_jobs()

    failed = load(rt, op.id)
    assert failed.status == "failed"
    assert failed.errors[0]["code"] == "notfound"
    assert f"{target}" in failed.errors[0]["message"]
    assert len(_rq_jobs(rt, FailedJobRegistry, op.id)) == 1


def test_cancelling_a_running_job_stops_it_between_chunks_and_the_result_says_what_was_done(rt, run_jobs, tenant):
    op_id = start_rows_operation(rt, tenant.id, rows=400, chunk=10, delay=0.05)

    def cancel_after_a_few_chunks():
        wait_for(lambda: load(rt, op_id).progress_done >= 30, what="three chunks")
        operations.cancel_operation(rt, tenant.id, op_id, ADMIN)

    canceller = threading.Thread(target=cancel_after_a_few_chunks)
    canceller.start()
    run_jobs()
    canceller.join()

    op = load(rt, op_id)
    assert op.status == "cancelled"
    assert op.result["cancelled"] is True
    assert 30 <= op.result["applied"] < 400
    assert op.progress_done == op.result["applied"]
    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(op.progress_done))  # exactly the rows it reports, whole chunks only
    assert set(rows.values()) == {1}
    assert op.progress_done % 10 == 0


def test_a_queued_operation_is_cancelled_at_once_and_its_job_then_does_nothing(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 5)
    target = group_with_members(rt, tenant.id, "target", 0)
    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)

    assert operations.cancel_operation(rt, tenant.id, op.id, ADMIN).status == "cancelled"
    run_jobs()

    assert load(rt, op.id).status == "cancelled"
    assert member_count(rt, target) == 0


def test_a_duplicate_enqueue_runs_the_work_once(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 1500)
    target = group_with_members(rt, tenant.id, "target", 0)
    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)

    rt.queue.enqueue(op.id)
    assert rt.queue.queue.count == 2  # two jobs for one Operation
    run_jobs()

    done = load(rt, op.id)
    assert done.status == "succeeded"
    assert done.attempts == 1
    assert member_count(rt, target) == 1500
    assert _events(rt, "group.member_added") == 1500
    assert _events(rt, "operation.members_copy.succeeded") == 1
    outcomes = sorted(job.return_value() for job in _rq_jobs(rt, FinishedJobRegistry, op.id))
    assert outcomes == ["skipped", "succeeded"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_enqueue_failure_leaves_the_operation_queued_and_the_sweep_runs_it_once_redis_is_back(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 40)
    target = group_with_members(rt, tenant.id, "target", 0)
    down = connect_redis(f"redis://127.0.0.1:{_closed_port()}/0")
    redis_down = Runtime(settings=rt.settings, db=rt.db, queue=RQQueue(down, name=rt.settings.queue_name))

    first = memberships.request_copy(redis_down, tenant.id, target, source, ADMIN)  # no exception for the caller
    second = memberships.request_copy(redis_down, tenant.id, target, source, ADMIN)

    assert [load(rt, op.id).status for op in (first, second)] == ["queued", "queued"]
    assert rt.queue.queue.count == 0
    assert requeue_lost(rt).requeued == [first.id, second.id]  # Redis is back: the next sweep enqueues them
    assert requeue_lost(rt).requeued == []  # and does not enqueue them twice
    run_jobs()
    assert [load(rt, op.id).status for op in (first, second)] == ["succeeded", "succeeded"]
    assert member_count(rt, target) == 40
    assert _events(rt, "group.member_added") == 40


def test_after_a_redis_failure_enqueues_fail_fast_for_a_few_seconds(rt):
    queue = RQQueue(connect_redis(f"redis://127.0.0.1:{_closed_port()}/0"), name=rt.settings.queue_name)

    with pytest.raises(RedisConnectionError):
        queue.enqueue(1)
    with pytest.raises(QueueUnavailable):
        queue.enqueue(2)  # Redis is not tried again yet: requests keep their speed while it is down


def test_the_sweep_requeues_an_operation_whose_worker_died_and_the_rerun_resumes_at_the_checkpoint(
    rt, run_jobs, tenant
):
    rt.settings.operation_stale_seconds = 1  # this test's own Settings: the worker below uses them too
    op_id = start_rows_operation(rt, tenant.id, rows=50, chunk=10)
    rt.queue.queue.empty()  # the job was taken by a worker ...
    op = operations.claim(rt, op_id, "worker-that-dies")
    apply_rows_chunk(rt, op_id, tenant.id, op.params, {})  # ... which committed one chunk, then died
    apply_rows_chunk(rt, op_id, tenant.id, op.params, {"next": 10})

    assert requeue_lost(rt).requeued == []  # its heartbeat is still fresh
    time.sleep(1.2)
    assert requeue_lost(rt).requeued == [op_id]
    assert requeue_lost(rt).requeued == []  # its new job is waiting: no pile of duplicates
    run_jobs()

    done = load(rt, op_id)
    assert done.status == "succeeded"
    assert done.attempts == 2
    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(50)) and set(rows.values()) == {1}


def test_an_operation_whose_workers_keep_dying_is_failed_with_a_clear_message(rt, tenant):
    rt.settings.operation_stale_seconds = 1
    op_id = start_rows_operation(rt, tenant.id, rows=10, chunk=10)
    rt.queue.queue.empty()
    for attempt in range(MAX_ATTEMPTS):
        assert operations.claim(rt, op_id, f"worker-{attempt}") is not None
        time.sleep(1.1)

    result = requeue_lost(rt)

    assert result.failed == [op_id] and result.requeued == []
    op = load(rt, op_id)
    assert op.status == "failed"
    assert op.errors[-1]["code"] == "abandoned"
    assert f"interrupted {MAX_ATTEMPTS} times" in op.errors[-1]["message"]


def test_run_worker_sweeps_at_start_and_runs_what_it_finds(rt, tenant):
    source = group_with_members(rt, tenant.id, "source", 20)
    target = group_with_members(rt, tenant.id, "target", 0)
    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)
    rt.queue.queue.empty()  # Redis lost the job

    assert run_worker(rt, burst=True) is True

    assert load(rt, op.id).status == "succeeded"
    assert member_count(rt, target) == 20


def test_the_worker_command_refuses_to_start_without_redis(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)

    assert worker_main(["--burst"]) == 2
    assert "REDIS_URL" in capsys.readouterr().err


def test_a_worker_that_lost_its_operation_to_another_cannot_apply_another_chunk(rt, run_jobs, tenant):
    rt.settings.operation_stale_seconds = 1
    op_id = start_rows_operation(rt, tenant.id, rows=20, chunk=10)
    rt.queue.queue.empty()
    frozen = operations.claim(rt, op_id, "frozen-worker")  # then it stopped heart-beating ...
    time.sleep(1.2)
    requeue_lost(rt)
    run_jobs()  # ... and another worker took over and finished the job
    assert load(rt, op_id).status == "succeeded"

    with operations.acting_as("frozen-worker"), pytest.raises(operations.LostOwnership):
        apply_rows_chunk(rt, op_id, tenant.id, frozen.params, {"next": 10})  # the frozen one wakes up

    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(20)) and set(rows.values()) == {1}
    assert not operations.finish(rt, op_id, "failed", errors=[], worker="frozen-worker")
    assert load(rt, op_id).status == "succeeded"


def test_a_long_copy_reports_its_progress_at_least_every_second(rt, run_jobs, tenant):
    source = group_with_members(rt, tenant.id, "source", 10_000)
    target = group_with_members(rt, tenant.id, "target", 0)
    op = memberships.request_copy(rt, tenant.id, target, source, ADMIN)
    changes: list[tuple[float, int]] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            done = load(rt, op.id).progress_done
            if not changes or changes[-1][1] != done:
                changes.append((time.time(), done))
            time.sleep(0.02)  # the copy of 10,000 members may take well under a second

    watcher = threading.Thread(target=watch)
    watcher.start()
    run_jobs()
    stop.set()
    watcher.join()

    assert load(rt, op.id).status == "succeeded"
    seen = [done for _, done in changes]
    assert len([d for d in seen if 0 < d < 10_000]) >= 3, seen  # admins watch it move, chunk by chunk
    # From the moment the job claimed the Operation (not counting the worker's own start-up).
    times = [load(rt, op.id).started_at.timestamp()] + [t for t, done in changes if done > 0]
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    assert max(gaps) < 1.0, gaps
