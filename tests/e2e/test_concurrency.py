"""Concurrent SCIM clients against a real multi-threaded HTTP server (werkzeug's threaded
server in this process, each request on its own thread and database connection):
50 member PATCHes on one group lose no update; simultaneous POSTs of one userName give
exactly one 201 and 409 for the rest; twelve simultaneous ways of taking a seat (admin API,
SCIM, Bulk, reactivations, an import and a batch action) on a tenant of 5 seats fill exactly 5."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from provisioning.models import User
from tests.support.api import batch, commit, preview
from tests.support.factories import group_with_members, make_tenant, make_user, operation

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def call(
    method: str, url: str, token: str, body=None, content_type: str = "application/scim+json"
) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def run_together(n: int, fn) -> list:
    """Call fn(i) for i in range(n) on n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(go, range(n)))


@pytest.mark.slow
def test_fifty_concurrent_member_patches_on_one_group_lose_no_update(rt, tenant, server):
    # 25 members to remove and 25 users to add, one change per PATCH, all at once.
    group_id = group_with_members(rt, tenant.id, "leavers", 25)
    joiners_group = group_with_members(rt, tenant.id, "joiners", 25)
    base = f"{server}/scim/v2"
    before = call("GET", f"{base}/Groups/{group_id}", tenant.scim_token)[1]
    leavers = [m["value"] for m in before["members"]]
    joiners = [m["value"] for m in call("GET", f"{base}/Groups/{joiners_group}", tenant.scim_token)[1]["members"]]
    assert len(leavers) == len(joiners) == 25

    def patch(i: int):
        if i % 2:
            op = {"op": "remove", "path": f'members[value eq "{leavers[i // 2]}"]'}
        else:
            op = {"op": "add", "path": "members", "value": [{"value": joiners[i // 2]}]}
        return call(
            "PATCH", f"{base}/Groups/{group_id}", tenant.scim_token, {"schemas": [PATCH_OP], "Operations": [op]}
        )

    results = run_together(50, patch)
    assert sorted({status for status, _ in results}) in ([200], [204], [200, 204]), results
    status, group = call("GET", f"{base}/Groups/{group_id}", tenant.scim_token)
    assert status == 200
    assert sorted(m["value"] for m in group["members"]) == sorted(joiners)
    # Every change bumped the version: 50 changes, 50 increments (the ETag is W/"<version>").
    assert int(group["meta"]["version"].strip('W/"')) - int(before["meta"]["version"].strip('W/"')) == 50


@pytest.mark.slow
def test_concurrent_posts_of_one_username_create_it_once_and_the_rest_get_409(rt, tenant, server):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "twin@example.edu"}
    results = run_together(20, lambda i: call("POST", f"{server}/scim/v2/Users", tenant.scim_token, body))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 19, results
    conflicts = [doc for status, doc in results if status == 409]
    assert all(doc["scimType"] == "uniqueness" for doc in conflicts)
    status, found = call(
        "GET", f"{server}/scim/v2/Users?filter=userName%20eq%20%22twin@example.edu%22", tenant.scim_token
    )
    assert found["totalResults"] == 1


USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


@pytest.mark.slow
def test_twelve_simultaneous_seat_takers_on_every_channel_fill_a_five_seat_tenant_exactly(rt, client, server, run_jobs):
    """Issue 15 defect 5: the seat limit was check-then-insert (12 concurrent creations left 8 or 9)."""
    small = make_tenant(rt, "Five seats", seat_limit=5)
    asleep = [make_user(rt, small.id, f"asleep{i}", status="deactivated").id for i in range(5)]
    # Queued before the race, applied by a real RQ worker during it: one import row, one batch reactivation.
    imported = preview(client, small, "email\nimported@example.edu\n", format="users")
    import_op = commit(client, small, imported["id"])
    batch_op = batch(client, small, "reactivate", user_ids=[asleep[4]]).json["operation_id"]
    api, scim = f"{server}/api/v1", f"{server}/scim/v2"
    admin, json_type = small.admin_token, "application/json"
    wake = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": True}]}
    takers = [
        *(
            lambda i=i: call(
                "POST",
                f"{api}/users",
                admin,
                {"email": f"api{i}@example.edu", "first_name": "A", "last_name": "P"},
                json_type,
            )
            for i in range(3)
        ),
        *(
            lambda i=i: call(
                "POST", f"{scim}/Users", small.scim_token, {"schemas": [USER_SCHEMA], "userName": f"scim{i}"}
            )
            for i in range(3)
        ),
        lambda: call(
            "POST",
            f"{scim}/Bulk",
            small.scim_token,
            {
                "schemas": [BULK],
                "Operations": [
                    {
                        "method": "POST",
                        "path": "/Users",
                        "bulkId": "b",
                        "data": {"schemas": [USER_SCHEMA], "userName": "bulk"},
                    }
                ],
            },
        ),
        *(lambda i=i: call("PATCH", f"{scim}/Users/{asleep[i]}", small.scim_token, wake) for i in range(2)),
        lambda: call("PATCH", f"{api}/users/{asleep[2]}", admin, {"status": "active"}, json_type),
    ]
    assert len(takers) == 10  # + the import's row and the batch action's user: 12 ways to take a seat
    barrier = threading.Barrier(len(takers) + 1)

    def take(i: int):
        barrier.wait()
        return takers[i]()

    with ThreadPoolExecutor(max_workers=len(takers)) as pool:
        pending = [pool.submit(take, i) for i in range(len(takers))]
        barrier.wait()
        run_jobs()  # meanwhile, the import's row and the batch reactivation (RQ's worker wants the main thread)
        results = [f.result() for f in pending]

    taken = 0
    for status, body in results:
        if status in (200, 201) and not (body or {}).get("Operations"):
            taken += 1
        elif body and body.get("Operations"):  # the Bulk: its one operation's own status
            (bulk,) = body["Operations"]
            if bulk["status"] == "201":
                taken += 1
            else:
                assert bulk["status"] == "403" and "seat limit" in bulk["response"]["detail"], bulk
        else:
            assert status == 403, (status, body)
            assert "seat limit" in (body.get("message") or body.get("detail")), body
    run_jobs()  # whatever the worker had not reached yet
    import_result = operation(rt, small.id, import_op)
    batch_result = operation(rt, small.id, batch_op)
    taken += import_result.result.get("users_created", 0) + batch_result.result.get("changed", 0)
    with rt.db.read() as s:
        active = s.query(User).filter(User.tenant_id == small.id, User.status != "deactivated").count()
    assert active == 5, (active, results, import_result.result, batch_result.result)
    assert taken == 5, (taken, results, import_result.result, batch_result.result)
    # Refused is never lost: the import reports its row, the batch action its user.
    if not import_result.result.get("users_created"):
        (row,) = [r for r in client.get(f"/api/v1/imports/{imported['id']}/errors", headers=small.admin).json["items"]]
        assert "seat" in row["message"], row
    if batch_result.result.get("failed"):
        assert "seat limit" in batch_result.errors[0]["message"]
