"""Real worker processes (``python -m jobs.worker`` semantics) on PostgreSQL and a real Redis.

fakeredis can't be shared between processes, so these run where CI runs them: with
TEST_DATABASE_URL and TEST_REDIS_URL set.
"""

from __future__ import annotations

import signal

from tests.support.environment import on_postgres, on_real_redis
from tests.support.factories import load
from tests.support.jobs import applied_rows, start_rows_operation, wait_for

pytestmark = [on_postgres, on_real_redis]


def test_a_worker_killed_mid_operation_is_replaced_and_every_row_is_applied_exactly_once(rt, tenant, start_worker):
    op_id = start_rows_operation(rt, tenant.id, rows=3000, chunk=100, delay=0.1)
    first = start_worker()
    wait_for(lambda: load(rt, op_id).progress_done >= 500, what="the first worker to be well into the job")

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    interrupted = load(rt, op_id)
    assert interrupted.status == "running" and interrupted.progress_done < 3000

    second = start_worker()
    wait_for(lambda: load(rt, op_id).status != "running", timeout=90, what="the second worker to finish the job")

    done = load(rt, op_id)
    assert done.status == "succeeded"
    assert done.progress_done == 3000
    assert done.attempts == 2
    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(3000))
    assert set(rows.values()) == {1}

    second.send_signal(signal.SIGTERM)  # idle: it stops at once
    assert second.wait(timeout=15) == 0


def test_sigterm_lets_the_current_chunk_finish_and_puts_the_rest_back_on_the_queue(rt, tenant, start_worker, run_jobs):
    op_id = start_rows_operation(rt, tenant.id, rows=2000, chunk=100, delay=0.2)
    worker = start_worker()
    wait_for(lambda: load(rt, op_id).progress_done >= 300, what="the worker to be well into the job")

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0

    handed_back = load(rt, op_id)
    assert handed_back.status == "queued"
    assert 300 <= handed_back.progress_done < 2000
    assert handed_back.progress_done % 100 == 0  # whole chunks only
    assert handed_back.attempts == 0  # a graceful hand-back is not a failed attempt
    assert op_id in rt.queue.pending_operation_ids()
    assert sorted(applied_rows(rt, op_id)) == list(range(handed_back.progress_done))

    run_jobs()

    done = load(rt, op_id)
    assert done.status == "succeeded"
    rows = applied_rows(rt, op_id)
    assert sorted(rows) == list(range(2000)) and set(rows.values()) == {1}
