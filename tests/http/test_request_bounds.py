"""Work per request is bounded (issue 15 #10) and a Bulk is rate-counted as a whole (issue 18 #5).

* SCIM Bulk: over maxOperations or maxPayloadSize is a 413 naming the limit, before any operation runs
  (RFC 7644 §3.7.4); /ServiceProviderConfig advertises exactly what is enforced (provisioning/limits.py).
* Members one request may name (SCIM POST/PUT/PATCH of a group, a Bulk as a whole, the admin API): over
  the limit is a 413 (SCIM) or 400 (admin API) naming it, and nothing is applied.
* SCIM Group lists leave out the members of groups over SCIM_LIST_MEMBERS_MAX; GET by id stays complete.
* A Bulk counts against RATE_LIMIT_PER_MINUTE once, by its weight (limits.bulk_cost), charged before its
  first operation: it runs whole or is refused whole (429 with Retry-After, RFC 6585 §4), never 429s
  inside a 200, while a flood of requests is still refused.
"""

from __future__ import annotations

import json
import time

from provisioning import limits
from provisioning.observability.ratelimit import MemoryWindow, RateLimiter
from tests.support.factories import group_with_members, make_users, member_count

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _creations(n: int, prefix: str = "u") -> list[dict]:
    return [
        {"method": "POST", "path": "/Users", "bulkId": f"{prefix}{i}", "data": {"userName": f"{prefix}{i}@x.org"}}
        for i in range(n)
    ]


def _bulk(client, tenant, operations):
    return client.post("/scim/v2/Bulk", json={"schemas": [BULK], "Operations": operations}, headers=tenant.scim)


def _users(client, tenant) -> int:
    return client.get("/scim/v2/Users?count=0", headers=tenant.scim).json["totalResults"]


def _wait_for_a_fresh_minute(margin: float = 10) -> None:
    # The limiter's window is a fixed minute: start a burst early in one so it can't straddle two.
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


def test_the_advertised_bulk_limits_are_the_enforced_ones_and_over_them_nothing_runs(client, tenant):
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json["bulk"]
    # One place: the defaults in provisioning/limits.py, small enough to keep a Bulk to a few seconds.
    assert config == {
        "supported": True,
        "maxOperations": limits.BULK_MAX_OPERATIONS,
        "maxPayloadSize": limits.BULK_MAX_PAYLOAD_SIZE,
    }
    maximum = config["maxOperations"]
    r = _bulk(client, tenant, _creations(maximum + 1))
    # RFC 7644 §3.7.4: 413, "MUST specify the limit exceeded"; its example error carries no scimType.
    assert r.status_code == 413 and r.mimetype == "application/scim+json"
    assert r.json["schemas"] == [ERROR] and r.json["status"] == "413" and "scimType" not in r.json
    assert f"maxOperations ({maximum})" in r.json["detail"]
    assert _users(client, tenant) == 0
    # Exactly maxOperations runs, every operation.
    r = _bulk(client, tenant, _creations(maximum))
    assert r.status_code == 200 and {o["status"] for o in r.json["Operations"]} == {"201"}
    assert _users(client, tenant) == maximum


def test_a_bulk_over_max_payload_size_is_a_413_naming_it_and_nothing_runs(client, tenant):
    limit = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json["bulk"]["maxPayloadSize"]
    ops = [
        {"method": "POST", "path": "/Users", "bulkId": str(i), "data": {"userName": f"p{i}", "title": "t" * 40_000}}
        for i in range(limit // 40_000 + 1)
    ]
    body = json.dumps({"schemas": [BULK], "Operations": ops})
    assert len(body) > limit and len(ops) <= limits.BULK_MAX_OPERATIONS
    r = client.post("/scim/v2/Bulk", data=body, headers={**tenant.scim, "Content-Type": "application/scim+json"})
    assert r.status_code == 413 and r.json["schemas"] == [ERROR] and "scimType" not in r.json
    assert f"maximum of {limit} bytes (maxPayloadSize)" in r.json["detail"]
    assert _users(client, tenant) == 0


def test_a_member_patch_over_the_limit_is_a_413_naming_it_at_the_default_limit(client, tenant):
    group = client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json
    too_many = [{"value": str(i)} for i in range(1, limits.MEMBERS_PER_REQUEST + 2)]
    r = client.patch(
        f"/scim/v2/Groups/{group['id']}",
        json={"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": too_many}]},
        headers=tenant.scim,
    )
    assert r.status_code == 413 and r.json["schemas"] == [ERROR] and "scimType" not in r.json
    detail = r.json["detail"]
    assert f"names {limits.MEMBERS_PER_REQUEST + 1} members" in detail
    assert f"at most {limits.MEMBERS_PER_REQUEST}" in detail and "SCIM_MAX_MEMBERS_PER_REQUEST" in detail


def test_members_over_the_limit_are_refused_on_every_group_write_and_nothing_is_applied(client, app, rt, tenant):
    app.config["SCIM_MAX_MEMBERS_PER_REQUEST"] = 3
    ids = list(make_users(rt, tenant.id, *(f"m{i}@x.org" for i in range(4))).values())
    members = [{"value": str(i)} for i in ids]
    group = client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json
    path = f"/scim/v2/Groups/{group['id']}"
    refused = [
        # one operation naming four
        client.patch(
            path,
            json={"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members}]},
            headers=tenant.scim,
        ),
        # the operations of one PATCH add up (Entra sends one operation per member)
        client.patch(
            path,
            json={
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "add", "path": "members", "value": members[:2]},
                    {"op": "replace", "value": {"members": members[2:3]}},
                    {"op": "remove", "path": f'members[value eq "{ids[3]}"]'},
                ],
            },
            headers=tenant.scim,
        ),
        client.put(path, json={"displayName": "G", "members": members}, headers=tenant.scim),
        client.post("/scim/v2/Groups", json={"displayName": "H", "members": members}, headers=tenant.scim),
        # a Bulk as a whole: maxOperations small PATCHes must not multiply the bound
        _bulk(
            client,
            tenant,
            [
                {
                    "method": "PATCH",
                    "path": f"/Groups/{group['id']}",
                    "data": {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [m]}]},
                }
                for m in members
            ],
        ),
    ]
    for r in refused:
        assert r.status_code == 413, r.get_data(as_text=True)
        assert "at most 3 may be named in one request" in r.json["detail"]
    assert member_count(rt, int(group["id"])) == 0
    listed = client.get('/scim/v2/Groups?filter=displayName eq "H"', headers=tenant.scim).json
    assert listed["totalResults"] == 0
    # At the limit it works.
    r = client.patch(
        path,
        json={"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members[:3]}]},
        headers=tenant.scim,
    )
    assert r.status_code == 204 and member_count(rt, int(group["id"])) == 3


def test_the_admin_api_shares_the_member_limit(client, tenant):
    group = client.post("/api/v1/groups", json={"name": "G"}, headers=tenant.admin).json
    r = client.post(
        f"/api/v1/groups/{group['id']}/members",
        json={"emails": [f"e{i}@x.org" for i in range(limits.MEMBERS_PER_REQUEST + 1)], "invite": True},
        headers=tenant.admin,
    )
    assert r.status_code == 400 and str(limits.MEMBERS_PER_REQUEST) in json.dumps(r.json["errors"]["emails"])
    assert client.get("/api/v1/users", headers=tenant.admin).json["total"] == 0
    spec = client.get("/api/v1/openapi.json").json
    member_add = spec["components"]["schemas"]["MembersToAdd"]["properties"]
    assert member_add["user_ids"]["maxItems"] == member_add["emails"]["maxItems"] == limits.MEMBERS_PER_REQUEST


def test_a_group_list_leaves_out_the_members_of_a_large_group_and_stays_small(client, app, rt, tenant):
    big = group_with_members(rt, tenant.id, "big", limits.LIST_MEMBERS_MAX + 1)
    small = group_with_members(rt, tenant.id, "small", 3)
    for params in ("", "?attributes=displayName,members", "?filter=displayName pr"):
        r = client.get(f"/scim/v2/Groups{params}", headers=tenant.scim)
        assert r.status_code == 200
        by_id = {g["id"]: g for g in r.json["Resources"]}
        assert "members" not in by_id[str(big)] and len(by_id[str(small)]["members"]) == 3
        assert len(r.get_data()) < 5_000, params
    searched = client.post("/scim/v2/Groups/.search", json={}, headers=tenant.scim).json
    assert "members" not in {g["id"]: g for g in searched["Resources"]}[str(big)]
    # By id, the group is complete (and ?excludedAttributes=members still leaves them out).
    one = client.get(f"/scim/v2/Groups/{big}", headers=tenant.scim).json
    assert len(one["members"]) == limits.LIST_MEMBERS_MAX + 1
    # The bound is advertised where a client reads the schema.
    schema = client.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", headers=tenant.scim).json
    members = next(a for a in schema["attributes"] if a["name"] == "members")
    assert f"more than {limits.LIST_MEMBERS_MAX}" in members["description"]
    # And it is a setting: the same list with a lower threshold drops the small group's members too.
    app.config["SCIM_LIST_MEMBERS_MAX"] = 2
    listed = client.get("/scim/v2/Groups", headers=tenant.scim).json["Resources"]
    assert all("members" not in g for g in listed)


def test_three_max_size_bulks_in_a_minute_run_whole_and_a_flood_is_still_refused(client, rt, tenant):
    per_bulk = limits.bulk_cost(limits.BULK_MAX_OPERATIONS)
    rt.settings.rate_limit_per_minute = 3 * per_bulk + 5
    _wait_for_a_fresh_minute()
    for k in range(3):
        r = _bulk(client, tenant, _creations(limits.BULK_MAX_OPERATIONS, prefix=f"b{k}-"))
        assert r.status_code == 200
        # No 429 inside the 200: the operations were not counted one by one.
        assert {o["status"] for o in r.json["Operations"]} == {"201"}, k
    assert _users(client, tenant) == 3 * limits.BULK_MAX_OPERATIONS  # (this GET counts 1)
    # A fourth Bulk would go over: refused whole, before any operation, with Retry-After.
    r = _bulk(client, tenant, _creations(limits.BULK_MAX_OPERATIONS, prefix="b3-"))
    assert r.status_code == 429 and r.json["schemas"] == [ERROR] and 1 <= int(r.headers["Retry-After"]) <= 60
    assert f"counts as {per_bulk} (3 left this minute)" in r.json["detail"]
    # The refused Bulk gave its weight back (its arrival counted one): the three requests left still get
    # through, then a flood is 429.
    statuses = [client.get("/scim/v2/Users?count=0", headers=tenant.scim).status_code for _ in range(5)]
    assert statuses == [200] * 3 + [429] * 2
    assert _users_in_the_database(rt, tenant) == 3 * limits.BULK_MAX_OPERATIONS


def _users_in_the_database(rt, tenant) -> int:
    from sqlalchemy import func, select

    from provisioning.models import User

    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id))


def test_a_weighted_request_is_refused_whole_and_gives_its_weight_back():
    limiter = RateLimiter(10, MemoryWindow())
    start = 1_800_000_000.0
    assert limiter.check("t", start, cost=8).allowed
    refused = limiter.check("t", start + 1, cost=5)
    assert not refused.allowed and refused.remaining == 2
    assert [limiter.check("t", start + 2).allowed for _ in range(3)] == [True, True, False]
    assert limiter.check("t", start + 60, cost=10).allowed  # a new minute


def test_inviting_more_new_users_than_one_request_may_create_is_a_400_and_nothing_changes(client, rt, tenant):
    """Adding members by email invites unknown addresses: each is a user, an invitation and an email,
    so one request creates at most USERS_CREATED_PER_REQUEST of them (10,000 took minutes)."""
    from provisioning.services import tenants as tenant_service

    with rt.db.transaction() as s:
        tenant_service.load_tenant(s, tenant.id).settings = {"join_url": "https://lms.example.org/join"}
    group = client.post("/api/v1/groups", json={"name": "G"}, headers=tenant.admin).json
    known = make_users(rt, tenant.id, "known@x.org")
    emails = ["known@x.org"] + [f"new{i}@x.org" for i in range(limits.USERS_CREATED_PER_REQUEST + 1)]
    r = client.post(
        f"/api/v1/groups/{group['id']}/members", json={"emails": emails, "invite": True}, headers=tenant.admin
    )
    assert r.status_code == 400, r.json
    assert f"at most {limits.USERS_CREATED_PER_REQUEST}" in r.json["errors"]["emails"][0]
    assert _users_in_the_database(rt, tenant) == len(known)
    assert member_count(rt, group["id"]) == 0
    # At the limit it works (the known address is not a new user).
    r = client.post(
        f"/api/v1/groups/{group['id']}/members", json={"emails": emails[:-1], "invite": True}, headers=tenant.admin
    )
    assert r.status_code == 200 and r.json["added"] == limits.USERS_CREATED_PER_REQUEST + 1
