"""/scim/v2/Groups: members, renames, automatic groups, excludedAttributes and set-based member changes."""

from __future__ import annotations

from sqlalchemy import event, select

from provisioning.activity import Actor
from provisioning.models import ActivityEvent, Group, Membership
from provisioning.services import groups as group_service

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user(client, tenant, name):
    r = client.post("/scim/v2/Users", json={"userName": name}, headers=tenant.scim)
    assert r.status_code == 201, r.json
    return r.json["id"]


def group(client, tenant, name, members=()):
    r = client.post(
        "/scim/v2/Groups", json={"displayName": name, "members": [{"value": m} for m in members]}, headers=tenant.scim
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def patch(client, tenant, gid, *ops, query=""):
    return client.patch(
        f"/scim/v2/Groups/{gid}{query}", json={"schemas": [PATCH], "Operations": list(ops)}, headers=tenant.scim
    )


def member_ids(client, tenant, gid):
    return sorted(m["value"] for m in client.get(f"/scim/v2/Groups/{gid}", headers=tenant.scim).json["members"])


def test_display_name_is_unique_ignoring_case(client, tenant):
    group(client, tenant, "Sales")
    r = client.post("/scim/v2/Groups", json={"displayName": "SALES"}, headers=tenant.scim)
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness"


def test_members_are_listed_with_value_ref_and_type(client, tenant):
    uid = user(client, tenant, "u1")
    gid = group(client, tenant, "G", [uid])
    members = client.get(f"/scim/v2/Groups/{gid}", headers=tenant.scim).json["members"]
    assert members == [{"value": uid, "$ref": f"http://localhost/scim/v2/Users/{uid}", "type": "User"}]


def test_excluded_members_are_not_loaded(client, tenant, rt):
    uid = user(client, tenant, "u1")
    gid = group(client, tenant, "G", [uid])
    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", remember)
    try:
        one = client.get(f"/scim/v2/Groups/{gid}?excludedAttributes=members", headers=tenant.scim)
        listed = client.get("/scim/v2/Groups?excludedAttributes=members", headers=tenant.scim)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", remember)
    assert "members" not in one.json and "members" not in listed.json["Resources"][0]
    assert not [s for s in statements if "memberships" in s.lower()]


def test_members_of_another_tenant_or_unknown_ids_are_refused_and_nothing_changes(client, tenant, other_tenant):
    mine = user(client, tenant, "mine")
    theirs = user(client, other_tenant, "theirs")
    gid = group(client, tenant, "G")
    for value in (theirs, "999999", "not-a-number"):
        r = patch(client, tenant, gid, {"op": "add", "path": "members", "value": [{"value": mine}, {"value": value}]})
        assert r.status_code == 400 and r.json["scimType"] == "invalidValue", value
    assert member_ids(client, tenant, gid) == []


def test_entra_style_member_removal_with_a_value_list_and_null_ref(client, tenant):
    a, b = user(client, tenant, "a"), user(client, tenant, "b")
    gid = group(client, tenant, "G", [a, b])
    r = patch(client, tenant, gid, {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": a}]})
    assert r.status_code == 204
    assert member_ids(client, tenant, gid) == [b]


def test_remove_members_without_a_value_empties_the_group(client, tenant):
    gid = group(client, tenant, "G", [user(client, tenant, "a"), user(client, tenant, "b")])
    assert patch(client, tenant, gid, {"op": "remove", "path": "members"}).status_code == 204
    assert member_ids(client, tenant, gid) == []


def test_filtered_member_removal_accepts_or_and_refuses_other_filters(client, tenant):
    a, b, c = (user(client, tenant, n) for n in "abc")
    gid = group(client, tenant, "G", [a, b, c])
    assert (
        patch(client, tenant, gid, {"op": "remove", "path": f'members[value eq "{a}" or value eq "{b}"]'}).status_code
        == 204
    )
    assert member_ids(client, tenant, gid) == [c]
    r = patch(client, tenant, gid, {"op": "remove", "path": 'members[display co "x"]'})
    assert r.status_code == 400 and r.json["scimType"] == "invalidFilter"


def test_replace_members_sets_exactly_the_given_list(client, tenant):
    a, b, c = (user(client, tenant, n) for n in "abc")
    gid = group(client, tenant, "G", [a, b])
    assert (
        patch(
            client, tenant, gid, {"op": "replace", "path": "members", "value": [{"value": b}, {"value": c}]}
        ).status_code
        == 204
    )
    assert member_ids(client, tenant, gid) == sorted([b, c])


def test_put_replaces_name_and_members(client, tenant):
    a, b = user(client, tenant, "a"), user(client, tenant, "b")
    gid = group(client, tenant, "G", [a])
    r = client.put(f"/scim/v2/Groups/{gid}", json={"displayName": "G2", "members": [{"value": b}]}, headers=tenant.scim)
    assert r.status_code == 200 and r.json["displayName"] == "G2"
    assert [m["value"] for m in r.json["members"]] == [b]


def test_patch_with_attributes_answers_200_with_the_group(client, tenant):
    gid = group(client, tenant, "G")
    r = patch(
        client,
        tenant,
        gid,
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        query="?attributes=displayName",
    )
    assert r.status_code == 200 and r.json["displayName"] == "Renamed" and "members" not in r.json


def test_automatic_groups_refuse_manual_member_changes_with_a_clear_error(client, tenant, rt):
    uid = user(client, tenant, "u1")
    with rt.db.transaction() as s:
        auto = Group(
            tenant_id=tenant.id,
            name="Everyone in Sales",
            kind="automatic",
            source="api",
            rule='title eq "Sales"',
            settings={},
        )
        s.add(auto)
        s.flush()
        gid = str(auto.id)
    r = patch(client, tenant, gid, {"op": "add", "path": "members", "value": [{"value": uid}]})
    assert r.status_code == 400 and r.json["scimType"] == "mutability"
    assert "automatic" in r.json["detail"]
    r = client.put(
        f"/scim/v2/Groups/{gid}",
        json={"displayName": "Everyone in Sales", "members": [{"value": uid}]},
        headers=tenant.scim,
    )
    assert r.status_code == 400 and "automatic" in r.json["detail"]


def test_member_changes_are_activity_events_on_the_scim_channel(client, tenant, rt):
    uid = user(client, tenant, "u1")
    gid = group(client, tenant, "G")
    patch(client, tenant, gid, {"op": "add", "path": "members", "value": [{"value": uid}]})
    patch(client, tenant, gid, {"op": "remove", "path": f'members[value eq "{uid}"]'})
    with rt.db.read() as s:
        rows = s.execute(
            select(ActivityEvent.action, ActivityEvent.channel, ActivityEvent.details)
            .where(ActivityEvent.object_type == "group", ActivityEvent.object_id == gid)
            .order_by(ActivityEvent.id)
        ).all()
    assert [(a, c) for a, c, _ in rows] == [
        ("group.created", "scim"),
        ("group.member_added", "scim"),
        ("group.member_removed", "scim"),
    ]
    assert rows[1][2] == {"user_id": int(uid)}


def test_adding_one_member_to_a_big_group_never_reads_its_members(client, tenant, rt):
    """Set-based: the statements of a one-member PATCH don't depend on the group's size."""
    big = group(client, tenant, "Big")
    ids = [user(client, tenant, f"u{i}") for i in range(30)]
    with rt.db.transaction() as s:
        s.execute(
            Membership.__table__.insert(),
            [{"group_id": int(big), "user_id": int(u), "tenant_id": tenant.id, "source": "scim"} for u in ids[1:]],
        )
    statements = []

    def remember(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    event.listen(rt.db.engine, "before_cursor_execute", remember)
    try:
        r = patch(
            client,
            tenant,
            big,
            {"op": "add", "path": "members", "value": [{"value": ids[0]}]},
            {"op": "remove", "path": f'members[value eq "{ids[1]}"]'},
        )
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", remember)
    assert r.status_code == 204
    reads = [s for s, _ in statements if s.lstrip().upper().startswith("SELECT") and "memberships" in s.lower()]
    assert reads == [], reads
    with rt.db.read() as s:
        assert s.scalar(
            select(Membership.user_id).where(Membership.group_id == int(big), Membership.user_id == int(ids[0]))
        ) == int(ids[0])


def test_delete_group_keeps_its_members(client, tenant):
    uid = user(client, tenant, "u1")
    gid = group(client, tenant, "G", [uid])
    assert client.delete(f"/scim/v2/Groups/{gid}", headers=tenant.scim).status_code == 204
    assert client.get(f"/scim/v2/Groups/{gid}", headers=tenant.scim).status_code == 404
    assert client.get(f"/scim/v2/Users/{uid}", headers=tenant.scim).status_code == 200


def test_another_tenants_group_is_not_found(client, tenant, other_tenant, rt):
    theirs = group_service.create_group(rt, other_tenant.id, {"name": "Theirs"}, Actor("t", "api"))
    for method in ("get", "put", "patch", "delete"):
        body = {"displayName": "x"} if method == "put" else {"Operations": [{"op": "remove", "path": "members"}]}
        assert (
            getattr(client, method)(f"/scim/v2/Groups/{theirs.id}", json=body, headers=tenant.scim).status_code == 404
        )


def test_a_scim_change_to_a_user_updates_the_automatic_groups_at_once(client, tenant, rt):
    auto = group_service.create_group(
        rt, tenant.id, {"name": "Sales people", "kind": "automatic", "rule": 'title eq "Sales"'}, Actor("admin", "api")
    )
    uid = client.post("/scim/v2/Users", json={"userName": "seller", "title": "Sales"}, headers=tenant.scim).json["id"]
    assert member_ids(client, tenant, str(auto.id)) == [uid]
    client.patch(
        f"/scim/v2/Users/{uid}",
        json={"Operations": [{"op": "replace", "path": "title", "value": "Support"}]},
        headers=tenant.scim,
    )
    assert member_ids(client, tenant, str(auto.id)) == []
