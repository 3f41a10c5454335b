"""The admin API's /groups endpoints through the Flask test client."""

from tests.support.api import new_group, new_user


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


def test_list_filters_by_kind_and_by_having_members(client, tenant):
    staffed = new_group(client, tenant, "Staff")
    new_group(client, tenant, "Empty")
    new_group(client, tenant, "Roster 1", kind="roster")
    user = new_user(client, tenant, "ann@example.org")
    client.post(f"/api/v1/groups/{staffed['id']}/members", json={"user_ids": [user["id"]]}, headers=tenant.admin)

    def names(query):
        r = client.get(f"/api/v1/groups?{query}", headers=tenant.admin)
        assert r.status_code == 200, r.json
        return [g["name"] for g in r.json["items"]]

    assert names("populated=true") == ["Staff"]
    assert names("populated=false") == ["Empty", "Roster 1"]
    assert names("kind=roster") == ["Roster 1"]
    assert names("q=STA") == ["Staff"]
    listing = client.get("/api/v1/groups?populated=true", headers=tenant.admin).json
    assert listing["items"][0]["member_count"] == 1


def test_list_pages_through_groups_with_the_total(client, tenant):
    for n in range(5):
        new_group(client, tenant, f"Group {n}")
    r = client.get("/api/v1/groups?page=3&per_page=2", headers=tenant.admin)
    assert r.json["total"] == 5 and r.json["page"] == 3 and r.json["per_page"] == 2
    assert [g["name"] for g in r.json["items"]] == ["Group 4"]


def test_q_matches_wildcards_literally(client, tenant):
    new_group(client, tenant, "100% online")
    new_group(client, tenant, "1000 online")
    r = client.get("/api/v1/groups?q=0%25", headers=tenant.admin)
    assert [g["name"] for g in r.json["items"]] == ["100% online"]


def test_bad_list_parameters_are_400s_naming_them(client, tenant):
    r = client.get("/api/v1/groups?populated=maybe&kind=club&per_page=0", headers=tenant.admin)
    assert r.status_code == 400
    assert set(r.json["errors"]) == {"populated", "kind", "per_page"}


def test_a_group_is_read_changed_and_deleted(client, tenant):
    group = new_group(client, tenant, "Math", description="Algebra")
    r = client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin)
    assert r.status_code == 200
    assert {k: r.json[k] for k in ("name", "description", "kind", "source", "member_count")} == {
        "name": "Math",
        "description": "Algebra",
        "kind": "manual",
        "source": "api",
        "member_count": 0,
    }
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"description": "Geometry"}, headers=tenant.admin)
    assert r.status_code == 200 and r.json["description"] == "Geometry" and r.json["name"] == "Math"
    assert client.delete(f"/api/v1/groups/{group['id']}", headers=tenant.admin).status_code == 204
    assert client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).status_code == 404


def test_renaming_onto_another_groups_name_is_a_409(client, tenant):
    new_group(client, tenant, "Math")
    art = new_group(client, tenant, "Art")
    r = client.patch(f"/api/v1/groups/{art['id']}", json={"name": "math"}, headers=tenant.admin)
    assert r.status_code == 409 and "name" in r.json["errors"]


def test_deleting_a_group_keeps_its_members_as_users(client, tenant):
    group = new_group(client, tenant, "Math")
    user = new_user(client, tenant, "ann@example.org")
    client.post(f"/api/v1/groups/{group['id']}/members", json={"user_ids": [user["id"]]}, headers=tenant.admin)
    assert client.delete(f"/api/v1/groups/{group['id']}", headers=tenant.admin).status_code == 204
    assert client.get(f"/api/v1/users/{user['id']}", headers=tenant.admin).status_code == 200


def test_unknown_fields_in_a_patch_are_named(client, tenant):
    group = new_group(client, tenant, "Math")
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"colour": "red"}, headers=tenant.admin)
    assert r.status_code == 400 and r.json["errors"] == {"colour": ["Unknown field."]}
