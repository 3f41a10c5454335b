"""Which database and Redis the suite runs on, and the marks that skip tests needing the real ones."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# Under pytest-xdist each worker process is named gw0, gw1, ...; empty without xdist (or in its controller).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(XDIST_WORKER[2:]) if XDIST_WORKER.startswith("gw") else 0


def _worker_redis_url(url: str) -> str:
    """A real Redis is shared: xdist worker N uses the db number of TEST_REDIS_URL plus N (operations, and so
    their RQ job ids, are numbered per database, so two workers on one Redis db would overwrite each other's jobs)."""
    if not url or not XDIST_WORKER:
        return url
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) + WORKER_INDEX
    return urlunsplit(parts._replace(path=f"/{db}"))


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_REDIS_URL = _worker_redis_url(os.environ.get("TEST_REDIS_URL", "").strip())


def postgres_database(url: str, suffix: str) -> str:
    """The URL of the database named like ``url``'s plus ``_<suffix>``, created on that server when missing."""
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url)
    name = f"{base.database}_{suffix}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    """Drop and recreate the database's ``public`` schema (everything in it goes)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


on_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgres"), reason="needs TEST_DATABASE_URL (PostgreSQL)"
)
on_real_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs TEST_REDIS_URL (a real Redis)")

# Where things are, whichever tier directory a test module sits in.
TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent
