"""Real worker processes (``python -m jobs.worker`` semantics) on PostgreSQL and a real Redis.

fakeredis can't be shared between processes, so these run where CI runs them: with
TEST_DATABASE_URL and TEST_REDIS_URL set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL, on_postgres, on_real_redis
from tests.test_jobs_support import applied_rows, load, start_rows_operation, wait_for

pytestmark = [on_postgres, on_real_redis]

ROOT = Path(__file__).resolve().parent.parent
# The worker process learns the test-only operation type by importing the support module.
WORKER = "import tests.test_jobs_support; from jobs.worker import main; raise SystemExit(main([]))"


@pytest.fixture
def start_worker(rt, tmp_path):
    """Start real worker processes on the test database and Redis; stop leftovers at the end."""
    started: list[subprocess.Popen] = []

    def start(**extra_env: str) -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": rt.settings.database_url, "REDIS_URL": TEST_REDIS_URL,
               "SECRET_KEY": rt.settings.secret_key, "QUEUE_NAME": rt.settings.queue_name,
               "OPERATION_STALE_SECONDS": "2", "JOBS_SWEEP_INTERVAL": "1", **extra_env}
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=log, stderr=log)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
