"""The admin API's /groups endpoints through the Flask test client."""


def test_created_group_is_listed_with_zero_members(client, tenant):
    r = client.post("/api/v1/groups", json={"name": "Sales Team", "description": "All of sales"}, headers=tenant.admin)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["name"] == "Sales Team" and body["kind"] == "manual" and body["source"] == "api"
    assert body["member_count"] == 0
    listing = client.get("/api/v1/groups?q=sales", headers=tenant.admin).json
    assert listing["total"] == 1 and listing["page"] == 1 and listing["per_page"] == 50
    assert listing["items"][0]["id"] == body["id"]


def test_group_names_are_unique_ignoring_case(client, tenant):
    assert client.post("/api/v1/groups", json={"name": "Math"}, headers=tenant.admin).status_code == 201
    r = client.post("/api/v1/groups", json={"name": "MATH"}, headers=tenant.admin)
    assert r.status_code == 409
    assert "name" in r.json["errors"]


def test_bad_group_body_is_a_400_naming_the_field(client, tenant):
    r = client.post("/api/v1/groups", json={"name": "", "kind": "weird"}, headers=tenant.admin)
    assert r.status_code == 400
    assert set(r.json["errors"]) >= {"name", "kind"}


def test_requests_without_a_valid_token_are_refused(client, tenant):
    assert client.get("/api/v1/groups").status_code == 401
    assert client.get("/api/v1/groups", headers={"Authorization": "Bearer prov_nope"}).status_code == 401
    assert client.get("/api/v1/groups", headers=tenant.scim).status_code == 403
