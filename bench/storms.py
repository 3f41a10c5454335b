"""Bulk work in a tenant full of rules, and exports on stale statistics (issue 18, defects 10 and 11)."""

from __future__ import annotations

import time

from bench.env import Bench, BenchError, Tenant, Worker, cpu_between, rows_csv
from bench.imports import commit, upload_preview
from bench.report import Result

AUTOMATIC_GROUPS = 100
REPEATS = 3
CASES = ("alone", "unread", "read")


def _commit_until_idle(
    bench: Bench, worker: Worker, tenant: Tenant, group_id: int, content: bytes
) -> tuple[float, float | None]:
    """Preview (untimed), then commit and wait until the tenant has no queued or running Operation and
    the worker has no job in hand (the job's ANALYZE at the end counts).

    Returns (wall-clock seconds, CPU seconds of the worker and its database sessions, or None)."""
    import_id = upload_preview(bench, tenant, content, "members.csv", format="members", group_id=group_id)
    cpu_before = worker.cpu_snapshot()
    start = time.perf_counter()
    bench.wait_operation(commit(bench, tenant, import_id))
    while worker.busy() or bench.scalar(
        "SELECT count(*) FROM operations WHERE tenant_id = %(t)s AND status IN ('queued', 'running')", {"t": tenant.id}
    ):
        time.sleep(0.02)
    took = time.perf_counter() - start
    return took, cpu_between(cpu_before, worker.cpu_snapshot())


def _rounds(repeats: int) -> list[str]:
    """The cases in rotating order, ``repeats`` rounds: each case runs once first, once second, once last.

    The tenants share the tables, which grow with every run, and a loaded machine's bursts come and go:
    a fixed order would give one case the smaller tables (and the same neighbours) every time."""
    return [CASES[(r + i) % len(CASES)] for r in range(repeats) for i in range(len(CASES))]


def _least(values: list[float | None]) -> float | None:
    """The smallest of the runs' CPU figures; None if any run had none (no /proc view of the database)."""
    known = [v for v in values if v is not None]
    return min(known) if known and len(known) == len(values) else None


def import_with_rules(bench: Bench, n: int) -> list[Result]:
    """n members imported into a manual group until the worker is idle, in a tenant with 100 automatic
    groups none of which reads that group (the issue's case), and in one where one of them does, vs the
    same import in a tenant without rules."""
    timings: dict[str, float] = {}
    runs: dict[str, list[float]] = {case: [] for case in CASES}
    cpu_runs: dict[str, list[float | None]] = {case: [] for case in CASES}
    queued: dict[str, int] = {}
    # Each case REPEATS times, interleaved in rotating order, in a fresh tenant each time; the fastest run
    # counts (a shared machine's noise only ever adds time), and likewise the least CPU.
    for label in _rounds(REPEATS):
        tenant = bench.tenant()
        bench.seed_users(tenant.id, n, f"{label}-member")
        group = bench.seed_group(tenant.id, "Cohort")
        if label != "alone":
            for i in range(AUTOMATIC_GROUPS - 1):
                rule = f'department eq "D{i % 37}"' + (' and emails co "@y"' if i % 2 else "")
                bench.seed_group(tenant.id, f"Rule {i}", kind="automatic", rule=rule)
            last = f'groups[value eq "{group}"] and emails co "@y"' if label == "read" else 'department eq "X"'
            bench.seed_group(tenant.id, "Last rule", kind="automatic", rule=last)
        rows = bench.sql("SELECT email FROM users WHERE tenant_id = %(t)s ORDER BY id", {"t": tenant.id})
        content = rows_csv("email", rows)
        with bench.worker() as worker:
            took, used = _commit_until_idle(bench, worker, tenant, group, content)
        timings[label] = min(took, timings.get(label, took))
        runs[label].append(round(took, 3))
        cpu_runs[label].append(used)
        members = bench.scalar("SELECT count(*) FROM memberships WHERE group_id = %(g)s", {"g": group})
        if members != n:
            raise BenchError(f"member import added {members} of {n} members")
        queued[label] = bench.scalar(
            "SELECT count(*) FROM operations WHERE tenant_id = %(t)s AND type = 'rule_evaluation'", {"t": tenant.id}
        )
        if label == "read":
            expected = bench.scalar(
                "SELECT count(*) FROM users WHERE tenant_id = %(t)s AND email ILIKE '%%@y%%'", {"t": tenant.id}
            )
            got = bench.scalar(
                "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id "
                "WHERE g.tenant_id = %(t)s AND g.name = 'Last rule'",
                {"t": tenant.id},
            )
            if got != expected:
                raise BenchError(f"the group reading the cohort has {got} members, {expected} expected")
    cpu = {case: _least(values) for case, values in cpu_runs.items()}
    common = {"ours_label": "commit + RQ worker until no Operation is queued or running"}
    results = [
        Result(
            f"member import, {AUTOMATIC_GROUPS} rules, until idle",
            n,
            timings["unread"],
            timings["alone"],
            baseline_label="the same import in a tenant without rules",
            target=1.2,
            extra={
                "rule_evaluations_queued": queued["unread"],
                "runs": REPEATS,
                "runs_s": runs,
                "cpu_s": {case: round(v, 3) if v is not None else None for case, v in cpu.items()},
                "cpu_runs_s": {
                    case: [round(v, 3) if v is not None else None for v in vs] for case, vs in cpu_runs.items()
                },
            },
            **common,
        ),
        Result(
            f"... one of the {AUTOMATIC_GROUPS} reads the group",
            n,
            timings["read"],
            timings["alone"],
            baseline_label="the same import in a tenant without rules",
            extra={"rule_evaluations_queued": queued["read"], "members_the_rule_adds": n // 4},
            **common,
        ),
    ]
    if cpu["unread"] and cpu["alone"]:
        # The same comparison in CPU seconds (the worker process and its database sessions' backends, from
        # /proc): what the work costs, whatever else the machine is doing at the time.
        results.append(
            Result(
                "... the same in CPU (worker + its DB sessions)",
                n,
                cpu["unread"],
                cpu["alone"],
                ours_label="CPU seconds of the worker process and its PostgreSQL backends, commit until idle",
                baseline_label="the same in the tenant without rules",
            )
        )
    return results


def cold_export(bench: Bench, n: int) -> list[Result]:
    """GET /groups/{id}/members.csv of n members loaded in bulk with autovacuum off and no ANALYZE, vs the
    same export after ANALYZE."""
    tenant = bench.tenant()
    tables = ("users", "memberships")
    try:
        for table in tables:
            bench.sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        lo, hi = bench.seed_users(tenant.id, n, "exported", analyze=False)
        group = bench.seed_group(tenant.id, "Everyone")
        bench.sql(
            """INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at)
               SELECT %(g)s, id, %(t)s, 'csv', now() FROM users WHERE tenant_id = %(t)s""",
            {"g": group, "t": tenant.id},
        )
        timings: dict[str, float] = {}
        for label in ("cold",) * REPEATS + ("warm",) * REPEATS:  # the fastest of each counts
            if label == "warm" and "warm" not in timings:
                bench.sql("ANALYZE users, memberships")
            start = time.perf_counter()
            r = bench.client.get(f"/api/v1/groups/{group}/members.csv", headers=tenant.admin)
            lines = r.get_data().count(b"\n")
            took = time.perf_counter() - start
            timings[label] = min(took, timings.get(label, took))
            if r.status_code != 200 or lines != n + 1:
                raise BenchError(f"export ({label}): {r.status_code}, {lines} lines for {n} members")
    finally:
        for table in tables:
            bench.sql(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
    return [
        Result(
            "member export, cold statistics",
            n,
            timings["cold"],
            timings["warm"],
            ours_label="GET members.csv, bulk-loaded, autovacuum off, no ANALYZE",
            baseline_label="the same export after ANALYZE",
            target=2,
        )
    ]
