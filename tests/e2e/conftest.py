"""Fixtures of the end-to-end tests: real worker processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.environment import REPO_ROOT, TEST_REDIS_URL

# The worker process learns the test-only operation type by importing its support module.
WORKER = "import tests.support.jobs; from jobs.worker import main; raise SystemExit(main([]))"


@pytest.fixture
def start_worker(rt, tmp_path):
    """Start real worker processes on the test database and Redis; stop leftovers at the end."""
    started: list[subprocess.Popen] = []

    def start(**extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": rt.settings.database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "SECRET_KEY": rt.settings.secret_key,
            "QUEUE_NAME": rt.settings.queue_name,
            "OPERATION_STALE_SECONDS": "2",
            "JOBS_SWEEP_INTERVAL": "1",
            **extra_env,
        }
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
