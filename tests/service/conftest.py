"""Fixtures of the service tier."""

from __future__ import annotations

import pytest

from tests.support.environment import TEST_DATABASE_URL, postgres_database, reset_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path):
    """An empty database of each kind for a migration test (PostgreSQL only with TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scratch.db'}"
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    url = postgres_database(TEST_DATABASE_URL, "migration")
    reset_postgres(url)
    return url
