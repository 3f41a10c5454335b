"""Which database and Redis the suite runs on, and the marks that skip tests needing the real ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()

on_postgres = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
on_real_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs TEST_REDIS_URL (a real Redis)")

# Where things are, whichever tier directory a test module sits in.
TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent
