"""Protocol behaviour of /scim/v2: auth, content types, errors, ETags, paging, sorting, projection, search."""

from __future__ import annotations

import json

import pytest

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def create(client, tenant, user_name, **attrs):
    r = client.post("/scim/v2/Users", json={"userName": user_name, **attrs}, headers=tenant.scim)
    assert r.status_code == 201, r.json
    return r.json


def test_missing_or_wrong_token_is_a_401_in_scim_form_with_www_authenticate(client, tenant):
    for headers in ({}, {"Authorization": "Bearer prov_nope"}, {"Authorization": "Basic abc"}):
        r = client.get("/scim/v2/Users", headers=headers)
        assert r.status_code == 401
        assert r.mimetype == "application/scim+json"
        assert r.json == {"schemas": [ERROR], "status": "401", "detail": r.json["detail"]}
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_admin_token_is_forbidden(client, tenant):
    r = client.get("/scim/v2/Users", headers=tenant.admin)
    assert r.status_code == 403 and r.json["status"] == "403"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/scim+json",
        "application/scim+json; charset=utf-8",
        "application/json",
        "application/json;charset=UTF-8",
        None,
        "text/plain",
    ],
)
def test_bodies_are_read_whatever_the_content_type(client, tenant, content_type):
    headers = dict(tenant.scim)
    if content_type:
        headers["Content-Type"] = content_type
    r = client.post("/scim/v2/Users", data=json.dumps({"userName": "ct"}), headers=headers)
    assert r.status_code == 201, r.json
    assert r.mimetype == "application/scim+json"


GARBAGE = [
    b"",
    b"not json",
    b"[1, 2]",
    b"null",
    b"42",
    b'"userName"',
    b"{",
    b'{"userName": 12}',
    b'{"userName": null}',
    b'{"userName": ["a"]}',
    b'{"userName": "a", "name": "flat"}',
    b'{"userName": "a", "emails": "x@y"}',
    b'{"userName": "a", "emails": [1]}',
    b'{"userName": "a", "active": 3}',
    b'{"userName": "' + b"x" * 5000 + b'"}',
    b'{"userName": "a\\u0000b"}',
    b'{"userName": "a", "title": 1e400}',
    b'{"userName": "a", "nickName": 1e400}',
    b'{"userName": "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}',
    b'{"userName": "a", "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User": {"k": "\\u0000"}}',
    b'{"userName": "a", "phoneNumbers": [{"value": 99999999999999999999999999999999999999}]}',
    b"[" * 5000 + b"]" * 5000,
    b'{"displayName": {"a": 1}}',
    b"\xff\xfe\x00",
]


@pytest.mark.parametrize("path", ["/Users", "/Groups", "/Bulk", "/.search", "/Users/.search"])
def test_garbage_bodies_are_4xx_never_5xx(client, tenant, path):
    for body in GARBAGE:
        r = client.post(f"/scim/v2{path}", data=body, content_type="application/scim+json", headers=tenant.scim)
        if "search" in path and body.startswith(b"{") and r.status_code == 200:
            continue  # an object with unknown keys is a valid search request (unknown keys are ignored)
        assert 400 <= r.status_code < 500, (path, body[:60], r.status_code, r.get_data()[:300])
        assert r.json["schemas"] == [ERROR]


def test_garbage_patches_and_puts_are_4xx(client, tenant):
    uid = create(client, tenant, "u1")["id"]
    gid = client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json["id"]
    bodies = GARBAGE + [
        b'{"Operations": "x"}',
        b'{"Operations": [1]}',
        b'{"Operations": [{"op": 1}]}',
        b'{"Operations": [{"op": "add", "path": 5, "value": 1}]}',
        b'{"Operations": [{"op": "add", "value": [1]}]}',
        b'{"Operations": [{"op": "add", "path": "members", "value": [{"value": "1e400"}]}]}',
        b'{"Operations": [{"op": "add", "path": "members", "value": "x"}]}',
    ]
    for resource in (f"/Users/{uid}", f"/Groups/{gid}"):
        for method in ("patch", "put"):
            for body in bodies:
                r = getattr(client, method)(
                    f"/scim/v2{resource}", data=body, content_type="application/json", headers=tenant.scim
                )
                assert r.status_code < 500, (method, resource, body[:80], r.get_data()[:300])


def test_bad_query_parameters_are_400s(client, tenant):
    for query in (
        "startIndex=abc",
        "count=1.5",
        "sortOrder=sideways",
        "filter=userName eq",
        "filter=nosuch eq 1",
        "sortBy=nosuch",
        'filter=userName eq "a" and',
        "startIndex=99999999999999999999999999",
    ):
        r = client.get(f"/scim/v2/Users?{query}", headers=tenant.scim)
        assert r.status_code in (200, 400), query
        if query != "startIndex=99999999999999999999999999":
            assert r.status_code == 400 and r.json["schemas"] == [ERROR], query
    r = client.get("/scim/v2/Users?filter=nosuch eq 1", headers=tenant.scim)
    assert r.json["scimType"] == "invalidFilter"


def test_unknown_endpoints_and_methods_answer_in_scim_form(client, tenant):
    r = client.get("/scim/v2/Nope", headers=tenant.scim)
    assert r.status_code == 404 and r.json["schemas"] == [ERROR]
    r = client.delete("/scim/v2/Users", headers=tenant.scim)
    assert r.status_code == 405 and r.json["schemas"] == [ERROR]


def test_etags_if_none_match_and_if_match(client, tenant):
    user = create(client, tenant, "u1")
    uid, etag = user["id"], user["meta"]["version"]
    r = client.get(f"/scim/v2/Users/{uid}", headers={**tenant.scim, "If-None-Match": etag})
    assert r.status_code == 304 and r.headers["ETag"] == etag
    ops = {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}
    r = client.patch(f"/scim/v2/Users/{uid}", json=ops, headers={**tenant.scim, "If-Match": 'W/"999"'})
    assert r.status_code == 412 and r.json["status"] == "412"
    r = client.patch(f"/scim/v2/Users/{uid}", json=ops, headers={**tenant.scim, "If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag == user["meta"]["version"]
    assert r.headers["ETag"] == r.json["meta"]["version"]
    r = client.get(f"/scim/v2/Users/{uid}", headers={**tenant.scim, "If-None-Match": etag})
    assert r.status_code == 200
    assert (
        client.put(
            f"/scim/v2/Users/{uid}", json={"userName": "u1"}, headers={**tenant.scim, "If-Match": etag}
        ).status_code
        == 412
    )
    assert client.delete(f"/scim/v2/Users/{uid}", headers={**tenant.scim, "If-Match": etag}).status_code == 412
    assert client.delete(f"/scim/v2/Users/{uid}", headers={**tenant.scim, "If-Match": "*"}).status_code == 204


def test_group_etag_changes_when_members_change(client, tenant):
    uid = create(client, tenant, "u1")["id"]
    group = client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json
    r = client.patch(
        f"/scim/v2/Groups/{group['id']}",
        json={"Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]},
        headers={**tenant.scim, "If-Match": group["meta"]["version"]},
    )
    assert r.status_code == 204 and r.headers["ETag"] != group["meta"]["version"]
    r = client.patch(
        f"/scim/v2/Groups/{group['id']}",
        json={"Operations": [{"op": "remove", "path": "members"}]},
        headers={**tenant.scim, "If-Match": group["meta"]["version"]},
    )
    assert r.status_code == 412


def test_pagination_counts_and_a_stable_order(client, tenant):
    ids = [create(client, tenant, f"user{i:02d}")["id"] for i in range(7)]
    seen = []
    for start in (1, 4, 7):
        page = client.get(f"/scim/v2/Users?startIndex={start}&count=3", headers=tenant.scim).json
        assert page["schemas"] == [LIST] and page["totalResults"] == 7 and page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"]) == (3 if start < 7 else 1)
        seen += [u["id"] for u in page["Resources"]]
    assert seen == ids
    beyond = client.get("/scim/v2/Users?startIndex=50", headers=tenant.scim).json
    assert beyond["totalResults"] == 7 and beyond["Resources"] == [] and beyond["itemsPerPage"] == 0
    zero = client.get("/scim/v2/Users?count=0", headers=tenant.scim).json
    assert zero["totalResults"] == 7 and zero["Resources"] == [] and zero["itemsPerPage"] == 0
    negative = client.get("/scim/v2/Users?startIndex=-5&count=-1", headers=tenant.scim).json
    assert negative["startIndex"] == 1 and negative["Resources"] == []


def test_maximum_page_size_is_advertised_and_enforced(client, app, tenant):
    app.config["SCIM_MAX_PAGE_SIZE"] = 2
    for i in range(3):
        create(client, tenant, f"u{i}")
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json
    assert config["filter"] == {"supported": True, "maxResults": 2}
    for query in ("", "?count=100"):
        page = client.get(f"/scim/v2/Users{query}", headers=tenant.scim).json
        assert page["totalResults"] == 3 and page["itemsPerPage"] == 2


def test_sorting_by_user_name_ignoring_case_both_ways(client, tenant):
    for name in ("bob", "Alice", "carol"):
        create(client, tenant, name)
    asc = client.get("/scim/v2/Users?sortBy=userName", headers=tenant.scim).json["Resources"]
    desc = client.get("/scim/v2/Users?sortBy=userName&sortOrder=descending", headers=tenant.scim).json["Resources"]
    assert [u["userName"] for u in asc] == ["Alice", "bob", "carol"]
    assert [u["userName"] for u in desc] == ["carol", "bob", "Alice"]


def test_attributes_and_excluded_attributes(client, tenant):
    create(
        client,
        tenant,
        "u1",
        name={"givenName": "Ada", "familyName": "L"},
        title="T",
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D", "division": "V"}},
    )
    only = client.get(
        "/scim/v2/Users?attributes=userName,name.givenName,"
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        headers=tenant.scim,
    ).json["Resources"][0]
    assert set(only) == {
        "schemas",
        "id",
        "userName",
        "name",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    }
    assert only["name"] == {"givenName": "Ada"}
    assert only["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {"department": "D"}
    without = client.get("/scim/v2/Users?excludedAttributes=title,name.familyName,meta,id", headers=tenant.scim).json[
        "Resources"
    ][0]
    assert "title" not in without and "meta" not in without and without["name"] == {"givenName": "Ada"}
    assert "id" in without  # returned "always"


def test_a_filter_that_matches_nothing_answers_an_empty_list(client, tenant):
    create(client, tenant, "u1")
    r = client.get('/scim/v2/Users?filter=userName eq "nobody@example.org"', headers=tenant.scim)
    assert r.status_code == 200
    assert r.json == {"schemas": [LIST], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}


def test_post_search_on_resources_and_at_the_root(client, tenant):
    create(client, tenant, "ada", title="Engineer")
    create(client, tenant, "bob", title="Sales")
    client.post("/scim/v2/Groups", json={"displayName": "Engineers"}, headers=tenant.scim)
    body = {
        "schemas": [SEARCH],
        "filter": 'title eq "Engineer"',
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
    }
    r = client.post("/scim/v2/Users/.search", json=body, headers=tenant.scim)
    assert r.status_code == 200 and [u["userName"] for u in r.json["Resources"]] == ["ada"]
    groups = client.post(
        "/scim/v2/Groups/.search", json={"schemas": [SEARCH], "filter": 'displayName sw "eng"'}, headers=tenant.scim
    ).json
    assert [g["displayName"] for g in groups["Resources"]] == ["Engineers"]
    everything = client.post("/scim/v2/.search", json={"schemas": [SEARCH]}, headers=tenant.scim).json
    assert everything["totalResults"] == 3
    assert sorted(r["meta"]["resourceType"] for r in everything["Resources"]) == ["Group", "User", "User"]
    # a filter only one resource type understands searches that type only
    by_name = client.post(
        "/scim/v2/.search", json={"schemas": [SEARCH], "filter": 'userName eq "bob"'}, headers=tenant.scim
    ).json
    assert [r["userName"] for r in by_name["Resources"]] == ["bob"]
    paged = client.post(
        "/scim/v2/.search", json={"schemas": [SEARCH], "startIndex": 3, "count": 5}, headers=tenant.scim
    ).json
    assert paged["totalResults"] == 3 and [r["meta"]["resourceType"] for r in paged["Resources"]] == ["Group"]


def test_discovery_tells_the_truth(client, app, tenant):
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json
    assert config["patch"]["supported"] and config["sort"]["supported"] and config["etag"]["supported"]
    assert config["changePassword"]["supported"] is False
    assert config["bulk"] == {
        "supported": True,
        "maxOperations": app.config["SCIM_BULK_MAX_OPERATIONS"],
        "maxPayloadSize": app.config["SCIM_BULK_MAX_PAYLOAD_SIZE"],
    }
    types = client.get("/scim/v2/ResourceTypes", headers=tenant.scim).json
    assert {t["id"]: t["endpoint"] for t in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    schemas = client.get("/scim/v2/Schemas", headers=tenant.scim).json["Resources"]
    ids = [s["id"] for s in schemas]
    assert ids == [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ]
    enterprise = client.get(f"/scim/v2/Schemas/{ids[1]}", headers=tenant.scim).json
    assert [a["name"] for a in enterprise["attributes"]] == [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ]
    user_attrs = {a["name"] for a in schemas[0]["attributes"]}
    assert "password" not in user_attrs  # we never store passwords, so we don't advertise one
    assert client.get('/scim/v2/Schemas?filter=id eq "x"', headers=tenant.scim).status_code == 403
    assert client.get("/scim/v2/Schemas/urn:nope", headers=tenant.scim).status_code == 404


def test_tenant_custom_attributes_are_described_in_the_extension_schema(client, tenant, rt):
    from provisioning.services import tenants

    with rt.db.transaction() as s:
        t = tenants.load_tenant(s, tenant.id)
        t.settings = {
            **(t.settings or {}),
            "custom_attributes": [{"name": "hireDate", "type": "dateTime"}, {"name": "location"}],
        }
    schema = client.get(
        "/scim/v2/Schemas/urn:ietf:params:scim:schemas:extension:provisioning:2.0:User", headers=tenant.scim
    ).json
    assert [(a["name"], a["type"]) for a in schema["attributes"]] == [("hireDate", "dateTime"), ("location", "string")]


def test_long_and_deeply_nested_patch_filters_are_4xx_or_work(client, tenant):
    uid = create(client, tenant, "u1")["id"]
    gid = client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json["id"]
    long_or = "emails[" + " or ".join(f'type eq "{i}"' for i in range(3000)) + "].value"
    deep = "emails[" + "(" * 5000 + 'type eq "x"' + ")" * 5000 + "].value"
    for path in (long_or, deep):
        r = client.patch(
            f"/scim/v2/Users/{uid}",
            json={"Operations": [{"op": "replace", "path": path, "value": "a@b.c"}]},
            headers=tenant.scim,
        )
        assert r.status_code in (200, 400), (len(path), r.status_code)
    # removing thousands of members by an "or" filter is still one set-based delete
    many = "members[" + " or ".join(f'value eq "{i + 1}"' for i in range(3000)) + "]"
    r = client.patch(
        f"/scim/v2/Groups/{gid}", json={"Operations": [{"op": "remove", "path": many}]}, headers=tenant.scim
    )
    assert r.status_code == 204
