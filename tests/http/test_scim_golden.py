"""RFC 7643 §8 and RFC 7644 §3.5.2/§3.7.2 sample payloads (tests/scim_golden/) through the real endpoints."""

from __future__ import annotations

import json

from sqlalchemy import select

from provisioning.models import User
from tests.support.environment import TESTS_DIR

GOLDEN = TESTS_DIR / "scim_golden"
SCIM = "application/scim+json"


def golden(name: str, **fill: str) -> dict:
    text = (GOLDEN / name).read_text()
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def post(client, tenant, path, body):
    return client.post(f"/scim/v2{path}", data=json.dumps(body), content_type=SCIM, headers=tenant.scim)


def patch(client, tenant, path, body):
    return client.patch(f"/scim/v2{path}", data=json.dumps(body), content_type=SCIM, headers=tenant.scim)


def test_minimal_user_sample_is_created_with_our_own_id_and_meta(client, tenant):
    r = post(client, tenant, "/Users", golden("rfc7643_8.1_minimal_user.json"))
    assert r.status_code == 201, r.json
    assert r.json["userName"] == "bjensen@example.com"
    assert r.json["id"] != "2819c223-7f76-453a-919d-413861904646"  # id and meta are ours, not the client's
    assert r.json["meta"]["location"].endswith(f"/scim/v2/Users/{r.json['id']}")
    assert r.headers["Location"] == r.json["meta"]["location"]
    assert r.headers["ETag"] == r.json["meta"]["version"] == 'W/"1"'


def test_full_user_sample_round_trips_every_attribute_but_password_and_groups(client, tenant, rt):
    sample = golden("rfc7643_8.2_full_user.json")
    r = post(client, tenant, "/Users", sample)
    assert r.status_code == 201, r.json
    back = client.get(f"/scim/v2/Users/{r.json['id']}", headers=tenant.scim).json
    for attr in (
        "externalId",
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "emails",
        "addresses",
        "phoneNumbers",
        "ims",
        "photos",
        "userType",
        "title",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "x509Certificates",
    ):
        assert back[attr] == sample[attr], attr
    assert "password" not in back
    assert back["groups"] == []  # read-only: the sample's group membership was ignored
    with rt.db.read() as s:
        user = s.scalar(select(User).where(User.tenant_id == tenant.id))
    assert (user.email, user.email_type, user.given_name, user.family_name) == (
        "bjensen@example.com",
        "work",
        "Barbara",
        "Jensen",
    )
    assert user.extra["phoneNumbers"] == sample["phoneNumbers"]


def test_enterprise_user_sample_fills_the_enterprise_columns(client, tenant, rt):
    r = post(client, tenant, "/Users", golden("rfc7643_8.3_enterprise_user.json"))
    assert r.status_code == 201, r.json
    ext = r.json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert ext == {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
    }
    assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" in r.json["schemas"]
    with rt.db.read() as s:
        user = s.scalar(select(User).where(User.tenant_id == tenant.id))
    assert (user.department, user.cost_center, user.manager_id) == (
        "Tour Operations",
        "4130",
        "26118915-6090-4610-87e4-49d8ca9f808d",
    )


def test_group_sample_and_member_patches_from_rfc_7644(client, tenant):
    user_id = post(client, tenant, "/Users", {"userName": "bjensen"}).json["id"]
    group = post(client, tenant, "/Groups", golden("rfc7643_8.4_group.json"))
    assert group.status_code == 201 and group.json["displayName"] == "Tour Guides" and group.json["members"] == []
    gid = group.json["id"]
    assert (
        patch(client, tenant, f"/Groups/{gid}", golden("rfc7644_3.5.2.1_add_member.json", user_id=user_id)).status_code
        == 204
    )
    members = client.get(f"/scim/v2/Groups/{gid}", headers=tenant.scim).json["members"]
    assert [m["value"] for m in members] == [user_id]
    assert (
        patch(
            client, tenant, f"/Groups/{gid}", golden("rfc7644_3.5.2.2_remove_member.json", user_id=user_id)
        ).status_code
        == 204
    )
    assert client.get(f"/scim/v2/Groups/{gid}", headers=tenant.scim).json["members"] == []


def test_pathless_add_appends_to_a_multi_valued_attribute_and_sets_a_simple_one(client, tenant):
    uid = post(
        client,
        tenant,
        "/Users",
        {"userName": "bjensen", "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}]},
    ).json["id"]
    r = patch(client, tenant, f"/Users/{uid}", golden("rfc7644_3.5.2.1_add_pathless.json"))
    assert r.status_code == 200, r.json
    assert r.json["nickName"] == "Babs"
    assert [e["value"] for e in r.json["emails"]] == ["bjensen@example.com", "babs@jensen.org"]


def test_replace_with_a_value_filter_replaces_the_matching_address_then_one_sub_attribute(client, tenant):
    full = golden("rfc7643_8.2_full_user.json")
    uid = post(client, tenant, "/Users", full).json["id"]
    r = patch(client, tenant, f"/Users/{uid}", golden("rfc7644_3.5.2.3_replace_work_address.json"))
    assert r.status_code == 200, r.json
    work = [a for a in r.json["addresses"] if a["type"] == "work"]
    home = [a for a in r.json["addresses"] if a["type"] == "home"]
    assert len(work) == 1 and work[0]["streetAddress"] == "1010 Broadway Ave" and work[0]["country"] == "US"
    assert home == [a for a in full["addresses"] if a["type"] == "home"]


def test_bulk_sample_creates_a_user_and_a_group_that_references_it_by_bulk_id(client, tenant):
    r = post(client, tenant, "/Bulk", golden("rfc7644_3.7.2_bulk_request.json"))
    assert r.status_code == 200, r.json
    ops = r.json["Operations"]
    assert [(o["bulkId"], o["status"]) for o in ops] == [("qwerty", "201"), ("ytrewq", "201")]
    user_id = ops[0]["location"].rsplit("/", 1)[1]
    group = client.get(ops[1]["location"], headers=tenant.scim).json
    assert [m["value"] for m in group["members"]] == [user_id]
