"""The admin API's /users endpoints through the Flask test client."""

import pytest

from tests.support.api import USER_FIELDS, new_user


def test_created_user_has_every_documented_field(client, tenant):
    user = new_user(
        client,
        tenant,
        "ann@example.org",
        first_name="Ann",
        last_name="Lee",
        department="Sales",
        custom_attributes={"location": "Lyon"},
    )
    assert set(user) >= USER_FIELDS
    assert user["username"] == "ann@example.org"  # defaults to the email
    assert (user["first_name"], user["last_name"]) == ("Ann", "Lee")
    assert user["status"] == "active" and user["active"] is True and user["role"] == "learner"
    assert user["department"] == "Sales" and user["custom_attributes"] == {"location": "Lyon"}
    assert user["last_login_at"] is None
    assert client.get(f"/api/v1/users/{user['id']}", headers=tenant.admin).json == user


def test_a_taken_email_is_a_409_naming_the_email_ignoring_case(client, tenant):
    new_user(client, tenant, "ann@example.org")
    r = client.post(
        "/api/v1/users",
        json={"email": "ANN@example.org", "username": "ann2", "first_name": "A", "last_name": "L"},
        headers=tenant.admin,
    )
    assert r.status_code == 409
    assert list(r.json["errors"]) == ["email"] and "ANN@example.org" in r.json["message"]


def test_a_taken_username_is_a_409_naming_the_username(client, tenant):
    new_user(client, tenant, "ann@example.org", username="ann")
    r = client.post(
        "/api/v1/users",
        json={"email": "other@example.org", "username": "Ann", "first_name": "A", "last_name": "L"},
        headers=tenant.admin,
    )
    assert r.status_code == 409 and list(r.json["errors"]) == ["username"]


def test_missing_required_fields_are_named(client, tenant):
    r = client.post("/api/v1/users", json={"username": "ann"}, headers=tenant.admin)
    assert r.status_code == 400
    assert set(r.json["errors"]) == {"email", "first_name", "last_name"}


def test_unknown_fields_are_a_400_naming_them(client, tenant):
    r = client.post(
        "/api/v1/users",
        json={"email": "a@example.org", "first_name": "A", "last_name": "L", "given_name": "A", "shoe_size": 42},
        headers=tenant.admin,
    )
    assert r.status_code == 400
    assert r.json["errors"] == {"given_name": ["Unknown field."], "shoe_size": ["Unknown field."]}
    assert "shoe_size" in r.json["message"]


def test_invalid_values_are_400s_naming_their_fields(client, tenant):
    r = client.post(
        "/api/v1/users", json={"email": "not an address", "first_name": "A", "last_name": "L"}, headers=tenant.admin
    )
    assert r.status_code == 400 and "email" in r.json["errors"]
    r = client.post(
        "/api/v1/users",
        json={
            "email": "a@example.org",
            "first_name": "A",
            "last_name": "x" * 201,
            "role": "owner",
            "active": "sometimes",
        },
        headers=tenant.admin,
    )
    assert r.status_code == 400 and set(r.json["errors"]) == {"last_name", "active"}
    # The role is one of the tenant's roles (built-in or its own), checked once the fields are well formed.
    r = client.post(
        "/api/v1/users",
        json={"email": "a@example.org", "first_name": "A", "last_name": "L", "role": "owner"},
        headers=tenant.admin,
    )
    assert r.status_code == 400 and set(r.json["errors"]) == {"role"} and "owner" in str(r.json["errors"]["role"])


def test_the_seat_limit_refuses_a_new_user_with_a_403_saying_the_limit(client, make_tenant):
    small = make_tenant("Small School", seat_limit=1)
    new_user(client, small, "ann@example.org")
    r = client.post(
        "/api/v1/users", json={"email": "bob@example.org", "first_name": "Bob", "last_name": "Lee"}, headers=small.admin
    )
    assert r.status_code == 403
    assert "seat limit of 1" in r.json["message"]
    assert client.get("/api/v1/users", headers=small.admin).json["total"] == 1


def test_list_filters_by_q_and_status_and_counts_the_total(client, tenant):
    ann = new_user(client, tenant, "ann@example.org", first_name="Ann")
    new_user(client, tenant, "bob@example.org", first_name="Bob")
    new_user(client, tenant, "joanna@example.org", first_name="Joanna")
    client.patch(f"/api/v1/users/{ann['id']}", json={"status": "deactivated"}, headers=tenant.admin)

    def emails(query):
        r = client.get(f"/api/v1/users?{query}", headers=tenant.admin)
        assert r.status_code == 200, r.json
        return [u["email"] for u in r.json["items"]]

    assert emails("q=ANN") == ["ann@example.org", "joanna@example.org"]
    assert emails("status=deactivated") == ["ann@example.org"]
    assert emails("q=ann&status=active") == ["joanna@example.org"]
    page = client.get("/api/v1/users?per_page=2&page=2", headers=tenant.admin).json
    assert (page["total"], page["page"], page["per_page"]) == (3, 2, 2)
    assert [u["email"] for u in page["items"]] == ["joanna@example.org"]


def test_bad_list_parameters_are_400s(client, tenant):
    r = client.get("/api/v1/users?status=gone&page=0", headers=tenant.admin)
    assert r.status_code == 400 and set(r.json["errors"]) == {"status", "page"}


def test_patch_changes_only_the_given_fields(client, tenant):
    user = new_user(client, tenant, "ann@example.org", title="Nurse")
    r = client.patch(f"/api/v1/users/{user['id']}", json={"first_name": "Anne", "language": "fr"}, headers=tenant.admin)
    assert r.status_code == 200
    assert (r.json["first_name"], r.json["language"], r.json["title"]) == ("Anne", "fr", "Nurse")
    assert r.json["last_name"] == "Lee"


def test_patch_active_false_deactivates_and_active_true_reactivates(client, tenant):
    user = new_user(client, tenant, "ann@example.org")
    r = client.patch(f"/api/v1/users/{user['id']}", json={"active": False}, headers=tenant.admin)
    assert (r.json["status"], r.json["active"]) == ("deactivated", False)
    events = client.get(
        f"/api/v1/activity?object_type=user&object_id={user['id']}&action=user.deactivated", headers=tenant.admin
    ).json
    assert events["total"] == 1
    r = client.patch(f"/api/v1/users/{user['id']}", json={"status": "active"}, headers=tenant.admin)
    assert (r.json["status"], r.json["active"]) == ("active", True)


def test_reactivation_beyond_the_seat_limit_is_refused(client, make_tenant):
    small = make_tenant("Small School", seat_limit=1)
    ann = new_user(client, small, "ann@example.org")
    client.patch(f"/api/v1/users/{ann['id']}", json={"active": False}, headers=small.admin)
    new_user(client, small, "bob@example.org")
    r = client.patch(f"/api/v1/users/{ann['id']}", json={"active": True}, headers=small.admin)
    assert r.status_code == 403 and "seat limit" in r.json["message"]
    assert client.get(f"/api/v1/users/{ann['id']}", headers=small.admin).json["status"] == "deactivated"


def test_patching_onto_a_taken_username_is_a_409(client, tenant):
    new_user(client, tenant, "ann@example.org", username="ann")
    bob = new_user(client, tenant, "bob@example.org", username="bob")
    r = client.patch(f"/api/v1/users/{bob['id']}", json={"username": "ANN"}, headers=tenant.admin)
    assert r.status_code == 409 and list(r.json["errors"]) == ["username"]


@pytest.mark.parametrize(
    "path", ["/api/v1/users/999", "/api/v1/users/abc", "/api/v1/users/-1", f"/api/v1/users/{10**30}"]
)
def test_an_unknown_or_malformed_user_id_is_a_404(client, tenant, path):
    r = client.get(path, headers=tenant.admin)
    assert r.status_code == 404 and r.is_json


BAD_BODIES = [
    pytest.param({"data": '{"email": ', "content_type": "application/json"}, "json", id="malformed-json"),
    pytest.param({"data": "email=a@b.c", "content_type": "application/x-www-form-urlencoded"}, "json", id="not-json"),
    pytest.param({"json": ["a@example.org"]}, "_schema", id="array-body"),
    pytest.param({"json": {"email": 12, "first_name": "A", "last_name": "L"}}, "email", id="wrong-type"),
    pytest.param(
        {"json": {"email": "a@example.org", "first_name": "A\u0000", "last_name": "L"}},
        "first_name",
        id="nul-character",
    ),
    pytest.param(
        {"data": '{"email": "a@b.c", "first_name": "\\ud800", "last_name": "L"}', "content_type": "application/json"},
        "first_name",
        id="lone-surrogate",
    ),
    pytest.param(
        {
            "data": '{"email": "a@b.c", "first_name": "A", "last_name": "L", "custom_attributes": {"score": NaN}}',
            "content_type": "application/json",
        },
        "custom_attributes.score",
        id="nan",
    ),
    pytest.param(
        {"json": {"email": "a@example.org", "first_name": "A", "last_name": "L", "custom_attributes": "Lyon"}},
        "custom_attributes",
        id="attributes-not-an-object",
    ),
]


@pytest.mark.parametrize("request_kwargs, field", BAD_BODIES)
def test_bad_bodies_are_400s_that_say_where(client, tenant, request_kwargs, field):
    r = client.post("/api/v1/users", headers=tenant.admin, **request_kwargs)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert field in r.json["errors"] and r.json["message"]
    assert client.get("/api/v1/users", headers=tenant.admin).json["total"] == 0


def test_a_nul_character_in_a_query_parameter_is_a_400(client, tenant):
    r = client.get("/api/v1/users?q=a%00b", headers=tenant.admin)
    assert r.status_code == 400 and "q" in r.json["errors"]


def test_a_body_larger_than_the_limit_is_a_413(app, client, tenant):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = client.post(
        "/api/v1/users",
        json={"email": "a@example.org", "first_name": "A" * 2000, "last_name": "L"},
        headers=tenant.admin,
    )
    assert r.status_code == 413 and "1000 bytes" in r.json["message"]


@pytest.mark.parametrize("depth", [40, 100_000])
def test_absurdly_nested_attributes_are_a_400(client, tenant, depth):
    body = (
        '{"email": "a@example.org", "first_name": "A", "last_name": "L", "custom_attributes": {"x": '
        + "[" * depth
        + "]" * depth
        + "}}"
    )
    r = client.post("/api/v1/users", data=body, content_type="application/json", headers=tenant.admin)
    assert r.status_code == 400 and "levels deep" in r.json["message"]
