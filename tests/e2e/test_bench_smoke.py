"""The benchmarks run at smoke size and write their JSON (numbers are not asserted: CI machines are noisy)."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.environment import TEST_DATABASE_URL, TEST_REDIS_URL

needs_postgres_and_redis = pytest.mark.skipif(
    not (TEST_DATABASE_URL.startswith("postgres") and TEST_REDIS_URL),
    reason="the benchmarks need PostgreSQL and a real Redis (set TEST_DATABASE_URL and TEST_REDIS_URL); "
    "they drop and rebuild that database's schema (rebuilt again at head afterwards)",
)


@pytest.fixture
def bench_env(monkeypatch):
    # The smoke run drops and rebuilds the test database's schema; migrate it back to head afterwards so
    # the tests that follow in the same session find their tables.
    monkeypatch.setenv("BENCH_DATABASE_URL", TEST_DATABASE_URL)
    monkeypatch.setenv("BENCH_REDIS_URL", TEST_REDIS_URL)
    yield
    from provisioning.config import _normalise_database_url
    from provisioning.migrate import upgrade

    upgrade(_normalise_database_url(TEST_DATABASE_URL))


@needs_postgres_and_redis
def test_every_benchmark_runs_at_smoke_size_and_writes_a_ratio_for_each_line(bench_env, tmp_path, capsys):
    from bench.__main__ import main
    from bench.suite import BENCHMARKS

    assert main(["all", "--size", "smoke", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "latest.json").read_text())
    assert doc["size"] == "smoke" and doc["machine"]["nproc"] == os.cpu_count()
    names = {r["name"] for r in doc["results"]}
    assert len(doc["results"]) >= len(BENCHMARKS) and "member CSV import" in names
    for r in doc["results"]:
        assert r["ours"] > 0 and r["baseline"] > 0 and r["ratio"] == pytest.approx(r["ours"] / r["baseline"], rel=1e-2)
        assert r["passed"] in (True, False, None)
    assert (tmp_path / "latest.png").stat().st_size > 0
    table = capsys.readouterr().out
    assert "member CSV import" in table and "ratio" in table


def test_a_sqlite_database_is_refused_with_a_clear_message(monkeypatch, capsys):
    from bench.__main__ import main

    monkeypatch.setenv("BENCH_DATABASE_URL", "sqlite:///bench.db")
    assert main(["member_import"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
