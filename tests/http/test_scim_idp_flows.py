"""Provisioning requests of Microsoft Entra ID and Okta, transcribed from their published samples.

Sources (read 2026-11-22 from the vendors' documentation repositories, which the web pages render):

[ENTRA] "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID",
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
  (MicrosoftDocs/entra-docs docs/identity/app-provisioning/use-scim-to-provision-users-and-groups.md,
  ms.date 03/04/2025): "SCIM protocol requests and responses" > "User Operations" / "Group Operations",
  and "Handling provisioning and deprovisioning of users" (Examples 1-6).
[ENTRA-COMPAT] "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra
  user provisioning service",
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
  (same repository, ms.date 04/15/2025): "Flags to alter the SCIM behavior" (aadOptscim062020), the
  requests "Without feature flag" and "With feature flag".
[OKTA] "Okta and SCIM Version 2.0" (SCIM 2.0 Protocol Reference),
  https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
  (okta/okta-developer-docs packages/@okta/vuepress-site/docs/reference/scim/scim-20/index.md).

Requests are sent as published: method, path, query string and body.  Only the ids change: the
samples use the vendor's placeholder ids ("5171a35d82074e068ce2"); ours are integers, so each step
sends the id our service returned.  Responses are checked for what the identity provider reads
(status, id, the attributes it matches on); the samples' ids, dates and meta.location differ from
ours harmlessly.
"""

from __future__ import annotations

import json

from provisioning.models import User

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
OKTA_AGENT = "Okta SCIM Client 1.0.0"


def entra(client, tenant, method, path, body=None):
    # [ENTRA] Example 2 and Example 5 show "Content-type: application/scim+json".
    data = None if body is None else json.dumps(body)
    return client.open(
        f"/scim/v2{path}",
        method=method,
        data=data,
        headers=tenant.scim,
        content_type="application/scim+json" if data is not None else None,
    )


def okta(client, tenant, method, path, body=None):
    # [OKTA] every sample request shows only User-Agent and Authorization: no Content-Type.
    data = None if body is None else json.dumps(body)
    return client.open(f"/scim/v2{path}", method=method, data=data, headers={**tenant.scim, "User-Agent": OKTA_AGENT})


def status_of(rt, user_id) -> str:
    with rt.db.read() as s:
        return s.get(User, int(user_id)).status


def member_ids(client, tenant, group_id) -> set[str]:
    # Read back through SCIM itself (a plain GET, members included).
    return {m["value"] for m in client.get(f"/scim/v2/Groups/{group_id}", headers=tenant.scim).json["members"]}


def test_entra_id_user_operations_are_answered_as_the_tutorial_expects(client, tenant, rt):
    # [ENTRA] User Operations > Create User: POST /Users
    r = entra(
        client,
        tenant,
        "POST",
        "/Users",
        {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": True,
            "emails": [
                {
                    "primary": True,
                    "type": "work",
                    "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com",
                }
            ],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
        },
    )
    # Response: 201 Created with id, externalId, userName, name, active and emails as sent.
    assert r.status_code == 201, r.json
    created = r.json
    uid = created["id"]
    assert CORE_USER in created["schemas"] and created["meta"]["resourceType"] == "User"
    assert created["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert created["userName"] == "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    assert created["name"] == {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    }
    assert created["active"] is True
    assert created["emails"] == [
        {"primary": True, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}
    ]

    # Get User: GET /Users/5d48a0a8e9f04aa38008 -> 200 with the user.
    r = entra(client, tenant, "GET", f"/Users/{uid}")
    assert r.status_code == 200 and r.json["id"] == uid
    assert r.json["userName"] == "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" and r.json["active"] is True

    # Get User, not found: GET /Users/5171a35d82074e068ce2 -> 404 in the Error schema ("only status"
    # is required).  The published id is not one of ours in form either: still a 404, never a 400.
    r = entra(client, tenant, "GET", "/Users/5171a35d82074e068ce2")
    assert r.status_code == 404 and r.json["schemas"] == [ERROR] and r.json["status"] == "404"

    # Get User by query: GET /Users?filter=userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    r = entra(client, tenant, "GET", '/Users?filter=userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"')
    assert r.status_code == 200
    assert r.json["schemas"] == [LIST] and r.json["totalResults"] == 1 and r.json["startIndex"] == 1
    assert [u["id"] for u in r.json["Resources"]] == [uid]
    # (the sample's itemsPerPage is 20, its page size; ours is the number of resources on the page, 1)

    # Get User by query - Zero results: GET /Users?filter=userName eq "non-existent user"
    r = entra(client, tenant, "GET", '/Users?filter=userName eq "non-existent user"')
    assert r.status_code == 200
    assert r.json["schemas"] == [LIST] and r.json["totalResults"] == 0 and r.json["Resources"] == []
    assert r.json["startIndex"] == 1

    # Update User [Multi-valued properties]: PATCH /Users/6764549bef60420686bc
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["emails"] == [{"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"}]
    assert r.json["name"]["familyName"] == "updatedFamilyName" and r.json["name"]["givenName"] == "givenName"
    # The sample response recomputes name.formatted ("givenName updatedFamilyName"); we keep what Entra
    # sent, as the same tutorial asks ("Values sent should be stored in the same format they were sent").
    assert r.json["name"]["formatted"] == "givenName familyName"

    # Update User [Single-valued properties]: PATCH /Users/5171a35d82074e068ce2
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}
            ],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    assert r.json["emails"][0]["value"] == "updatedEmail@microsoft.com"

    # Disable User: PATCH /Users/5171a35d82074e068ce2 (Operations before schemas, as published)
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "Operations": [{"op": "Replace", "path": "active", "value": False}],
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["id"] == uid and r.json["active"] is False
    assert status_of(rt, uid) == "deactivated"
    # "The user object should be returned in a request whether or not the user is active."
    assert entra(client, tenant, "GET", f"/Users/{uid}").json["active"] is False
    found = entra(
        client, tenant, "GET", '/Users?filter=userName eq "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"'
    )
    assert [u["id"] for u in found.json["Resources"]] == [uid]

    # Delete User: DELETE /Users/5171a35d82074e068ce2 -> 204 No Content
    r = entra(client, tenant, "DELETE", f"/Users/{uid}")
    assert r.status_code == 204 and r.data == b""
    assert entra(client, tenant, "GET", f"/Users/{uid}").status_code == 404


def test_entra_id_group_operations_are_answered_as_the_tutorial_expects(client, tenant, rt):
    member = entra(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "member@testuser.com"}).json[
        "id"
    ]

    # [ENTRA] Group Operations > Create Group: POST /Groups (with Entra's second schema URN)
    r = entra(
        client,
        tenant,
        "POST",
        "/Groups",
        {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:Group",
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
            ],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
    )
    # Response: 201 with the core Group schema, id, externalId, displayName and "members": [].
    assert r.status_code == 201, r.json
    gid = r.json["id"]
    assert r.json["schemas"] == [CORE_GROUP] and r.json["meta"]["resourceType"] == "Group"
    assert r.json["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    assert r.json["displayName"] == "displayName" and r.json["members"] == []

    # Get Group: GET /Groups/40734ae655284ad3abcc?excludedAttributes=members -> 200 without members
    r = entra(client, tenant, "GET", f"/Groups/{gid}?excludedAttributes=members")
    assert r.status_code == 200 and r.json["id"] == gid and r.json["displayName"] == "displayName"
    assert "members" not in r.json

    # Get Group by displayName: GET /Groups?excludedAttributes=members&filter=displayName eq "displayName"
    r = entra(client, tenant, "GET", '/Groups?excludedAttributes=members&filter=displayName eq "displayName"')
    assert r.status_code == 200 and r.json["schemas"] == [LIST]
    assert r.json["totalResults"] == 1 and r.json["startIndex"] == 1
    assert [g["id"] for g in r.json["Resources"]] == [gid] and "members" not in r.json["Resources"][0]

    # Update Group [Non-member attributes]: PATCH /Groups/fa2ce26709934589afc5 -> 204 No Content
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
                }
            ],
        },
    )
    assert r.status_code == 204 and r.data == b""
    r = entra(client, tenant, "GET", f"/Groups/{gid}?excludedAttributes=members")
    assert r.json["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"

    # Update Group [Add Members]: PATCH /Groups/a99962b9f99d4c4fac67 -> 204 No Content
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": member}]}],
        },
    )
    assert r.status_code == 204 and r.data == b""
    assert member_ids(client, tenant, gid) == {member}

    # Update Group [Remove Members]: PATCH /Groups/a99962b9f99d4c4fac67 -> 204 No Content
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": member}]}],
        },
    )
    assert r.status_code == 204 and r.data == b""
    assert member_ids(client, tenant, gid) == set()

    # Delete Group: DELETE /Groups/cdb1ce18f65944079d37 -> 204 No Content
    r = entra(client, tenant, "DELETE", f"/Groups/{gid}")
    assert r.status_code == 204 and r.data == b""
    assert entra(client, tenant, "GET", f"/Groups/{gid}").status_code == 404


def test_entra_id_requests_without_the_compliance_flag_are_accepted(client, tenant, rt):
    # [ENTRA-COMPAT] "Flags to alter the SCIM behavior": what the sync engine sends "Without feature flag".
    uid = entra(
        client,
        tenant,
        "POST",
        "/Users",
        {
            "schemas": [CORE_USER],
            "userName": "babs@testuser.com",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "babs@testuser.com"}],
        },
    ).json["id"]
    gid = entra(client, tenant, "POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": "compat"}).json["id"]

    # Requests to add a single-value string attribute
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Add", "path": "nickName", "value": "Babs"}],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["nickName"] == "Babs"

    # Requests to replace multiple attributes
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "TestBcwqnm@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {
                    "op": "Replace",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    "value": "Eqpj",
                },
            ],
        },
    )
    assert r.status_code == 200, r.json
    user = r.json
    assert user["displayName"] == "Pvlo" and user["externalId"] == "Eqpj"
    assert user["emails"] == [{"primary": True, "type": "work", "value": "TestBcwqnm@test.microsoft.com"}]
    assert user["name"] == {"givenName": "Gtfd", "familyName": "Pkqf"}
    assert user[ENTERPRISE]["employeeNumber"] == "Eqpj" and user["nickName"] == "Babs"

    # Requests made to disable users: "active" is the string "False"
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["active"] is False and status_of(rt, uid) == "deactivated"

    # Requests made to remove a group member: a value list, no filter (the sample's "u1091" is the member id)
    entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members", "value": [{"value": uid}]}]},
    )
    assert member_ids(client, tenant, gid) == {uid}
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": uid}]}],
        },
    )
    assert r.status_code == 204
    assert member_ids(client, tenant, gid) == set()


def test_entra_id_requests_with_the_aadOptscim062020_flag_are_accepted(client, tenant, rt):
    # [ENTRA-COMPAT] the same four requests "With feature flag" (aadOptscim062020 in the tenant URL).
    uid = entra(
        client,
        tenant,
        "POST",
        "/Users",
        {
            "schemas": [CORE_USER],
            "userName": "bjfe@testuser.com",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "bjfe@testuser.com"}],
        },
    ).json["id"]
    gid = entra(client, tenant, "POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": "flagged"}).json["id"]

    # Requests to add a single-value string attribute
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "nickName", "value": "Babs"}],
        },
    )
    assert r.status_code == 200 and r.json["nickName"] == "Babs"

    # Requests to replace multiple attributes: one path op, then a path-less op with dotted and URN keys
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "TestMhvaes@test.microsoft.com"},
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                    },
                },
            ],
        },
    )
    assert r.status_code == 200, r.json
    user = r.json
    assert user["emails"] == [{"primary": True, "type": "work", "value": "TestMhvaes@test.microsoft.com"}]
    assert user["displayName"] == "Bjfe" and user["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert user[ENTERPRISE]["employeeNumber"] == "Aklq" and user["userName"] == "bjfe@testuser.com"

    # Requests made to disable users: op "replace", active a JSON boolean
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert r.status_code == 200 and r.json["active"] is False and status_of(rt, uid) == "deactivated"

    # Requests made to remove a group member: a value filter in the path
    entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]},
    )
    assert member_ids(client, tenant, gid) == {uid}
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": f'members[value eq "{uid}"]'}],
        },
    )
    assert r.status_code == 204
    assert member_ids(client, tenant, gid) == set()


def test_entra_id_reference_code_examples_are_accepted(client, tenant, rt):
    # [ENTRA] "Handling provisioning and deprovisioning of users", Examples 2, 3, 5 and 6.
    manager = entra(
        client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "manager@testuser.com"}
    ).json["id"]

    # Example 2. Provision a user: POST ~/scim/Users.  As published: the enterprise URN is misspelt
    # ("...:2.0User"), unset attributes are null, and department/manager sit at the top level.
    r = entra(
        client,
        tenant,
        "POST",
        "/Users",
        {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0User",
            ],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
            "active": True,
            "addresses": None,
            "displayName": "Joy Young",
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": True}],
            "meta": {"resourceType": "User"},
            "name": {"familyName": "Young", "givenName": "Joy"},
            "phoneNumbers": None,
            "preferredLanguage": None,
            "title": None,
            "department": None,
            "manager": None,
        },
    )
    assert r.status_code == 201, r.json
    uid = r.json["id"]
    assert r.json["userName"] == "jyoung@testuser.com" and r.json["displayName"] == "Joy Young"
    assert r.json["emails"][0]["value"] == "jyoung@Contoso.com"  # stored as sent, case and all
    assert "addresses" not in r.json and "title" not in r.json  # null is "unassigned" (RFC 7643 §2.5)

    # Example 1 queries `externalId eq jyoung`, an unquoted value that RFC 7644 §3.4.2.2's grammar
    # does not allow (the tutorial's own "Get User by query" quotes it); Entra's quoted form matches:
    r = entra(client, tenant, "GET", '/Users?filter=externalId eq "jyoung"')
    assert [u["id"] for u in r.json["Resources"]] == [uid]
    # ... and the unquoted form is a clear 400 invalidFilter, not a 5xx and not every user.
    r = entra(client, tenant, "GET", "/Users?filter=externalId eq jyoung")
    assert r.status_code == 400 and r.json["scimType"] == "invalidFilter"

    # Example 3. Query the current state of a user: GET ~/scim/Users/<id>
    r = entra(client, tenant, "GET", f"/Users/{uid}")
    assert r.status_code == 200 and r.json["id"] == uid

    # Example 5. Update a user: PATCH ~/scim/Users/<id>, "manager" without its URN and as a list of
    # one reference.
    r = entra(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "Add",
                    "path": "manager",
                    "value": [{"$ref": f"http://localhost/scim/v2/Users/{manager}", "value": manager}],
                }
            ],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json[ENTERPRISE]["manager"]["value"] == manager

    # Example 6. Deprovision a user: DELETE ~/scim/Users/<id>
    assert entra(client, tenant, "DELETE", f"/Users/{uid}").status_code == 204
    assert entra(client, tenant, "GET", f"/Users/{uid}").status_code == 404


def test_entra_id_checks_described_only_in_prose_are_answered(client, tenant):
    # [ENTRA] describes these requests in prose without publishing them; the query shapes below follow
    # the published "Get User by query" and Example 4's parameters (AttributePath "ID" and "manager",
    # ComparisonOperator Equals) and are therefore not verbatim transcriptions.
    manager = entra(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "boss@testuser.com"}).json[
        "id"
    ]
    uid = entra(
        client,
        tenant,
        "POST",
        "/Users",
        {"schemas": [CORE_USER, ENTERPRISE], "userName": "report@testuser.com", ENTERPRISE: {"manager": manager}},
    ).json["id"]
    gid = entra(client, tenant, "POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": "checked"}).json["id"]
    entra(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": uid}]}]},
    )

    # "Test Connection queries the SCIM endpoint for a user that doesn't exist, using a random GUID as
    # the matching property ... The expected correct response is HTTP 200 OK with an empty SCIM
    # ListResponse message."
    r = entra(client, tenant, "GET", '/Users?filter=userName eq "5f2b0ad4-2c1e-4a3e-9a43-0d3b1f6f1e0c"')
    assert r.status_code == 200 and r.json["totalResults"] == 0 and r.json["Resources"] == []

    # Example 4: "a request to determine whether the manager attribute of a user object currently has
    # a certain value" (filters on ID and manager).
    r = entra(client, tenant, "GET", f'/Users?filter=id eq "{uid}" and manager eq "{manager}"&attributes=id')
    assert r.status_code == 200 and [u["id"] for u in r.json["Resources"]] == [uid]
    r = entra(client, tenant, "GET", f'/Users?filter=id eq "{uid}" and manager eq "{uid}"&attributes=id')
    assert r.status_code == 200 and r.json["totalResults"] == 0

    # Group provisioning: "Requests to determine whether a reference attribute has a certain value are
    # requests about the members attribute", and groups are read with members excluded.
    r = entra(client, tenant, "GET", f'/Groups?filter=id eq "{gid}" and members eq "{uid}"&excludedAttributes=members')
    assert r.status_code == 200 and r.json["totalResults"] == 1 and "members" not in r.json["Resources"][0]
    r = entra(
        client, tenant, "GET", f'/Groups?filter=id eq "{gid}" and members eq "{manager}"&excludedAttributes=members'
    )
    assert r.status_code == 200 and r.json["totalResults"] == 0


def test_okta_user_provisioning_is_answered_as_the_reference_expects(client, tenant, rt):
    # [OKTA] SCIM User operations > Create Users > "Determine if the User already exists"
    r = okta(client, tenant, "GET", "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")
    # Response: 200 with an empty ListResponse (totalResults, startIndex, itemsPerPage as integers).
    assert r.status_code == 200
    assert r.json == {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}

    # "Create the User": POST /scim/v2/Users
    created_body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    r = okta(client, tenant, "POST", "/Users", created_body)
    # Response: 201 with the created user (Okta fails on an empty body).  The password is write-only.
    assert r.status_code == 201, r.json
    uid = r.json["id"]
    assert r.json["userName"] == "test.user@okta.local" and r.json["displayName"] == "Test User"
    assert r.json["name"] == {"givenName": "Test", "familyName": "User"} and r.json["locale"] == "en-US"
    assert r.json["externalId"] == "00ujl29u0le5T6Aj10h7" and r.json["active"] is True
    assert r.json["emails"] == [{"primary": True, "value": "test.user@okta.local", "type": "work"}]
    assert "password" not in r.json

    # The same user again: "the Service Provider needs to respond with an error schema" (409 Conflict).
    r = okta(client, tenant, "POST", "/Users", created_body)
    assert r.status_code == 409 and r.json["schemas"] == [ERROR] and r.json["status"] == "409"
    assert r.json["scimType"] == "uniqueness"

    # Now the existence check finds it.
    r = okta(client, tenant, "GET", "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")
    assert r.json["totalResults"] == 1 and [u["id"] for u in r.json["Resources"]] == [uid]

    # "Retrieve Users": GET /scim/v2/Users?startIndex=1&count=100
    r = okta(client, tenant, "GET", "/Users?startIndex=1&count=100")
    assert r.status_code == 200 and r.json["totalResults"] == 1 and r.json["startIndex"] == 1
    assert isinstance(r.json["itemsPerPage"], int) and [u["id"] for u in r.json["Resources"]] == [uid]

    # "Retrieve a specific User" / "Update a specific User (PUT)" > "Retrieve the User"
    r = okta(client, tenant, "GET", f"/Users/{uid}")
    assert r.status_code == 200 and r.json["id"] == uid and r.json["userName"] == "test.user@okta.local"

    # "Update the User": PUT /scim/v2/Users/<id> with the whole user, id and meta included
    r = okta(
        client,
        tenant,
        "PUT",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": uid,
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [
                {"primary": True, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}
            ],
            "active": True,
            "groups": [],
            "meta": {"resourceType": "User"},
        },
    )
    # Response: 200 with the updated user.
    assert r.status_code == 200, r.json
    assert r.json["id"] == uid and r.json["name"] == {
        "givenName": "Another",
        "middleName": "Excited",
        "familyName": "User",
    }
    assert r.json["emails"][0]["display"] == "test.user@okta.local" and r.json["active"] is True
    # PUT replaces (RFC 7644 §3.5.1): what Okta left out is cleared.
    assert "displayName" not in r.json and "externalId" not in r.json

    # "Update a specific User (PATCH)": deactivation, a path-less replace
    r = okta(
        client,
        tenant,
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    # Response: 200 with the updated user (or 204).
    assert r.status_code == 200, r.json
    assert r.json["id"] == uid and r.json["active"] is False and r.json["name"]["givenName"] == "Another"
    assert status_of(rt, uid) == "deactivated"
    # "Okta doesn't perform DELETE operations on User objects": the user stays, inactive.
    assert okta(client, tenant, "GET", f"/Users/{uid}").json["active"] is False


def test_okta_group_push_is_answered_as_the_reference_expects(client, tenant, rt):
    test_user = okta(
        client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "test.user@okta.local"}
    ).json["id"]
    other = okta(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "other.user@okta.local"}).json[
        "id"
    ]

    # [OKTA] SCIM Group operations > Create Groups: POST /scim/v2/Groups
    r = okta(
        client,
        tenant,
        "POST",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []},
    )
    # Response: 201 with the group as a GET would return it.
    assert r.status_code == 201, r.json
    gid = r.json["id"]
    assert r.json["schemas"] == [CORE_GROUP] and r.json["displayName"] == "Test SCIMv2"
    assert r.json["members"] == [] and r.json["meta"]["resourceType"] == "Group"

    # "Retrieve Groups": GET /scim/v2/Groups?startIndex=1&count=100
    r = okta(client, tenant, "GET", "/Groups?startIndex=1&count=100")
    assert r.status_code == 200 and r.json["totalResults"] == 1 and r.json["startIndex"] == 1
    assert [g["id"] for g in r.json["Resources"]] == [gid]

    # "Retrieve specific Groups": GET /scim/v2/Groups/<id>
    r = okta(client, tenant, "GET", f"/Groups/{gid}")
    assert r.status_code == 200 and r.json["id"] == gid and r.json["displayName"] == "Test SCIMv2"

    # "Update a specific Group name": a path-less replace whose value carries the group's id
    # (the published request sends the name unchanged; it is sent with every membership update).
    r = okta(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2"}}],
        },
    )
    # Response: 200 with the group, or 204.
    assert r.status_code in (200, 204)
    assert okta(client, tenant, "GET", f"/Groups/{gid}").json["displayName"] == "Test SCIMv2"
    # The same request with the new name of the sample response ("Test SCIMv20") renames the group.
    r = okta(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv20"}}]},
    )
    assert r.status_code in (200, 204)
    assert okta(client, tenant, "GET", f"/Groups/{gid}").json["displayName"] == "Test SCIMv20"

    # "Update specific Group membership": remove one member and add another in one request.
    # (other.user stands for the sample's 89bb1940-..., test.user for 23a35c27-...)
    okta(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": other}]}]},
    )
    assert member_ids(client, tenant, gid) == {other}
    r = okta(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "remove", "path": f'members[value eq "{other}"]'},
                {"op": "add", "path": "members", "value": [{"value": test_user, "display": "test.user@okta.local"}]},
            ],
        },
    )
    assert r.status_code in (200, 204)
    assert member_ids(client, tenant, gid) == {test_user}

    # "a full push of the membership ... using the replace operation"
    r = okta(
        client,
        tenant,
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "replace",
                    "path": "members",
                    "value": [
                        {"value": test_user, "display": "test.user@okta.local"},
                        {"value": other, "display": "test.user@okta.local"},
                    ],
                }
            ],
        },
    )
    assert r.status_code in (200, 204)
    assert member_ids(client, tenant, gid) == {test_user, other}
    r = okta(client, tenant, "GET", f"/Groups/{gid}")
    assert r.json["displayName"] == "Test SCIMv20"
    assert sorted(m["value"] for m in r.json["members"]) == sorted([test_user, other])

    # "Delete a specific Group": DELETE /scim/v2/Groups/<id> -> 204 with an empty body
    r = okta(client, tenant, "DELETE", f"/Groups/{gid}")
    assert r.status_code == 204 and r.data == b""
    assert okta(client, tenant, "GET", f"/Groups/{gid}").status_code == 404
    # The members are users of their own: deleting the group leaves them.
    assert okta(client, tenant, "GET", f"/Users/{test_user}").status_code == 200


def test_okta_spec_test_pages_users_and_groups_as_its_first_steps_expect(client, tenant):
    # Okta's Runscope "SCIM 2.0 SPEC Test" (linked from developer.okta.com's "Test your SCIM API"; read
    # from a public copy, https://gist.github.com/thomaspoignant/b4177130fe961f30e8bc20b328066d62, of
    # which only the first steps were readable).  Its requests carry these headers:
    headers = {
        **tenant.scim,
        "Accept-Charset": "utf-8",
        "Accept": "application/scim+json",
        "User-Agent": "SCIM Integration",
    }
    okta(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "first@okta.local"})
    okta(client, tenant, "POST", "/Users", {"schemas": [CORE_USER], "userName": "second@okta.local"})

    # Step 1: GET {{SCIMBaseURL}}/Users?count=1&startIndex=1 -> 200, Resources not empty, the
    # ListResponse schema, itemsPerPage / startIndex / totalResults numbers.
    r = client.get(
        "/scim/v2/Users?count=1&startIndex=1", headers=headers, content_type="application/scim+json; charset=utf-8"
    )
    assert r.status_code == 200 and r.mimetype == "application/scim+json"
    assert r.json["schemas"] == [LIST] and len(r.json["Resources"]) == 1
    assert (r.json["totalResults"], r.json["startIndex"], r.json["itemsPerPage"]) == (2, 1, 1)
    first = r.json["Resources"][0]["id"]
    # Then GET /Users/{{ISVUserid}} with the id it read.
    assert client.get(f"/scim/v2/Users/{first}", headers=headers).json["id"] == first

    # Okta's earlier "Okta SCIM 2.0 Tests" (joelfranusic-okta/okta-scim-beta SCIM_tests_for_Runscope.json)
    # open with GET /Users?count=2&startIndex=1 and GET /Groups?count=100&startIndex=1.
    r = client.get("/scim/v2/Users?count=2&startIndex=1", headers=headers)
    assert r.status_code == 200 and len(r.json["Resources"]) == 2 and r.json["Resources"][0]["id"] == first
    r = client.get("/scim/v2/Groups?count=100&startIndex=1", headers=headers)
    assert r.status_code == 200 and r.json["schemas"] == [LIST] and r.json["totalResults"] == 0
