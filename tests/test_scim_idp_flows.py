"""Provisioning flows of Microsoft Entra ID and Okta, transcribed from their public documentation.

Entra ID: "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID"
(learn.microsoft.com, section "User operations" / "Group operations": request/response samples).
Okta: "Okta and SCIM Version 2.0" (developer.okta.com, the SCIM 2.0 guide's request samples).
Payload shapes, casing ("Replace", "Add"), "$ref": null and header use follow those samples;
ids and names are ours.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from provisioning.models import User

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def send(client, tenant, method, path, body=None):
    # Entra ID sends application/scim+json; Okta sends application/scim+json; charset=utf-8.
    data = None if body is None else json.dumps(body)
    return client.open(f"/scim/v2{path}", method=method, data=data, headers=tenant.scim,
                       content_type="application/scim+json; charset=utf-8" if data else None)


def test_entra_id_user_lifecycle(client, tenant, rt):
    # Create User
    r = send(client, tenant, "POST", "/Users", {
        "schemas": [CORE_USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    })
    assert r.status_code == 201, r.json
    user = r.json
    assert user["userName"] == "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
    assert user["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" and user["active"] is True
    uid = user["id"]

    # Get User / Get User by query / Get User by query - zero results
    assert send(client, tenant, "GET", f"/Users/{uid}").json["id"] == uid
    found = send(client, tenant, "GET", '/Users?filter=userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"').json
    assert found["schemas"] == [LIST] and found["totalResults"] == 1 and found["Resources"][0]["id"] == uid
    none = send(client, tenant, "GET", '/Users?filter=userName eq "non-existent user"')
    assert none.status_code == 200 and none.json["totalResults"] == 0 and none.json["Resources"] == []
    by_external = send(client, tenant, "GET", '/Users?filter=externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"').json
    assert [u["id"] for u in by_external["Resources"]] == [uid]

    # Update User [Multi-valued properties]
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    ]})
    assert r.status_code == 200, r.json
    assert r.json["emails"] == [{"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"}]
    assert r.json["name"]["familyName"] == "updatedFamilyName"

    # Update User [Single-valued properties]
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]})
    assert r.status_code == 200 and r.json["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"

    # Enterprise attributes by URN-qualified path, as Entra's attribute mappings send them
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "7"},
    ]})
    assert r.status_code == 200, r.json
    assert r.json[ENTERPRISE] == {"department": "Sales", "manager": {"value": "7"}}

    # Disable User
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": False}]})
    assert r.status_code == 200 and r.json["active"] is False
    with rt.db.read() as s:
        assert s.get(User, int(uid)).status == "deactivated"

    # Delete User
    assert send(client, tenant, "DELETE", f"/Users/{uid}").status_code == 204
    assert send(client, tenant, "GET", f"/Users/{uid}").status_code == 404


def test_entra_id_group_lifecycle(client, tenant):
    member = send(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "member@contoso.com"}).json["id"]

    # Create Group (with Entra ID's extra schema URN)
    r = send(client, tenant, "POST", "/Groups", {
        "schemas": [CORE_GROUP, ENTRA_GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
    })
    assert r.status_code == 201, r.json
    gid = r.json["id"]
    assert r.json["displayName"] == "displayName" and r.json["members"] == []

    # Get Group / Get Group by displayName, both with excludedAttributes=members
    one = send(client, tenant, "GET", f"/Groups/{gid}?excludedAttributes=members").json
    assert one["id"] == gid and "members" not in one
    found = send(client, tenant, "GET", '/Groups?excludedAttributes=members&filter=displayName eq "displayName"').json
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]

    # Update Group [Non-member attributes]
    r = send(client, tenant, "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]})
    assert r.status_code == 204

    # Update Group [Add Members]
    r = send(client, tenant, "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": member}]}]})
    assert r.status_code == 204
    group = send(client, tenant, "GET", f"/Groups/{gid}").json
    assert group["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    assert [m["value"] for m in group["members"]] == [member]
    # Entra ID checks membership with a filter on the group
    check = send(client, tenant, "GET", f'/Groups?filter=id eq "{gid}" and members eq "{member}"&excludedAttributes=members').json
    assert check["totalResults"] == 1

    # Update Group [Remove Members]
    r = send(client, tenant, "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": member}]}]})
    assert r.status_code == 204
    assert send(client, tenant, "GET", f"/Groups/{gid}").json["members"] == []

    # Delete Group
    assert send(client, tenant, "DELETE", f"/Groups/{gid}").status_code == 204
    assert send(client, tenant, "GET", f"/Groups/{gid}").status_code == 404


def test_okta_user_lifecycle(client, tenant, rt):
    # Okta first checks whether the user exists, paging with count=1
    r = send(client, tenant, "GET", '/Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=1')
    assert r.status_code == 200 and r.json["totalResults"] == 0 and r.json["Resources"] == []

    # Create the user (Okta sends a placeholder-capable password when password sync is on; we ignore it)
    r = send(client, tenant, "POST", "/Users", {
        "schemas": [CORE_USER],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    })
    assert r.status_code == 201, r.json
    uid = r.json["id"]
    assert "password" not in r.json and r.json["displayName"] == "Test User"

    # Retrieve, then update with PUT (the whole user, sent back with id and meta)
    user = send(client, tenant, "GET", f"/Users/{uid}").json
    user["name"]["familyName"] = "Userson"
    r = send(client, tenant, "PUT", f"/Users/{uid}", user)
    assert r.status_code == 200 and r.json["name"]["familyName"] == "Userson"

    # Deactivate: PATCH with no path, active as a boolean inside the value
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200 and r.json["active"] is False
    with rt.db.read() as s:
        assert s.get(User, int(uid)).status == "deactivated"

    # Reactivate the same way
    r = send(client, tenant, "PATCH", f"/Users/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": True}}]})
    assert r.json["active"] is True


def test_okta_group_push(client, tenant):
    alice = send(client, tenant, "POST", "/Users", {"userName": "alice@okta.local"}).json["id"]
    bob = send(client, tenant, "POST", "/Users", {"userName": "bob@okta.local"}).json["id"]

    # Okta checks for the group, then creates it with its members
    found = send(client, tenant, "GET", '/Groups?filter=displayName eq "Test SCIMv2"&startIndex=1&count=100').json
    assert found["totalResults"] == 0
    r = send(client, tenant, "POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": "Test SCIMv2",
                                                  "members": [{"value": alice, "display": "alice@okta.local"}]})
    assert r.status_code == 201, r.json
    gid = r.json["id"]

    # Rename: the value carries the group's id as well (read-only, ignored)
    r = send(client, tenant, "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}]})
    assert r.status_code == 204

    # Membership change: remove one member and add another in one request
    r = send(client, tenant, "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{alice}"]'},
        {"op": "add", "path": "members", "value": [{"value": bob, "display": "bob@okta.local"}]},
    ]})
    assert r.status_code == 204
    group = send(client, tenant, "GET", f"/Groups/{gid}").json
    assert group["displayName"] == "Test SCIMv2 renamed"
    assert [m["value"] for m in group["members"]] == [bob]

    # Okta's import reads groups page by page
    page = send(client, tenant, "GET", "/Groups?startIndex=1&count=100").json
    assert page["totalResults"] == 1 and page["itemsPerPage"] == 1

    assert send(client, tenant, "DELETE", f"/Groups/{gid}").status_code == 204
