"""Work per request (issue 15 #10): the largest requests the advertised limits let through, timed.

Each line is one request at the limit the service enforces (``provisioning/limits.py``), against the
budget a single request should stay under on this machine (a few seconds: a server thread is not
held longer, and an identity provider's HTTP timeout is not reached):

* a SCIM Bulk of maxOperations user creations;
* a SCIM group PATCH adding MEMBERS_PER_REQUEST members (existing users) to a group;
* the admin API adding MEMBERS_PER_REQUEST members by user id, and USERS_CREATED_PER_REQUEST new
  emails invited;
* ``GET /scim/v2/Groups`` (no ``attributes``) in a tenant with one group of n members and a page of
  small groups: its time and its size in bytes (extra), members of groups over LIST_MEMBERS_MAX
  left out of lists.

``n`` is the large group's size (users seeded by SQL).  The limits are read from the running app,
so the figures measure what is configured.
"""

from __future__ import annotations

import time

from bench.env import Bench, BenchError
from bench.report import Result

SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BUDGET_SECONDS = 3.0


def _timed(bench: Bench, tenant, method: str, path: str, body=None, ok=(200, 201, 204)):
    start = time.perf_counter()
    r = bench.client.open(path, method=method, json=body, headers={**tenant.scim, "Content-Type": SCIM_JSON})
    elapsed = time.perf_counter() - start
    if r.status_code not in ok:
        raise BenchError(f"SCIM {method} {path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return elapsed, r


def _line(name: str, size: int, seconds: float, **extra) -> Result:
    return Result(
        name,
        size,
        seconds,
        BUDGET_SECONDS,
        ours_label="one request",
        baseline_label="budget per request",
        target=1,
        extra=extra,
    )


def _admin_post(bench: Bench, tenant, path: str, body: dict) -> float:
    start = time.perf_counter()
    r = bench.client.post(path, json=body, headers=tenant.admin)
    seconds = time.perf_counter() - start
    if r.status_code >= 300:
        raise BenchError(f"admin POST {path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return seconds


def request_bounds(bench: Bench, n: int) -> list[Result]:
    from provisioning.limits import USERS_CREATED_PER_REQUEST as max_invites
    from scim.blueprint import setting

    with bench.app.app_context():
        max_ops = setting("SCIM_BULK_MAX_OPERATIONS")
        max_members = setting("SCIM_MAX_MEMBERS_PER_REQUEST")
        list_members = setting("SCIM_LIST_MEMBERS_MAX")
    bench.rt.settings.rate_limit_per_minute = 0  # timing the work, not the limiter
    results = []

    tenant = bench.tenant()
    ops = [
        {
            "method": "POST",
            "path": "/Users",
            "bulkId": str(i),
            "data": {
                "userName": f"bulk-{i}@example.org",
                "name": {"givenName": "Given", "familyName": f"Family {i}"},
                "emails": [{"value": f"bulk-{i}@example.org", "type": "work", "primary": True}],
                "active": True,
            },
        }
        for i in range(max_ops)
    ]
    seconds, r = _timed(bench, tenant, "POST", "/scim/v2/Bulk", {"schemas": [BULK], "Operations": ops})
    statuses = {o["status"] for o in r.json["Operations"]}
    if statuses != {"201"}:
        raise BenchError(f"Bulk: statuses {statuses}")
    results.append(
        _line(
            f"SCIM Bulk of maxOperations user creations ({max_ops:,})",
            max_ops,
            seconds,
            ms_per_operation=round(seconds / max_ops * 1000, 2),
        )
    )

    tenant = bench.tenant()
    size = max(n, max_members)
    lo, _ = bench.seed_users(tenant.id, size, "m-")
    group = bench.seed_group(tenant.id, "patched")
    body = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "add", "path": "members", "value": [{"value": str(uid)} for uid in range(lo, lo + max_members)]}
        ],
    }
    seconds, _ = _timed(bench, tenant, "PATCH", f"/scim/v2/Groups/{group}", body)
    results.append(_line(f"SCIM member PATCH adding the limit ({max_members:,})", max_members, seconds))

    admin_group = bench.seed_group(tenant.id, "admin added")
    members_path = f"/api/v1/groups/{admin_group}/members"
    seconds = _admin_post(bench, tenant, members_path, {"user_ids": list(range(lo, lo + max_members))})
    results.append(_line(f"admin API member add, the limit of user_ids ({max_members:,})", max_members, seconds))
    bench.sql(
        """UPDATE tenants SET settings = '{"join_url": "https://lms.example.org/join"}'::jsonb WHERE id = %(t)s""",
        {"t": tenant.id},
    )
    invites = [f"invited-{i}@example.org" for i in range(max_invites)]
    seconds = _admin_post(bench, tenant, members_path, {"emails": invites, "invite": True})
    results.append(
        _line(f"admin API member add, the limit of new emails invited ({max_invites:,})", max_invites, seconds)
    )

    big = bench.seed_group(tenant.id, "big")
    bench.seed_members(tenant.id, big, lo, lo + size - 1)
    for k in range(20):
        small = bench.seed_group(tenant.id, f"small {k}")
        bench.seed_members(tenant.id, small, lo + k * 10, lo + k * 10 + 9)
    seconds, r = _timed(bench, tenant, "GET", "/scim/v2/Groups")
    results.append(
        _line(
            f"SCIM GET /Groups, one group of {size:,} members",
            size,
            seconds,
            response_bytes=len(r.get_data()),
            list_members_max=list_members,
        )
    )
    return results
