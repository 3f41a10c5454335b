"""Multi-valued attributes over SCIM (issue 18, defects 1-4): filters with a sub-attribute after
the brackets, one primary value, booleans typed by the schema, and which emails are unique.

References: RFC 7643 §2.4 (multi-valued attributes, primary), §4.1.2 (the User's multi-valued
attributes), §7 (uniqueness); RFC 7644 §3.4.2.2 (filters), §3.5.2 (PATCH); Microsoft Learn:

- "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID", user matching
  on ``emails[type eq "work"].value``:
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
- "Customize user provisioning attribute-mappings", section "Provisioning a role to a SCIM app", the
  target attribute ``roles[primary eq "True"].value``:
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/customize-application-attributes
  (the same mapping in a vendor's Entra setup guide: Sumo Logic, "Provision with Microsoft Entra ID",
  https://github.com/SumoLogic/sumologic-documentation, docs/manage/security/scim/provision-with-microsoft-entra-id.md)
- "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
  provisioning service", booleans sent as "True"/"False":
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
"""

from __future__ import annotations

import pytest

from provisioning.models import User

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# Every multi-valued complex attribute of RFC 7643 §4.1.2 that carries type, value and primary.
MULTI = ("emails", "phoneNumbers", "ims", "photos", "entitlements", "roles", "x509Certificates")


def create(client, tenant, **attrs):
    r = client.post("/scim/v2/Users", json={"schemas": [CORE], **attrs}, headers=tenant.scim)
    assert r.status_code == 201, r.json
    return r.json


def patch(client, tenant, uid, *ops):
    return client.patch(
        f"/scim/v2/Users/{uid}", json={"schemas": [PATCH], "Operations": list(ops)}, headers=tenant.scim
    )


def found(client, tenant, text):
    r = client.get("/scim/v2/Users", query_string={"filter": text}, headers=tenant.scim)
    assert r.status_code == 200, (text, r.json)
    return sorted(u["userName"] for u in r.json["Resources"])


def value_of(attr, text):
    return f"{text}@example.org" if attr == "emails" else f"{attr}-{text}"


def primaries(values):
    return [v for v in values if v.get("primary") is True]


# --- 1. attr[valueFilter].subAttr op value ----------------------------------------------------


@pytest.fixture
def two_people(client, tenant):
    """ann has "work" value w and "home" value h for every attribute; bob has them the other way round."""
    for name, work, home in (("ann", "w", "h"), ("bob", "h", "w")):
        lists = {
            attr: [{"value": value_of(attr, work), "type": "work"}, {"value": value_of(attr, home), "type": "home"}]
            for attr in MULTI
        }
        lists["emails"] = [  # each user's primary address is their own (test 4 below)
            {"value": f"{name}@{work}.example.org", "type": "work", "primary": True},
            {"value": f"{name}@{home}.example.org", "type": "home"},
        ]
        create(client, tenant, userName=name, **lists)


@pytest.mark.parametrize("attr", MULTI)
def test_a_sub_attribute_after_the_brackets_filters_like_the_bracketed_conjunction(client, tenant, two_people, attr):
    # Entra ID matches users with emails[type eq "work"].value eq "..." (Microsoft Learn, "Tutorial:
    # Develop and plan provisioning for a SCIM endpoint"); RFC 7644 §3.4.2.2 gives the meaning of
    # emails[type eq "work" and value eq "..."]: one value satisfying both.
    value = value_of(attr, "w") if attr != "emails" else "ann@w.example.org"
    sugared = f'{attr}[type eq "work"].value eq "{value}"'
    bracketed = f'{attr}[type eq "work" and value eq "{value}"]'
    assert found(client, tenant, sugared) == found(client, tenant, bracketed) == ["ann"]
    # The value is bob's too, but as his home value: not a match for the work filter.
    home = value_of(attr, "w") if attr != "emails" else "ann@h.example.org"
    assert found(client, tenant, f'{attr}[type eq "home"].value eq "{home}"') == (
        ["bob"] if attr != "emails" else ["ann"]
    )
    assert found(client, tenant, f'{attr}[type eq "mobile"].value eq "{value}"') == []


def test_the_sugared_form_combines_with_and_or_not_every_operator_and_the_urn(client, tenant, two_people):
    cases = {
        'emails[type eq "work"].value eq "ANN@W.example.org"': ["ann"],  # caseExact false (RFC 7643 §4.1.2)
        'emails[type eq "work"].value ew "@w.example.org"': ["ann"],
        'emails[type eq "work"].value co "example"': ["ann", "bob"],
        'emails[type eq "work"].value pr': ["ann", "bob"],
        'emails[type eq "work" or type eq "home"].value sw "bob@"': ["bob"],
        'emails[type eq "work"].value eq "ann@w.example.org" or userName eq "bob"': ["ann", "bob"],
        'emails[type eq "work"].value eq "ann@w.example.org" and userName eq "bob"': [],
        'not (emails[type eq "work"].value eq "ann@w.example.org")': ["bob"],
        'urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "bob@h.example.org"': ["bob"],
        'roles[primary eq "True"].value pr': [],
    }
    for text, expected in cases.items():
        assert found(client, tenant, text) == expected, text
    # POST /.search takes the same grammar (RFC 7644 §3.4.3).
    body = {"schemas": [SEARCH], "filter": 'phoneNumbers[type eq "home"].value eq "phoneNumbers-h"'}
    r = client.post("/scim/v2/Users/.search", json=body, headers=tenant.scim)
    assert r.status_code == 200 and [u["userName"] for u in r.json["Resources"]] == ["ann"]


@pytest.mark.parametrize(
    "text, words",
    [
        ('emails[type eq "work"] eq "x@y"', "sub-attribute after ']'"),
        ('emails[type eq "work"].nope eq "x@y"', "nope"),
        ('userName[type eq "work"].value eq "x"', "userName"),
        ('emails[type eq "work"].primary gt true', "boolean"),
        ('emails[value eq "a"].value eq "x"]', ""),
    ],
)
def test_a_bad_sugared_filter_is_a_400_invalid_filter(client, tenant, text, words):
    r = client.get("/scim/v2/Users", query_string={"filter": text}, headers=tenant.scim)
    assert r.status_code == 400 and r.json["scimType"] == "invalidFilter", r.json
    assert words in r.json["detail"]


def test_automatic_group_rules_take_the_sugared_form_too(client, tenant, two_people):
    # Rules share the filter grammar (README, "Automatic groups").
    r = client.post(
        "/api/v1/rules/preview", json={"rule": 'emails[type eq "home"].value ew "@w.example.org"'}, headers=tenant.admin
    )
    assert r.status_code == 200, r.json
    assert {u["username"] for u in r.json["sample"]} == {"bob"}


def test_patch_paths_with_a_value_filter_and_a_sub_attribute_still_work(client, tenant):
    # RFC 7644 §3.5.2: valuePath "." subAttr is a PATCH path; the filter change must not alter it.
    user = create(client, tenant, userName="p", emails=[{"value": "old@example.org", "type": "work", "primary": True}])
    r = patch(client, tenant, user["id"], {"op": "replace", "path": 'emails[type eq "work"].value', "value": "n@x.org"})
    assert r.status_code == 200, r.json
    assert r.json["emails"] == [{"value": "n@x.org", "type": "work", "primary": True}]
    assert found(client, tenant, 'emails[type eq "work"].value eq "n@x.org"') == ["p"]


# --- 2. at most one primary -------------------------------------------------------------------


@pytest.mark.parametrize("attr", MULTI)
def test_adding_a_primary_value_by_patch_unmarks_the_others(client, tenant, attr):
    # RFC 7644 §3.5.2: "If a value with 'primary' set to 'true' is added, the server SHALL set
    # 'primary' to 'false' for any other values in the array."
    old = {"value": value_of(attr, "old"), "type": "work", "primary": True}
    user = create(client, tenant, userName="u", **{attr: [old]})
    new = {"value": value_of(attr, "new"), "type": "home", "primary": True}
    r = patch(client, tenant, user["id"], {"op": "add", "path": attr, "value": [new]})
    assert r.status_code == 200, r.json
    assert r.json[attr] == [{**old, "primary": False}, new]
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=tenant.scim).json[attr] == r.json[attr]


def test_the_new_primary_email_becomes_the_users_email(client, tenant, rt):
    user = create(client, tenant, userName="u", emails=[{"value": "a@example.org", "type": "work", "primary": True}])
    # Path-less add (RFC 7644 §3.5.2.1), as Okta sends it.
    r = patch(
        client,
        tenant,
        user["id"],
        {"op": "add", "value": {"emails": [{"value": "b@example.org", "type": "home", "primary": True}]}},
    )
    assert r.status_code == 200, r.json
    assert primaries(r.json["emails"]) == [{"value": "b@example.org", "type": "home", "primary": True}]
    with rt.db.read() as s:
        assert s.get(User, int(user["id"])).email == "b@example.org"


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True},
        {"op": "replace", "path": 'emails[type eq "home"].primary', "value": "True"},  # Entra's string
        {"op": "add", "path": 'emails[type eq "home"]', "value": {"primary": True}},
        {"op": "replace", "path": 'emails[value eq "h@example.org"]', "value": {"primary": "true"}},
    ],
)
def test_marking_an_existing_value_primary_unmarks_the_others(client, tenant, rt, op):
    emails = [
        {"value": "w@example.org", "type": "work", "primary": True},
        {"value": "h@example.org", "type": "home", "primary": False},
    ]
    user = create(client, tenant, userName="u", emails=emails)
    r = patch(client, tenant, user["id"], op)
    assert r.status_code == 200, r.json
    assert r.json["emails"] == [
        {"value": "w@example.org", "type": "work", "primary": False},
        {"value": "h@example.org", "type": "home", "primary": True},
    ]
    with rt.db.read() as s:
        assert s.get(User, int(user["id"])).email == "h@example.org"


def test_addresses_follow_the_same_rule(client, tenant):
    user = create(client, tenant, userName="u", addresses=[{"locality": "Lyon", "type": "work", "primary": True}])
    r = patch(
        client,
        tenant,
        user["id"],
        {"op": "add", "path": "addresses", "value": [{"locality": "Rome", "type": "home", "primary": True}]},
    )
    assert r.status_code == 200, r.json
    assert [a["primary"] for a in r.json["addresses"]] == [False, True]
    assert found(client, tenant, 'addresses[primary eq true].locality eq "rome"') == ["u"]
    assert found(client, tenant, 'addresses[primary eq true].locality eq "lyon"') == []


def two_primaries(attr):
    return [
        {"value": value_of(attr, "a"), "primary": True},
        {"value": value_of(attr, "b"), "primary": "True"},
    ]


@pytest.mark.parametrize("attr", MULTI)
def test_a_post_or_put_with_two_primaries_in_one_list_is_a_400_invalid_value(client, tenant, attr):
    # RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once." Which of the
    # two the client meant is a guess, so the request is refused (RFC 7644 §3.12 invalidValue).
    r = client.post("/scim/v2/Users", json={"userName": "u", attr: two_primaries(attr)}, headers=tenant.scim)
    assert r.status_code == 400 and r.json["scimType"] == "invalidValue", r.json
    assert attr in r.json["detail"] and "primary" in r.json["detail"]
    user = create(client, tenant, userName="u")
    r = client.put(
        f"/scim/v2/Users/{user['id']}", json={"userName": "u", attr: two_primaries(attr)}, headers=tenant.scim
    )
    assert r.status_code == 400 and r.json["scimType"] == "invalidValue", r.json


@pytest.mark.parametrize(
    "op",
    [
        {"op": "add", "path": "roles", "value": two_primaries("roles")},
        {"op": "replace", "path": "roles", "value": two_primaries("roles")},
        {"op": "add", "value": {"roles": two_primaries("roles")}},
        {"op": "replace", "path": "roles.primary", "value": True},  # every value at once
    ],
)
def test_a_patch_that_marks_two_values_primary_at_once_is_a_400_and_changes_nothing(client, tenant, op):
    roles = [{"value": "r1", "primary": True}, {"value": "r2"}]
    user = create(client, tenant, userName="u", roles=roles)
    r = patch(client, tenant, user["id"], op)
    assert r.status_code == 400 and r.json["scimType"] == "invalidValue", r.json
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=tenant.scim).json["roles"] == roles


def test_a_user_stored_with_two_primaries_or_string_booleans_reads_and_patches_as_the_rfc_says(client, tenant, rt):
    user = create(client, tenant, userName="u")
    with rt.db.transaction() as s:  # as the service stored it before RFC 7644 §3.5.2 was enforced
        row = s.get(User, int(user["id"]))
        row.extra = {
            "emails": [{"value": "a@example.org", "primary": True}, {"value": "b@example.org", "primary": "True"}],
            "roles": [{"value": "r", "primary": "True"}],
        }
    got = client.get(f"/scim/v2/Users/{user['id']}", headers=tenant.scim).json
    assert [e["primary"] for e in got["emails"]] == [True, False]  # shown with one primary already
    assert got["roles"] == [{"value": "r", "primary": True}]  # and as a boolean
    r = patch(client, tenant, user["id"], {"op": "replace", "path": "title", "value": "Dr"})
    assert r.status_code == 200, r.json
    assert [e["primary"] for e in r.json["emails"]] == [True, False]
    with rt.db.read() as s:
        assert [e["primary"] for e in s.get(User, int(user["id"])).extra["emails"]] == [True, False]


# --- 3. booleans follow the schema, "True"/"False" from Entra included ---------------------------


@pytest.mark.parametrize("literal", ['"True"', '"true"', '"TRUE"', "true", "True"])
def test_entra_app_role_mapping_creates_a_boolean_primary(client, tenant, literal):
    # Microsoft Learn, "Customize user provisioning attribute-mappings" > "Provisioning a role to a
    # SCIM app": SingleAppRoleAssignment targets roles[primary eq "True"].value; the SCIM Validator
    # sends it. primary is a boolean (RFC 7643 §4.1.2), whatever case the literal has.
    user = create(client, tenant, userName="u", roles=[{"value": "Reader", "primary": False}])
    path = f"roles[primary eq {literal}].value"
    r = patch(client, tenant, user["id"], {"op": "replace", "path": path, "value": "Admin"})
    assert r.status_code == 200, r.json
    assert r.json["roles"] == [{"value": "Reader", "primary": False}, {"primary": True, "value": "Admin"}]
    # The same mapping again changes that role rather than adding another.
    r = patch(client, tenant, user["id"], {"op": "Replace", "path": path, "value": "Owner"})
    assert r.json["roles"] == [{"value": "Reader", "primary": False}, {"primary": True, "value": "Owner"}]
    assert found(client, tenant, f'roles[primary eq {literal}].value eq "owner"') == ["u"]
    assert found(client, tenant, 'roles[primary eq "False"].value eq "Reader"') == ["u"]


def test_boolean_strings_in_values_are_stored_as_booleans(client, tenant):
    # Entra ID sends "True"/"False" for booleans (Microsoft Learn, "Known issues and resolutions with
    # SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service").
    user = create(
        client,
        tenant,
        userName="u",
        emails=[{"value": "a@example.org", "primary": "True"}, {"value": "b@example.org", "primary": "FALSE"}],
        phoneNumbers=[{"value": "+1", "primary": "false"}],
    )
    assert [e["primary"] for e in user["emails"]] == [True, False]
    assert user["phoneNumbers"] == [{"value": "+1", "primary": False}]
    r = patch(client, tenant, user["id"], {"op": "add", "path": "roles", "value": [{"value": "x", "primary": "True"}]})
    assert r.json["roles"] == [{"value": "x", "primary": True}]


def test_a_primary_that_is_not_a_boolean_is_refused(client, tenant):
    r = client.post(
        "/scim/v2/Users", json={"userName": "u", "roles": [{"value": "x", "primary": "yes"}]}, headers=tenant.scim
    )
    assert r.status_code == 400 and r.json["scimType"] == "invalidValue"
    assert "roles[0].primary" in r.json["detail"]
    user = create(client, tenant, userName="u")
    r = patch(client, tenant, user["id"], {"op": "replace", "path": 'roles[primary eq "maybe"].value', "value": "A"})
    assert r.status_code == 400 and r.json["scimType"] == "invalidFilter", r.json


# --- 4. which email addresses are unique ----------------------------------------------------------


def test_schemas_advertises_the_email_rule_the_service_applies(client, tenant):
    # RFC 7643 §7 "uniqueness": the advertised characteristic must match what a client meets.
    doc = client.get(f"/scim/v2/Schemas/{CORE}", headers=tenant.scim).json
    emails = next(a for a in doc["attributes"] if a["name"] == "emails")
    value = next(a for a in emails["subAttributes"] if a["name"] == "value")
    assert value["uniqueness"] == "server"
    assert "primary" in value["description"] and "shared" in value["description"]
    user_name = next(a for a in doc["attributes"] if a["name"] == "userName")
    assert user_name["uniqueness"] == "server"


def test_two_users_may_share_an_address_that_is_not_their_primary_one(client, tenant):
    # A shared mailbox (README, "SCIM": only the primary address is unique).
    shared = {"value": "helpdesk@example.org", "type": "work"}
    for name in ("ann", "bob"):
        create(
            client,
            tenant,
            userName=name,
            emails=[{"value": f"{name}@example.org", "type": "work", "primary": True}, shared],
        )
    assert found(client, tenant, 'emails[type eq "work"].value eq "helpdesk@example.org"') == ["ann", "bob"]


def test_a_primary_address_another_user_has_is_a_409_uniqueness(client, tenant):
    create(client, tenant, userName="ann", emails=[{"value": "Ann@Example.org", "type": "work", "primary": True}])
    r = client.post(
        "/scim/v2/Users",
        json={"userName": "bob", "emails": [{"value": "ann@example.ORG", "type": "work", "primary": True}]},
        headers=tenant.scim,
    )
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json
    # Promoting a shared address to primary when it is someone's primary address is the same clash.
    bob = create(
        client,
        tenant,
        userName="bob",
        emails=[{"value": "bob@example.org", "primary": True}, {"value": "ann@example.org"}],
    )
    r = patch(
        client,
        tenant,
        bob["id"],
        {"op": "replace", "path": 'emails[value eq "ann@example.org"].primary', "value": True},
    )
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json


def test_group_members_take_the_sugared_filter_too(client, tenant):
    user = create(client, tenant, userName="ann", displayName="Ann")
    group = {"displayName": "Staff", "members": [{"value": user["id"]}]}
    assert client.post("/scim/v2/Groups", json=group, headers=tenant.scim).status_code == 201
    for text, expected in (
        (f'members[display eq "ann"].value eq "{user["id"]}"', ["Staff"]),
        (f'members[display eq "bob"].value eq "{user["id"]}"', []),
    ):
        r = client.get("/scim/v2/Groups", query_string={"filter": text}, headers=tenant.scim)
        assert r.status_code == 200, r.json
        assert [g["displayName"] for g in r.json["Resources"]] == expected, text


def test_a_bulk_post_with_two_primaries_is_that_operations_400(client, tenant):
    # RFC 7644 §3.7: each operation answers as the same request alone would.
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "a",
                "data": {"userName": "a", "roles": two_primaries("roles")},
            },
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "b",
                "data": {"userName": "b", "roles": [{"value": "r", "primary": "True"}]},
            },
        ],
    }
    r = client.post("/scim/v2/Bulk", json=body, headers=tenant.scim)
    assert r.status_code == 200, r.json
    first, second = r.json["Operations"]
    assert first["status"] == "400" and first["response"]["scimType"] == "invalidValue"
    assert second["status"] == "201"
    assert found(client, tenant, 'roles[primary eq true].value eq "r"') == ["b"]


@pytest.mark.parametrize("literal", ["false", "False", '"False"'])
def test_a_patch_value_filter_on_primary_compares_booleans_and_an_absent_primary_is_false(client, tenant, literal):
    # The same meaning as the GET filter (RFC 7644 §3.4.2.2; primary is a boolean, RFC 7643 §4.1.2).
    roles = [{"value": "a", "primary": True}, {"value": "b", "primary": False}, {"value": "c"}]
    user = create(client, tenant, userName="u", roles=roles)
    assert found(client, tenant, f'roles[primary eq {literal}].value eq "c"') == ["u"]
    r = patch(client, tenant, user["id"], {"op": "remove", "path": f"roles[primary eq {literal}]"})
    assert r.status_code == 200, r.json
    assert r.json["roles"] == [{"value": "a", "primary": True}]
    r = patch(client, tenant, user["id"], {"op": "remove", "path": "roles[primary gt false]"})
    assert r.status_code == 400 and r.json["scimType"] == "invalidFilter", r.json
