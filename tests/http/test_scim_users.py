"""/scim/v2/Users: create, read, replace, patch, delete, lifecycle and tenant isolation."""

from __future__ import annotations

from sqlalchemy import select

from provisioning.models import ActivityEvent, Membership, User
from provisioning.services import tenants

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def create(client, tenant, **attrs):
    body = {"schemas": [CORE], **attrs}
    r = client.post("/scim/v2/Users", json=body, headers=tenant.scim)
    assert r.status_code == 201, r.json
    return r.json


def patch(client, tenant, uid, *ops, headers=None):
    return client.patch(
        f"/scim/v2/Users/{uid}",
        json={"schemas": [PATCH], "Operations": list(ops)},
        headers={**tenant.scim, **(headers or {})},
    )


def events(rt, tenant_id, action):
    with rt.db.read() as s:
        return list(
            s.scalars(select(ActivityEvent).where(ActivityEvent.tenant_id == tenant_id, ActivityEvent.action == action))
        )


def test_user_name_keeps_its_case_and_is_unique_ignoring_case(client, tenant):
    created = create(client, tenant, userName="Ada.Lovelace@Example.org")
    assert created["userName"] == "Ada.Lovelace@Example.org"
    r = client.post("/scim/v2/Users", json={"userName": "ada.lovelace@example.ORG"}, headers=tenant.scim)
    assert r.status_code == 409
    assert r.json["scimType"] == "uniqueness" and r.json["status"] == "409"
    assert r.mimetype == "application/scim+json"


def test_primary_email_is_stored_in_columns_and_the_whole_list_is_returned(client, tenant, rt):
    emails = [
        {"value": "home@example.org", "type": "home"},
        {"value": "work@example.org", "type": "work", "primary": True},
    ]
    user = create(client, tenant, userName="u1", emails=emails, phoneNumbers=[{"value": "+1 555", "type": "work"}])
    assert user["emails"] == emails and user["phoneNumbers"] == [{"value": "+1 555", "type": "work"}]
    with rt.db.read() as s:
        row = s.get(User, int(user["id"]))
    assert (row.email, row.email_type) == ("work@example.org", "work")


def test_first_email_is_primary_when_none_is_marked(client, tenant, rt):
    user = create(
        client, tenant, userName="u1", emails=[{"value": "a@example.org", "type": "other"}, {"value": "b@example.org"}]
    )
    with rt.db.read() as s:
        assert s.get(User, int(user["id"])).email == "a@example.org"


def test_enterprise_and_tenant_extensions_are_stored_and_returned(client, tenant, rt):
    user = create(
        client,
        tenant,
        userName="u1",
        schemas=[CORE, ENTERPRISE, CUSTOM],
        **{
            ENTERPRISE: {"department": "Sales", "employeeNumber": "42", "manager": {"value": "7"}},
            CUSTOM: {"location": "Lyon", "hireDate": "2024-02-01", "studentOrEmployee": "employee"},
        },
    )
    assert user[CUSTOM] == {"location": "Lyon", "hireDate": "2024-02-01", "studentOrEmployee": "employee"}
    assert user[ENTERPRISE]["department"] == "Sales" and set(user["schemas"]) == {CORE, ENTERPRISE, CUSTOM}
    with rt.db.read() as s:
        row = s.get(User, int(user["id"]))
    assert row.department == "Sales" and row.manager_id == "7" and row.custom_attributes["location"] == "Lyon"


def test_read_only_attributes_sent_back_are_ignored(client, tenant):
    user = create(
        client,
        tenant,
        userName="u1",
        id="client-chosen",
        password="placeholder-P@ss",
        meta={"resourceType": "User", "version": 'W/"99"'},
        groups=[{"value": "1", "display": "Nope"}],
    )
    assert user["id"] != "client-chosen" and user["meta"]["version"] == 'W/"1"'
    assert user["groups"] == [] and "password" not in user


def test_active_given_as_a_string_is_understood(client, tenant, rt):
    user = create(client, tenant, userName="u1", active="False")
    assert user["active"] is False
    with rt.db.read() as s:
        assert s.get(User, int(user["id"])).status == "deactivated"


def test_pathless_patch_active_false_deactivates_through_the_lifecycle_service(client, tenant, rt):
    uid = create(client, tenant, userName="u1")["id"]
    r = patch(client, tenant, uid, {"op": "Replace", "value": {"active": False}})
    assert r.status_code == 200 and r.json["active"] is False
    with rt.db.read() as s:
        assert s.get(User, int(uid)).status == "deactivated"
    deactivated = events(rt, tenant.id, "user.deactivated")
    assert [(e.object_id, e.channel) for e in deactivated] == [(uid, "scim")]
    r = patch(client, tenant, uid, {"op": "replace", "path": "active", "value": "True"})
    assert r.json["active"] is True
    assert [e.channel for e in events(rt, tenant.id, "user.reactivated")] == ["scim"]


def test_put_with_active_false_deactivates_the_same_way(client, tenant, rt):
    uid = create(client, tenant, userName="u1")["id"]
    r = client.put(
        f"/scim/v2/Users/{uid}", json={"schemas": [CORE], "userName": "u1", "active": False}, headers=tenant.scim
    )
    assert r.status_code == 200 and r.json["active"] is False
    assert [e.object_id for e in events(rt, tenant.id, "user.deactivated")] == [uid]


def test_put_replaces_the_whole_user_clearing_what_was_not_sent(client, tenant):
    uid = create(
        client,
        tenant,
        userName="u1",
        title="Engineer",
        name={"givenName": "Ada", "familyName": "L"},
        phoneNumbers=[{"value": "1"}],
    )["id"]
    r = client.put(
        f"/scim/v2/Users/{uid}",
        json={"schemas": [CORE], "userName": "U1-renamed", "name": {"givenName": "Ada"}},
        headers=tenant.scim,
    )
    assert r.status_code == 200, r.json
    assert r.json["userName"] == "U1-renamed" and r.json["name"] == {"givenName": "Ada"}
    assert "title" not in r.json and "phoneNumbers" not in r.json


def test_patch_paths_with_dots_urns_and_value_filters(client, tenant):
    uid = create(
        client,
        tenant,
        userName="u1",
        emails=[{"value": "w@example.org", "type": "work", "primary": True}],
        name={"givenName": "A", "familyName": "B"},
    )["id"]
    r = patch(
        client,
        tenant,
        uid,
        {"op": "replace", "value": {"name.givenName": "Ada", f"{ENTERPRISE}:department": "R&D"}},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada@example.org"},
        {"op": "add", "path": f"{CUSTOM}:location", "value": "Paris"},
        {"op": "remove", "path": "name.familyName"},
    )
    assert r.status_code == 200, r.json
    assert r.json["name"] == {"givenName": "Ada"}
    assert r.json["emails"] == [{"value": "ada@example.org", "type": "work", "primary": True}]
    assert r.json[ENTERPRISE]["department"] == "R&D" and r.json[CUSTOM] == {"location": "Paris"}


def test_patch_replace_of_a_filtered_email_that_does_not_exist_adds_it(client, tenant):
    uid = create(client, tenant, userName="u1")["id"]
    r = patch(client, tenant, uid, {"op": "Add", "path": 'emails[type eq "work"].value', "value": "w@example.org"})
    assert r.status_code == 200, r.json
    assert r.json["emails"] == [{"type": "work", "value": "w@example.org"}]


def test_bad_patches_are_clear_400s(client, tenant):
    uid = create(client, tenant, userName="u1")["id"]
    cases = [
        ({"op": "jump", "path": "title", "value": "x"}, "invalidSyntax"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "nosuchattribute", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "urn:example:unknown:title", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": 'emails[type eq "work"', "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "emails[type eq]", "value": "x"}, "invalidFilter"),
        ({"op": "replace", "path": "id", "value": "12"}, "mutability"),
        ({"op": "replace", "path": "userName", "value": ""}, "invalidValue"),
        ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
        ({"op": "replace", "path": "title", "value": {"nested": "object"}}, "invalidValue"),
        ({"op": "replace", "path": 'emails[type eq "work" or value co "x"].value', "value": "w@x.org"}, "noTarget"),
    ]
    for op, scim_type in cases:
        r = patch(client, tenant, uid, op)
        assert r.status_code == 400, (op, r.status_code, r.json)
        assert r.json["scimType"] == scim_type, (op, r.json)


def test_every_change_is_an_activity_event_on_the_scim_channel(client, tenant, rt):
    uid = create(client, tenant, userName="u1")["id"]
    patch(client, tenant, uid, {"op": "replace", "path": "title", "value": "Boss"})
    assert client.delete(f"/scim/v2/Users/{uid}", headers=tenant.scim).status_code == 204
    with rt.db.read() as s:
        rows = s.execute(
            select(ActivityEvent.action, ActivityEvent.channel)
            .where(ActivityEvent.tenant_id == tenant.id, ActivityEvent.object_id == uid)
            .order_by(ActivityEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [("user.created", "scim"), ("user.updated", "scim"), ("user.deleted", "scim")]


def test_delete_removes_the_user_and_their_memberships(client, tenant, rt):
    uid = create(client, tenant, userName="u1")["id"]
    gid = client.post(
        "/scim/v2/Groups", json={"displayName": "G", "members": [{"value": uid}]}, headers=tenant.scim
    ).json["id"]
    assert client.delete(f"/scim/v2/Users/{uid}", headers=tenant.scim).status_code == 204
    assert client.get(f"/scim/v2/Users/{uid}", headers=tenant.scim).status_code == 404
    with rt.db.read() as s:
        assert s.scalars(select(Membership).where(Membership.group_id == int(gid))).all() == []
    assert client.delete(f"/scim/v2/Users/{uid}", headers=tenant.scim).status_code == 404


def test_user_shows_the_groups_it_belongs_to(client, tenant):
    uid = create(client, tenant, userName="u1")["id"]
    gid = client.post(
        "/scim/v2/Groups", json={"displayName": "Math", "members": [{"value": uid}]}, headers=tenant.scim
    ).json["id"]
    groups = client.get(f"/scim/v2/Users/{uid}", headers=tenant.scim).json["groups"]
    assert [(g["value"], g["display"]) for g in groups] == [(gid, "Math")]


def test_another_tenants_user_is_not_found_for_every_method(client, tenant, other_tenant):
    uid = create(client, other_tenant, userName="theirs")["id"]
    for method in ("get", "put", "patch", "delete"):
        body = (
            {"userName": "x"} if method == "put" else {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}
        )
        r = getattr(client, method)(f"/scim/v2/Users/{uid}", json=body, headers=tenant.scim)
        assert r.status_code == 404, method
        assert r.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    listed = client.get('/scim/v2/Users?filter=userName eq "theirs"', headers=tenant.scim).json
    assert listed["totalResults"] == 0 and listed["Resources"] == []


def test_ids_that_cannot_exist_are_404_not_500(client, tenant):
    for raw in ("abc", "0", "-1", "99999999999999999999999", "1.5"):
        assert client.get(f"/scim/v2/Users/{raw}", headers=tenant.scim).status_code == 404, raw


def test_seat_limit_refuses_a_new_user_with_a_clear_scim_error(client, rt, make_tenant):
    limited = make_tenant("Small School")
    with rt.db.transaction() as s:
        tenants.load_tenant(s, limited.id).seat_limit = 1
    create(client, limited, userName="first")
    r = client.post("/scim/v2/Users", json={"userName": "second"}, headers=limited.scim)
    assert r.status_code == 403
    assert "seat limit" in r.json["detail"] and r.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    # A deactivated user takes no seat, so creating one is allowed.
    assert (
        client.post("/scim/v2/Users", json={"userName": "third", "active": False}, headers=limited.scim).status_code
        == 201
    )


def test_patch_active_of_a_user_made_elsewhere_stores_nothing_else_and_keeps_following_its_email(client, tenant, rt):
    from provisioning.activity import Actor
    from provisioning.services import users

    user = users.create_user(rt, tenant.id, {"email": "ada@example.org"}, Actor("admin", "api"))
    r = patch(client, tenant, user.id, {"op": "replace", "path": "active", "value": False})
    assert r.status_code == 200 and r.json["active"] is False
    assert r.json["emails"] == [{"value": "ada@example.org", "primary": True}]
    assert events(rt, tenant.id, "user.updated") == []  # only the deactivation changed
    users.update_user(rt, tenant.id, user.id, {"email": "ada.lovelace@example.org"}, Actor("admin", "api"))
    r = client.get(f"/scim/v2/Users/{user.id}", headers=tenant.scim)
    assert r.json["emails"] == [{"value": "ada.lovelace@example.org", "primary": True}]


def test_a_token_revoked_by_this_process_is_refused_at_once(client, tenant, rt):
    from provisioning.services import tokens

    assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 200  # remembered now
    [scim] = [t for t in tokens.list_tokens(rt, tenant.id) if t.scope == "scim"]
    tokens.revoke_token(rt, scim.id)
    assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 401


def test_a_filter_on_emails_finds_a_user_by_any_of_their_addresses(client, tenant):
    # RFC 7644 §3.4.2.2: "emails co x" and "emails[type eq y and value co x]" match any address.
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "multi",
        "emails": [
            {"value": "multi@home.example", "type": "home", "primary": True},
            {"value": "m.ulti@partner.com", "type": "work"},
        ],
    }
    assert client.post("/scim/v2/Users", json=body, headers=tenant.scim).status_code == 201
    client.post(
        "/scim/v2/Users", json={"userName": "single", "emails": [{"value": "single@home.example"}]}, headers=tenant.scim
    )
    for text in (
        'emails co "@partner.com"',
        'emails[type eq "work" and value co "partner"]',
        'emails.value eq "M.ULTI@partner.com"',
    ):
        r = client.get("/scim/v2/Users", query_string={"filter": text}, headers=tenant.scim)
        assert r.status_code == 200 and [u["userName"] for u in r.json["Resources"]] == ["multi"], text
    r = client.get(
        "/scim/v2/Users", query_string={"filter": 'emails[type eq "home" and value co "partner"]'}, headers=tenant.scim
    )
    assert r.json["totalResults"] == 0
