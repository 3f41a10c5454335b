"""Concurrent SCIM clients against a real multi-threaded HTTP server (werkzeug's threaded
server in this process, each request on its own thread and database connection):
50 member PATCHes on one group lose no update; simultaneous POSTs of one userName give
exactly one 201 and 409 for the rest."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from tests.support.factories import group_with_members

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def call(method: str, url: str, token: str, body=None) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
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
