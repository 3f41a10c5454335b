"""Batch deactivation through the admin API and the worker against the raw UPDATE/DELETE statements."""

from __future__ import annotations

import time

from bench.env import Bench, BenchError
from bench.report import Result

# What lifecycle.deactivate_users does, written by hand for one group's members (no events, no rules).
RAW_DEACTIVATION = [
    """UPDATE users SET status = 'deactivated', active = false, version = version + 1, updated_at = now()
       WHERE tenant_id = %(t)s AND status <> 'deactivated'
         AND id IN (SELECT user_id FROM memberships WHERE group_id = %(g)s)""",
    """DELETE FROM invitations WHERE tenant_id = %(t)s AND status = 'pending'
         AND user_id IN (SELECT user_id FROM memberships WHERE group_id = %(g)s)""",
    """UPDATE email_messages SET status = 'cancelled', last_error = 'Cancelled: the user was deactivated.',
              updated_at = now()
       WHERE tenant_id = %(t)s AND kind = 'invitation' AND status = 'queued'
         AND user_id IN (SELECT user_id FROM memberships WHERE group_id = %(g)s)""",
    """DELETE FROM tasks WHERE tenant_id = %(t)s AND status = 'open'
         AND user_id IN (SELECT user_id FROM memberships WHERE group_id = %(g)s)""",
    """DELETE FROM enrollments WHERE tenant_id = %(t)s AND status = 'enrolled'
         AND user_id IN (SELECT user_id FROM memberships WHERE group_id = %(g)s)""",
]


def _seed_open_tasks(bench: Bench, tenant_id: int, lo: int, hi: int) -> None:
    # Temporary data for the deactivation to drop: an open task for every other user.
    bench.sql(
        """INSERT INTO tasks (tenant_id, user_id, title, status, created_at)
                 SELECT %(t)s, id, 'Read the handbook', 'open', now() FROM users
                 WHERE tenant_id = %(t)s AND id BETWEEN %(lo)s AND %(hi)s AND id %% 2 = 0""",
        {"t": tenant_id, "lo": lo, "hi": hi},
    )


def batch_deactivation(bench: Bench, n: int) -> list[Result]:
    """Deactivate the n members of one group (batch action) vs the same statements on n twin users."""
    tenant = bench.tenant()
    groups = []
    for label in ("api", "raw"):
        lo, hi = bench.seed_users(tenant.id, n, f"{label}-leaver")
        group = bench.seed_group(tenant.id, f"Leavers {label}")
        bench.seed_members(tenant.id, group, lo, hi)
        _seed_open_tasks(bench, tenant.id, lo, hi)
        groups.append(group)
    bench.sql("ANALYZE")
    ours_group, raw_group = groups

    with bench.worker():
        start = time.perf_counter()
        r = bench.client.post(
            "/api/v1/batch-actions", json={"action": "deactivate", "group_id": ours_group}, headers=tenant.admin
        )
        if r.status_code != 202:
            raise BenchError(f"batch action: {r.status_code} {r.json}")
        result = bench.wait_operation(r.json["operation_id"])
        ours_s = time.perf_counter() - start
    _check(bench, tenant.id, ours_group, n, result)

    raw_s = bench.time_statements(RAW_DEACTIVATION, {"t": tenant.id, "g": raw_group})
    _check(bench, tenant.id, raw_group, n, {})
    return [
        Result(
            "batch deactivation",
            n,
            ours_s,
            raw_s,
            ours_label="POST /batch-actions + RQ worker",
            baseline_label="raw UPDATE users + DELETEs",
            target=3,
            extra={"operation_result": result},
        )
    ]


def _check(bench: Bench, tenant_id: int, group_id: int, n: int, result: dict) -> None:
    done, tasks = bench.sql(
        """
        SELECT count(*) FILTER (WHERE u.status = 'deactivated'), count(t.id)
        FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN tasks t ON t.user_id = u.id AND t.status = 'open'
        WHERE m.group_id = %(g)s""",
        {"g": group_id},
    )[0]
    if done != n or tasks:
        raise BenchError(f"deactivation left {n - done} users active and {tasks} open tasks ({result})")
