"""Test fixtures.

By default the suite runs on SQLite and fakeredis (a fresh machine with only Python).
With TEST_DATABASE_URL / TEST_REDIS_URL set it runs on a real PostgreSQL and Redis:
CI always sets both.  The schema is built once per session with the real Alembic
migrations; every test starts from empty tables.

The suite runs on pytest-xdist (``-n auto`` in pyproject.toml): each worker process has its own
SQLite file (its own tmp_path_factory) or its own PostgreSQL database (TEST_DATABASE_URL's name plus
``_gw0``, ``_gw1``, ..., created when missing) and, with a real Redis, its own db number
(TEST_REDIS_URL's plus the worker's index).  With TEST_REDIS_URL set, ``-n auto`` runs the suite in
one process (the next db numbers may belong to someone else) unless TEST_REDIS_DBS says how many
consecutive dbs are the suite's (CI gives two); ``-n N`` asks for N workers anyway.

Shared fixtures live here; plain helpers and factories are in tests/support/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from provisioning.config import Settings
from provisioning.db import Database
from provisioning.migrate import upgrade
from provisioning.models import Base
from provisioning.runtime import Runtime
from server.app import create_app
from tests.support.environment import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    XDIST_WORKER,
    postgres_database,
    reset_postgres,
)
from tests.support.factories import TenantHandle
from tests.support.factories import make_tenant as _make_tenant
from tests.support.lti_platform import Platform
from tests.support.servers import Inbox, start_smtp


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: with a real Redis, as many workers as TEST_REDIS_DBS gives Redis dbs of their own (default
    one: a single process), at most the CPUs; else pytest-xdist's default (the CPUs)."""
    if os.environ.get("TEST_REDIS_URL", "").strip():
        dbs = int(os.environ.get("TEST_REDIS_DBS", "").strip() or 1)
        workers = min(dbs, os.cpu_count() or 1)
        return workers if workers > 1 else 0
    return None


def _sqlite_dir(tmp_path_factory) -> Path:
    """Where this process's SQLite file goes: in memory-backed /dev/shm when there is one (each test
    commits a few dozen times; no disk syncs), else under pytest's temporary directory."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="provisioning-tests-", dir=shm))
    return tmp_path_factory.mktemp("db")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    scratch = None
    if TEST_DATABASE_URL:
        from provisioning.config import _normalise_database_url

        url = _normalise_database_url(TEST_DATABASE_URL)
        if url.startswith("postgresql"):
            if XDIST_WORKER:
                url = postgres_database(url, XDIST_WORKER)  # this xdist worker's own database
            reset_postgres(url)
    else:
        scratch = _sqlite_dir(tmp_path_factory)
        url = f"sqlite:///{scratch / 'test.db'}"
    upgrade(url)
    yield url
    if scratch is not None and scratch.parent == Path("/dev/shm"):
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_connection():
    if TEST_REDIS_URL:
        from redis import Redis

        conn = Redis.from_url(TEST_REDIS_URL)
        conn.ping()
    else:
        import fakeredis

        conn = fakeredis.FakeRedis()
    yield conn


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings.from_mapping(
        {
            "database_url": database_url,
            "secret_key": secrets.token_urlsafe(32),
            "redis_url": TEST_REDIS_URL or None,
            "public_base_url": "http://localhost",
            "jobs_sweep_interval": 0,
            "queue_name": f"test-{secrets.token_hex(4)}",
        }
    )


def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def rt(settings, redis_connection) -> Runtime:
    """A Runtime on the test database whose jobs go to RQ (real Redis in CI, fakeredis otherwise)."""
    from jobs.bootstrap import build_runtime

    runtime = build_runtime(settings, redis_connection=redis_connection)
    _truncate(runtime.db)
    yield runtime
    runtime.queue.queue.empty()
    _truncate(runtime.db)
    runtime.db.dispose()


@pytest.fixture
def run_jobs(rt, redis_connection) -> Callable[[], int]:
    """Run every queued job with a real RQ worker (burst mode, in this process)."""
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    import jobs.tasks

    def run() -> int:
        jobs.tasks.use_runtime(rt)
        try:
            worker = SimpleWorker([rt.queue.queue], connection=redis_connection, serializer=JSONSerializer)
            worker.work(burst=True)
            return worker.successful_job_count if hasattr(worker, "successful_job_count") else 0
        finally:
            jobs.tasks.use_runtime(None)

    return run


@pytest.fixture
def app(rt):
    app = create_app(runtime=rt)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_tenant(rt) -> Callable[..., TenantHandle]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, **kwargs: Any) -> TenantHandle:
        return _make_tenant(rt, name or f"Tenant {next(counter)}", **kwargs)

    return make


@pytest.fixture
def tenant(make_tenant) -> TenantHandle:
    return make_tenant("Acme University")


@pytest.fixture
def other_tenant(make_tenant) -> TenantHandle:
    return make_tenant("Other College")


@pytest.fixture
def platform(client):
    """An independent LTI 1.3 platform on loopback whose tool is the test client's app."""
    from provisioning.lti.nrps import TOKENS

    # A new platform may come up on an earlier one's port (the same issuer) with new keys: an access token
    # cached for the earlier one would be refused by it.
    TOKENS.clear()
    p = Platform(lambda: client.get("/lti/jwks").get_json())
    yield p
    p.close()


@pytest.fixture
def smtp_server():
    """A real SMTP server in this process (its ``Inbox`` keeps what arrives)."""
    inbox = Inbox()
    controller = start_smtp(inbox)
    yield inbox
    inbox.release()
    controller.stop()


@pytest.fixture
def mail(rt, smtp_server):
    """Point the runtime's mail settings at the in-process SMTP server, with fast retries."""
    for name, value in dict(
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        mail_from="lms@acme.test",
        email_send_interval=0,
        email_retry_base_seconds=0.05,
        email_retry_max_seconds=0.2,
        email_max_attempts=4,
    ).items():
        setattr(rt.settings, name, value)
    return smtp_server
