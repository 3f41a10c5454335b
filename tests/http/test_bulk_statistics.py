"""Statistics after bulk work, and streamed responses in the request log (issue 18, defect 11).

PostgreSQL plans on the statistics ANALYZE left; right after a bulk load (or with autovacuum off)
they describe an empty table, and a member export planned as a nested loop on a 1-row estimate ran
for 12 minutes.  See https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS
("it is a good idea to run ANALYZE ... after making major changes in the contents of a table").
"""

from __future__ import annotations

import time

import pytest
from flask import Response, stream_with_context
from sqlalchemy import event, func, select, text

from provisioning import statistics
from provisioning.models import Operation
from provisioning.services import groups
from tests.http.test_observability import json_log, request_lines  # noqa: F401 - the fixture
from tests.support.api import commit_and_run, preview
from tests.support.environment import on_postgres
from tests.support.factories import ADMIN, make_users
from tests.support.lti_platform import LEARNER, launch, register_platform

MEMBERS = 20_000


def _last_analyze(rt, table: str):
    with rt.db.engine.connect() as c:
        return c.execute(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}).scalar()


@on_postgres
def test_a_bulk_import_analyses_the_tables_it_wrote(client, tenant, rt, run_jobs, monkeypatch):
    monkeypatch.setattr(statistics, "MIN_ROWS", 2)
    emails = [f"u{i}@example.com" for i in range(3)]
    make_users(rt, tenant.id, *emails)
    group = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    before = _last_analyze(rt, "memberships")
    body = preview(client, tenant, "email\n" + "\n".join(emails) + "\n", group_id=group.id)
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    after = _last_analyze(rt, "memberships")
    assert after is not None and (before is None or after > before)


def _analysed_since(rt, before: dict[str, object]) -> set[str]:
    """The tables of ``before`` whose last ANALYZE is newer than the one ``before`` recorded."""
    return {
        t for t, seen in before.items() if (now := _last_analyze(rt, t)) is not None and (seen is None or now > seen)
    }


def _run_operation(rt, run_jobs, operation_id: int) -> None:
    run_jobs()
    with rt.db.read() as s:
        op = s.get(Operation, operation_id)
        assert op.status == "succeeded", (op.type, op.errors)


@on_postgres
def test_every_kind_of_bulk_job_analyses_the_tables_it_wrote(client, tenant, rt, run_jobs, platform, monkeypatch):
    """Not only imports: a rule evaluation, a batch action, a member copy and a roster sync each end with
    ANALYZE of the tables statistics.TOUCHED names for them (issue 18 #11)."""
    monkeypatch.setattr(statistics, "MIN_ROWS", 2)
    people = make_users(rt, tenant.id, *(f"p{i}@example.com" for i in range(4)), department="Physics")
    source = groups.create_group(rt, tenant.id, {"name": "Source"}, ADMIN)
    target = groups.create_group(rt, tenant.id, {"name": "Target"}, ADMIN)
    client.post(f"/api/v1/groups/{source.id}/members", json={"user_ids": list(people.values())}, headers=tenant.admin)

    def ran(start, operation_type: str) -> None:
        before = {t: _last_analyze(rt, t) for t in statistics.TOUCHED[operation_type]}
        time.sleep(0.01)  # pg_stat's timestamps must be able to move
        _run_operation(rt, run_jobs, start())
        assert _analysed_since(rt, before) == set(before), operation_type

    def evaluation() -> int:
        r = client.post(
            "/api/v1/groups",
            json={"name": "Physicists", "kind": "automatic", "rule": 'department eq "Physics"'},
            headers=tenant.admin,
        )
        assert r.status_code == 201, r.json
        with rt.db.read() as s:
            return s.scalar(select(func.max(Operation.id)).where(Operation.type == "rule_evaluation"))

    def batch_action() -> int:
        body = {"action": "change_language", "user_ids": list(people.values()), "params": {"language": "de"}}
        r = client.post("/api/v1/batch-actions", json=body, headers=tenant.admin)
        assert r.status_code == 202, r.json
        return r.json["operation_id"]

    def member_copy() -> int:
        r = client.post(
            f"/api/v1/groups/{target.id}/members/copy", json={"from_group_id": source.id}, headers=tenant.admin
        )
        assert r.status_code == 202, r.json
        return r.json["operation_id"]

    def roster_sync() -> int:
        platform.members = [
            {"user_id": f"m-{i}", "status": "Active", "roles": [LEARNER], "email": f"m{i}@example.edu"}
            for i in range(3)
        ]
        register_platform(rt, tenant.id, platform)
        launch(client, platform, sub="m-0", email="m0@example.edu", roles=[LEARNER])
        with rt.db.read() as s:
            return s.scalar(select(func.max(Operation.id)).where(Operation.type == "roster_sync"))

    ran(evaluation, "rule_evaluation")
    ran(batch_action, "batch_action")
    ran(member_copy, "members_copy")
    ran(roster_sync, "roster_sync")


def test_a_small_job_leaves_statistics_to_autovacuum(rt):
    assert statistics.analyse_after(rt, "import", statistics.MIN_ROWS - 1) == ()
    assert statistics.analyse_after(rt, "group_message", 10**6) == ()


@pytest.fixture
def stale_large_group(rt, tenant):
    """A group of MEMBERS members loaded in bulk, with autovacuum off and no ANALYZE since."""
    group = groups.create_group(rt, tenant.id, {"name": "Everyone"}, ADMIN)
    with rt.db.engine.begin() as c:
        for table in ("users", "memberships"):
            c.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        c.execute(
            text(
                "INSERT INTO users (tenant_id, username, email, active, status, role, custom_attributes, extra, "
                "created_at, updated_at, version) SELECT :t, 'bulk' || g, 'bulk' || g || '@example.com', true, "
                "'active', 'learner', '{}', '{}', now(), now(), 1 FROM generate_series(1, :n) g"
            ),
            {"t": tenant.id, "n": MEMBERS},
        )
        c.execute(
            text(
                "INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at) "
                "SELECT :g, id, :t, 'csv', now() FROM users WHERE tenant_id = :t"
            ),
            {"g": group.id, "t": tenant.id},
        )
    yield group
    with rt.db.engine.begin() as c:
        for table in ("users", "memberships"):
            c.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))


@on_postgres
def test_the_member_export_is_planned_without_a_nested_loop_on_stale_statistics(client, tenant, rt, stale_large_group):
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(rt.db.engine, "before_cursor_execute", seen)
    try:
        started = time.perf_counter()
        r = client.get(f"/api/v1/groups/{stale_large_group.id}/members.csv", headers=tenant.admin)
        body = r.get_data(as_text=True)
        took = time.perf_counter() - started
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", seen)
    assert r.status_code == 200 and body.count("\n") == MEMBERS + 1
    assert took < 20, took
    # Replay what the export ran (its SET LOCAL settings, then its query) under EXPLAIN.
    settings = [s for s, _ in statements if s.lstrip().upper().startswith("SET")]
    query, params = next((s, p) for s, p in statements if "JOIN memberships" in s)
    with rt.db.engine.begin() as c:
        for setting in settings:
            c.exec_driver_sql(setting)
        plan = "\n".join(row[0] for row in c.exec_driver_sql("EXPLAIN " + query, params))
    assert "Nested Loop" not in plan, plan


@pytest.fixture
def streaming_routes(app, rt):
    def slow():
        def body():
            for part in ("a,b\r\n", "1,2\r\n"):
                time.sleep(0.2)
                yield part

        return Response(stream_with_context(body()), mimetype="text/csv")

    def cancelled():
        def body():
            yield "a,b\r\n"
            with rt.db.transaction() as s:
                if rt.db.dialect == "postgresql":
                    s.execute(text("SET LOCAL statement_timeout = 50"))
                    s.execute(text("SELECT pg_sleep(2)"))
                else:
                    raise RuntimeError("canceling statement due to statement timeout")
            yield "never\r\n"

        return Response(stream_with_context(body()), mimetype="text/csv")

    app.add_url_rule("/test/slow.csv", "slow_csv", slow)
    app.add_url_rule("/test/cancelled.csv", "cancelled_csv", cancelled)


def test_the_request_log_records_a_streamed_responses_real_duration(app, streaming_routes, json_log):  # noqa: F811
    client = app.test_client()
    assert client.get("/test/slow.csv").get_data(as_text=True) == "a,b\r\n1,2\r\n"
    (line,) = [x for x in request_lines(json_log()) if x["path"] == "/test/slow.csv"]
    assert line["duration_ms"] >= 400 and line["status"] == 200


def test_a_query_failing_during_streaming_is_one_log_line_not_a_traceback(app, streaming_routes, json_log):  # noqa: F811
    client = app.test_client()
    assert client.get("/test/cancelled.csv").get_data(as_text=True) == "a,b\r\n"
    lines = json_log()
    mine = [x for x in lines if x.get("path") == "/test/cancelled.csv"]
    assert [x["levelname"] if "levelname" in x else x.get("level") for x in mine] == ["WARNING", "INFO"], mine
    assert "streamed response stopped" in mine[0]["message"] and "cancel" in mine[0]["message"].lower()
    assert "Traceback" not in json_log.text() and not any(x.get("exc_info") or x.get("exception") for x in lines)
