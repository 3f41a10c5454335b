"""Automatic groups: a full evaluation against hand-written SQL, and re-evaluation per user change."""

from __future__ import annotations

import statistics
import time

from bench.env import Bench, BenchError
from bench.report import Result

RULE = 'department eq "X" and emails co "@y"'
# The same rule by hand, with the same semantics (SCIM eq/co on caseExact=false strings ignore case;
# "emails co" matches any address: the primary, or one of the list an IdP sent, RFC 7644 §3.4.2.2).
MATCHING = """SELECT id FROM users u WHERE u.tenant_id = %(t)s AND lower(u.department) = 'x'
              AND (u.email ILIKE '%%@y%%' OR EXISTS (
                SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(u.extra -> 'emails') = 'array'
                                                   THEN u.extra -> 'emails' ELSE '[]' END) AS e
                WHERE e ->> 'value' ILIKE '%%@y%%'))"""
RAW_EVALUATION = [
    """INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at)
       SELECT %(g)s, id, %(t)s, 'rule', now() FROM ("""
    + MATCHING
    + """) AS m
       ON CONFLICT DO NOTHING""",
    """DELETE FROM memberships WHERE group_id = %(g)s AND user_id NOT IN (""" + MATCHING + ")",
]


def rule_evaluation(bench: Bench, n: int) -> list[Result]:
    """One rule over n users: POST an automatic group (evaluation job on the worker) vs INSERT ... SELECT / DELETE."""
    tenant = bench.tenant()
    bench.seed_users(tenant.id, n, "person")
    expected = bench.scalar(f"SELECT count(*) FROM ({MATCHING}) AS m", {"t": tenant.id})
    raw_group = bench.seed_group(tenant.id, "By hand")
    with bench.worker():
        start = time.perf_counter()
        r = bench.client.post(
            "/api/v1/groups", json={"name": "Sales at Y", "kind": "automatic", "rule": RULE}, headers=tenant.admin
        )
        if r.status_code != 201:
            raise BenchError(f"automatic group: {r.status_code} {r.json}")
        result = bench.wait_operation(r.json["settings"]["evaluation_operation_id"])
        ours_s = time.perf_counter() - start
    got = bench.scalar("SELECT count(*) FROM memberships WHERE group_id = %(g)s", {"g": r.json["id"]})
    if got != expected:
        raise BenchError(f"the rule gave {got} members, the hand-written SELECT {expected}")

    raw_s = bench.time_statements(RAW_EVALUATION, {"t": tenant.id, "g": raw_group})
    return [
        Result(
            "rule evaluation",
            n,
            ours_s,
            raw_s,
            ours_label="POST /groups (automatic) + RQ worker",
            baseline_label="INSERT ... SELECT + DELETE",
            target=2,
            extra={"members": expected, "operation_result": result},
        )
    ]


def rule_incremental(bench: Bench, n: int, rules: int = 100, changes: int = 40) -> list[Result]:
    """PATCH /users/{id} (department) with `rules` automatic groups vs the same PATCH with none.

    n users per tenant.  Reports the median ms per change and, in extra, ms per rule.
    """
    timings = {}
    for label, rule_count in (("rules", rules), ("none", 0)):
        tenant = bench.tenant()
        lo, _ = bench.seed_users(tenant.id, n, f"{label}-person")
        for i in range(rule_count):
            rule = f'department eq "D{i % 37}"' + (' and emails co "@y"' if i % 2 else "")
            bench.seed_group(tenant.id, f"Rule {i}", kind="automatic", rule=rule)
        samples = []
        for k in range(changes):
            start = time.perf_counter()
            r = bench.client.patch(
                f"/api/v1/users/{lo + k}", json={"department": f"D{(k * 7) % 37}"}, headers=tenant.admin
            )
            samples.append(time.perf_counter() - start)
            if r.status_code != 200:
                raise BenchError(f"PATCH user: {r.status_code} {r.json}")
        timings[label] = statistics.median(samples[2:])  # the first requests warm caches
    ours, base = timings["rules"], timings["none"]
    return [
        Result(
            f"rule re-eval per user change ({rules} rules)",
            n,
            ours,
            base,
            ours_label="PATCH /users/{id}",
            baseline_label="same PATCH, no rules",
            extra={"ms_per_rule": round((ours - base) * 1000 / rules, 3), "changes": changes},
        )
    ]
