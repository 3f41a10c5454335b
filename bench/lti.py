"""LTI 1.3: launch server time with cached keys, and the NRPS roster sync of a large course.

Reuses the LTI tests' platform glue (tests/support/lti_platform.py: lti1p3platform on loopback), so it
needs the test extra (pip install -e '.[test,bench]').
"""

from __future__ import annotations

import logging
import statistics
import time

from bench.env import Bench, BenchError
from bench.report import Result

LAUNCHES = 25
PAGE_SIZE = 100


def _member(n: int) -> dict:
    return {
        "user_id": f"m-{n}",
        "status": "Active",
        "name": f"Member {n}",
        "given_name": "Member",
        "family_name": str(n),
        "email": f"member{n}@example.edu",
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    }


def lti(bench: Bench, n: int) -> list[Result]:
    """A course of n members: the first launch starts the roster sync (worker); then LAUNCHES timed launches."""
    try:
        from tests.support.lti_platform import (
            LEARNER,
            Platform,
            register_platform,
            start_login,
        )
    except ImportError as exc:
        raise BenchError(f"the LTI benchmark needs the test extra (lti1p3platform): {exc}") from exc
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the platform's request log
    tenant = bench.tenant()
    platform = Platform(lambda: bench.client.get("/lti/jwks").get_json())
    try:
        platform.members = [_member(i) for i in range(1, n + 1)]
        platform.page_size = PAGE_SIZE
        register_platform(bench.rt, tenant.id, platform)

        def post_launch() -> float:
            auth = start_login(bench.client, platform, "m-1")
            form = platform.answer(auth, sub="m-1", roles=[LEARNER], email="member1@example.edu", name="Member 1")
            start = time.perf_counter()
            r = bench.client.post("/lti/launch", data=form)
            elapsed = time.perf_counter() - start
            if r.status_code != 200:
                raise BenchError(f"LTI launch: {r.status_code} {r.get_data(as_text=True)[:300]}")
            return elapsed

        with bench.worker():
            started = time.perf_counter()
            first = post_launch()  # fetches the platform's keys, starts the sync
            op_id = bench.scalar(
                "SELECT max(id) FROM operations WHERE type = 'roster_sync' AND tenant_id = %(t)s", {"t": tenant.id}
            )
            if op_id is None:
                raise BenchError("the first launch started no roster sync")
            result = bench.wait_operation(op_id)
            sync_s = time.perf_counter() - started
        launches = [post_launch() for _ in range(LAUNCHES)]
    finally:
        platform.close()
    members = bench.scalar(
        """SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id
                              WHERE g.tenant_id = %(t)s AND g.kind = 'roster'""",
        {"t": tenant.id},
    )
    if members != n:
        raise BenchError(f"the roster group has {members} of {n} members ({result})")

    floor = []
    for _ in range(LAUNCHES):
        start = time.perf_counter()
        bench.client.get("/healthz")
        floor.append(time.perf_counter() - start)
    other = bench.tenant()
    raw_s = bench.time_statements(
        [
            """INSERT INTO users (tenant_id, username, email, username_key, email_key, given_name, family_name,
                              display_name, active, status, role, custom_attributes, extra, created_at, updated_at, version)
           SELECT %(t)s, 'member' || g || '@example.edu', 'member' || g || '@example.edu',
                  'member' || g || '@example.edu', 'member' || g || '@example.edu', 'Member', g::text,
                  'Member ' || g, true, 'active', 'learner', '{}'::jsonb, '{}'::jsonb, now(), now(), 1
           FROM generate_series(1, %(n)s) AS g""",
            """INSERT INTO groups (tenant_id, name, kind, source, settings, created_at, updated_at, version)
           VALUES (%(t)s, 'Roster by hand', 'manual', 'api', '{}'::jsonb, now(), now(), 1)""",
            """INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at)
           SELECT (SELECT id FROM groups WHERE tenant_id = %(t)s), id, %(t)s, 'lti', now()
           FROM users WHERE tenant_id = %(t)s""",
        ],
        {"t": other.id, "n": n},
    )
    return [
        Result(
            "LTI launch, cached keys (server time)",
            n,
            statistics.median(launches),
            statistics.median(floor),
            ours_label="POST /lti/launch",
            baseline_label="GET /healthz, same client",
            extra={"first_launch_s": round(first, 3), "p90_ms": round(sorted(launches)[int(LAUNCHES * 0.9)] * 1000, 1)},
        ),
        Result(
            "LTI roster sync (NRPS)",
            n,
            sync_s,
            raw_s,
            ours_label="first launch -> sync job on the worker",
            baseline_label="INSERT users + memberships (no HTTP)",
            extra={"page_size": PAGE_SIZE, "operation_result": result},
        ),
    ]
