"""/scim/v2/Bulk (RFC 7644 §3.7): bulkId references, failOnErrors and the advertised limits."""

from __future__ import annotations

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def bulk(client, tenant, operations, **extra):
    return client.post(
        "/scim/v2/Bulk", json={"schemas": [BULK], "Operations": operations, **extra}, headers=tenant.scim
    )


def test_every_method_runs_and_reports_its_status_location_and_version(client, tenant):
    existing = client.post("/scim/v2/Users", json={"userName": "old"}, headers=tenant.scim).json
    r = bulk(
        client,
        tenant,
        [
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "new"}},
            {
                "method": "PATCH",
                "path": f"/Users/{existing['id']}",
                "version": existing["meta"]["version"],
                "data": {"Operations": [{"op": "replace", "path": "title", "value": "Boss"}]},
            },
            {"method": "PUT", "path": "/Users/bulkId:u", "data": {"userName": "new-renamed"}},
            {"method": "DELETE", "path": f"/Users/{existing['id']}"},
        ],
    )
    assert r.status_code == 200 and r.mimetype == "application/scim+json"
    ops = r.json["Operations"]
    assert [(o["method"], o["status"]) for o in ops] == [
        ("POST", "201"),
        ("PATCH", "200"),
        ("PUT", "200"),
        ("DELETE", "204"),
    ]
    assert ops[0]["location"] == ops[2]["location"] and ops[0]["version"] == 'W/"1"'
    renamed = client.get(ops[0]["location"], headers=tenant.scim).json
    assert renamed["userName"] == "new-renamed"


def test_a_reference_to_a_later_operation_is_resolved_by_running_it_first(client, tenant):
    r = bulk(
        client,
        tenant,
        [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {"displayName": "G", "members": [{"value": "bulkId:u"}]},
            },
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "later"}},
        ],
    )
    ops = r.json["Operations"]
    assert [o["status"] for o in ops] == ["201", "201"]
    user_id = ops[1]["location"].rsplit("/", 1)[1]
    group = client.get(ops[0]["location"], headers=tenant.scim).json
    assert [m["value"] for m in group["members"]] == [user_id]


def test_errors_are_reported_per_operation_and_unresolved_references_fail_clearly(client, tenant):
    client.post("/scim/v2/Users", json={"userName": "taken"}, headers=tenant.scim)
    r = bulk(
        client,
        tenant,
        [
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "TAKEN"}},
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {"displayName": "G", "members": [{"value": "bulkId:dup"}]},
            },
            {"method": "FETCH", "path": "/Users"},
            {"method": "POST", "path": "/Elsewhere", "data": {}},
        ],
    )
    ops = r.json["Operations"]
    assert [o["status"] for o in ops] == ["409", "409", "400", "400"]
    assert ops[0]["response"]["scimType"] == "uniqueness"
    assert "dup" in ops[1]["response"]["detail"]
    assert ops[2]["response"]["scimType"] == "invalidValue"


def test_fail_on_errors_stops_after_that_many_errors(client, tenant):
    r = bulk(
        client,
        tenant,
        [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": ""}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": 5}},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "never-created"}},
        ],
        failOnErrors=2,
    )
    assert [o["bulkId"] for o in r.json["Operations"]] == ["a", "b"]
    listed = client.get('/scim/v2/Users?filter=userName eq "never-created"', headers=tenant.scim).json
    assert listed["totalResults"] == 0


def test_max_operations_is_advertised_and_enforced(client, app, tenant):
    app.config["SCIM_BULK_MAX_OPERATIONS"] = 2
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json
    assert config["bulk"]["maxOperations"] == 2
    r = bulk(
        client,
        tenant,
        [{"method": "POST", "path": "/Users", "bulkId": str(i), "data": {"userName": f"u{i}"}} for i in range(3)],
    )
    assert r.status_code == 413 and r.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert client.get("/scim/v2/Users", headers=tenant.scim).json["totalResults"] == 0


def test_max_payload_size_is_advertised_and_enforced(client, app, tenant):
    app.config["SCIM_BULK_MAX_PAYLOAD_SIZE"] = 2000
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json
    assert config["bulk"]["maxPayloadSize"] == 2000
    r = bulk(
        client,
        tenant,
        [{"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "u", "title": "t" * 3000}}],
    )
    assert r.status_code == 413 and r.json["status"] == "413"


def test_bad_bulk_envelopes_are_400s(client, tenant):
    for body in (
        {"Operations": []},
        {"Operations": "x"},
        {"schemas": ["wrong"], "Operations": [{}]},
        {"Operations": [1]},
        {"Operations": [{"method": "POST"}], "failOnErrors": "x"},
    ):
        r = client.post("/scim/v2/Bulk", json=body, headers=tenant.scim)
        assert r.status_code == 400, body
