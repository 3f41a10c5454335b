"""SCIM latency curves: GET by id, userName filter and member PATCH, small vs large tenant/group."""

from __future__ import annotations

import random
import statistics
import time

from bench.env import Bench, BenchError
from bench.report import Result

SMALL_USERS = 1000
SMALL_GROUP = 10
CALLS = 60
SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _median_ms(bench: Bench, tenant, requests) -> float:
    samples = []
    for method, path, body in requests:
        start = time.perf_counter()
        r = bench.client.open(path, method=method, json=body, headers={**tenant.scim, "Content-Type": SCIM_JSON})
        samples.append(time.perf_counter() - start)
        if r.status_code >= 300:
            raise BenchError(f"SCIM {method} {path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return statistics.median(samples[3:])  # the first calls warm caches


def _population(bench: Bench, users: int, members: int, label: str):
    tenant = bench.tenant()
    lo, hi = bench.seed_users(tenant.id, users, f"{label}-")
    group = bench.seed_group(tenant.id, f"{label} group")
    bench.seed_members(tenant.id, group, lo, lo + members - 1)
    return tenant, lo, hi, group


def scim_latency(bench: Bench, n: int) -> list[Result]:
    """Median latency at SMALL_USERS vs n users (members: SMALL_GROUP vs n); flat means ratio <= 2."""
    rng = random.Random(9)
    runs = {}
    for label, users, members in (
        ("small", SMALL_USERS, SMALL_GROUP),
        ("large", max(n, SMALL_USERS), max(n, SMALL_GROUP)),
    ):
        # the group's members are the first `members` users; PATCH adds and removes users beyond them
        tenant, lo, hi, group = _population(bench, members + max(users - members, CALLS), members, label)
        picks = [rng.randint(lo, hi) for _ in range(CALLS)]
        patches = []
        for uid in rng.sample(range(lo + members, hi + 1), CALLS // 2):
            patches.append(
                (
                    "PATCH",
                    f"/scim/v2/Groups/{group}",
                    {
                        "schemas": [PATCH_OP],
                        "Operations": [{"op": "add", "path": "members", "value": [{"value": str(uid)}]}],
                    },
                )
            )
            patches.append(
                (
                    "PATCH",
                    f"/scim/v2/Groups/{group}",
                    {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{uid}"]'}]},
                )
            )
        runs[label] = {
            "GET /Users/{id}": _median_ms(bench, tenant, [("GET", f"/scim/v2/Users/{u}", None) for u in picks]),
            "filter userName eq": _median_ms(
                bench,
                tenant,
                [("GET", f'/scim/v2/Users?filter=userName eq "{label}-{u - lo + 1}"', None) for u in picks],
            ),
            "member PATCH": _median_ms(bench, tenant, patches),
        }
    results = []
    for name in runs["small"]:
        small_size = SMALL_GROUP if name == "member PATCH" else SMALL_USERS
        results.append(
            Result(
                f"SCIM {name} (vs {small_size:,})",
                max(n, small_size),
                runs["large"][name],
                runs["small"][name],
                ours_label=f"median at {n:,}",
                baseline_label=f"median at {small_size:,}",
                target=2,
            )
        )
    return results
