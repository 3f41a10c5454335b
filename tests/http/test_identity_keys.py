"""userName and email are unique, and found, by their Unicode identity key on every channel (issue 15 defect 9).

"dü" composed (NFC) and decomposed (NFD), in another case, "ｄｕｐ" in full-width letters beside
"dup": one person, so one user; a name with an invisible character is a clear 400.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from provisioning.activity import Actor
from provisioning.models import LtiUserLink, User
from provisioning.services import users
from tests.support.api import new_user, preview
from tests.support.lti_platform import LEARNER, launch, register_platform

NFC, NFD, UPPER_NFD = "d\u00fc@example.edu", "du\u0308@example.edu", "DU\u0308@EXAMPLE.EDU"
PLAIN, FULL_WIDTH = "dup@example.edu", "\uff44\uff55\uff50@example.edu"
ZERO_WIDTH = [
    "du\u200bp@example.edu",
    "du\u200cp@example.edu",
    "du\u200dp@example.edu",
    "du\u2060p@example.edu",
    "\ufeffdup@example.edu",
]
SAME_AS = {NFD: NFC, UPPER_NFD: NFC, FULL_WIDTH: PLAIN, "DUP@example.edu": PLAIN}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ADMIN = Actor("test", "api")


def _count(rt, tenant_id: int) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id)) or 0


@pytest.fixture
def taken(rt, tenant):
    """The two users whose names the variants imitate."""
    return {email: users.create_user(rt, tenant.id, {"email": email}, ADMIN).id for email in (NFC, PLAIN)}


@pytest.mark.parametrize("variant", sorted(SAME_AS))
def test_the_admin_api_refuses_a_variant_of_a_taken_email_or_username_with_409(client, rt, tenant, taken, variant):
    r = client.post("/api/v1/users", json={"email": variant, "first_name": "A", "last_name": "B"}, headers=tenant.admin)
    assert r.status_code == 409, r.json
    r = client.post(
        "/api/v1/users",
        json={"email": "other@example.edu", "username": variant, "first_name": "A", "last_name": "B"},
        headers=tenant.admin,
    )
    assert r.status_code == 409 and "username" in r.json["message"], r.json
    other = new_user(client, tenant, "someone@example.edu")
    r = client.patch(f"/api/v1/users/{other['id']}", json={"email": variant}, headers=tenant.admin)
    assert r.status_code == 409, r.json
    assert _count(rt, tenant.id) == 3


@pytest.mark.parametrize("name", ZERO_WIDTH)
def test_an_invisible_character_is_a_400_naming_it_on_the_admin_api(client, rt, tenant, taken, name):
    r = client.post("/api/v1/users", json={"email": name, "first_name": "A", "last_name": "B"}, headers=tenant.admin)
    assert r.status_code == 400 and "email" in r.json["errors"], r.json
    assert f"U+{ord(next(c for c in name if not c.isascii())):04X}" in r.json["message"] + str(r.json["errors"])
    assert _count(rt, tenant.id) == 2


@pytest.mark.parametrize("variant", sorted(SAME_AS))
def test_scim_post_put_patch_and_bulk_refuse_a_variant_with_409_uniqueness(client, rt, tenant, taken, variant):
    r = client.post("/scim/v2/Users", json={"schemas": [USER], "userName": variant}, headers=tenant.scim)
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json
    other = client.post("/scim/v2/Users", json={"schemas": [USER], "userName": "someone"}, headers=tenant.scim).json
    r = client.put(f"/scim/v2/Users/{other['id']}", json={"schemas": [USER], "userName": variant}, headers=tenant.scim)
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": variant}]}
    r = client.patch(f"/scim/v2/Users/{other['id']}", json=patch, headers=tenant.scim)
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json
    emails = {"op": "replace", "path": "emails", "value": [{"value": variant, "primary": True, "type": "work"}]}
    r = client.patch(
        f"/scim/v2/Users/{other['id']}", json={"schemas": [PATCH_OP], "Operations": [emails]}, headers=tenant.scim
    )
    assert r.status_code == 409 and r.json["scimType"] == "uniqueness", r.json
    bulk = {
        "schemas": [BULK],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "v", "data": {"schemas": [USER], "userName": variant}}
        ],
    }
    (op,) = client.post("/scim/v2/Bulk", json=bulk, headers=tenant.scim).json["Operations"]
    assert op["status"] == "409" and op["response"]["scimType"] == "uniqueness", op
    assert _count(rt, tenant.id) == 3


@pytest.mark.parametrize("name", ZERO_WIDTH)
def test_an_invisible_character_is_a_scim_400_invalid_value(client, rt, tenant, taken, name):
    r = client.post("/scim/v2/Users", json={"schemas": [USER], "userName": name}, headers=tenant.scim)
    assert (
        r.status_code == 400
        and r.json["scimType"] == "invalidValue"
        and "userName" in r.json["detail"].replace("username", "userName")
    ), r.json
    assert _count(rt, tenant.id) == 2


@pytest.mark.parametrize("variant", sorted(SAME_AS))
def test_a_scim_filter_on_username_or_email_finds_the_user_by_any_variant(client, tenant, taken, variant):
    for attribute in ("userName", "emails.value", "emails"):
        query = quote(f'{attribute} eq "{variant}"')
        found = client.get(f"/scim/v2/Users?filter={query}", headers=tenant.scim).json
        assert [int(u["id"]) for u in found["Resources"]] == [taken[SAME_AS[variant]]], (attribute, found)
    both = quote(f'userName eq "{variant}" or userName eq "nobody"')
    found = client.get(f"/scim/v2/Users?filter={both}", headers=tenant.scim).json
    assert [int(u["id"]) for u in found["Resources"]] == [taken[SAME_AS[variant]]]


def test_an_import_matches_variants_to_the_existing_users_and_flags_variants_within_the_file(client, rt, tenant, taken):
    body = preview(client, tenant, f"email\n{UPPER_NFD}\n{FULL_WIDTH}\nnew@example.edu\n", format="users")
    assert (body["users_matched"], body["users_new"]) == (2, 1), body
    body = preview(client, tenant, "email\nre\u0301my@example.edu\nR\u00c9MY@example.edu\n", format="users")  # NFD, NFC
    assert [e["row"] for e in body["errors"]] == [3] and "already on row 2" in body["errors"][0]["message"], body
    body = preview(client, tenant, f"email,username\nnew@example.edu,{FULL_WIDTH}\n", format="users")
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "username")], body
    body = preview(
        client, tenant, "email,username\na@example.edu,Ren\u00e9\nb@example.edu,RENE\u0301\n", format="users"
    )
    assert [e["row"] for e in body["errors"]] == [3] and "username is already on row 2" in body["errors"][0]["message"]
    body = preview(client, tenant, "email\ndu\u200bp@example.edu\nok@example.edu\n", format="users")
    assert [e["row"] for e in body["errors"]] == [2] and "U+200B" in body["errors"][0]["message"], body


def test_adding_members_by_email_finds_the_user_by_any_variant(client, tenant, taken):
    group = client.post("/api/v1/groups", json={"name": "Team"}, headers=tenant.admin).json
    r = client.post(
        f"/api/v1/groups/{group['id']}/members", json={"emails": [UPPER_NFD, FULL_WIDTH]}, headers=tenant.admin
    )
    assert r.status_code in (200, 201), r.json
    members = client.get(f"/api/v1/groups/{group['id']}/members", headers=tenant.admin).json["items"]
    assert sorted(m["id"] for m in members) == sorted(taken.values())


def test_an_lti_launch_with_a_variant_email_links_the_existing_user(rt, client, tenant, taken, platform):
    register_platform(rt, tenant.id, platform)
    assert launch(client, platform, sub="v-1", email=UPPER_NFD, roles=[LEARNER]).status_code == 200
    assert launch(client, platform, sub="v-2", email=FULL_WIDTH, roles=[LEARNER]).status_code == 200
    with rt.db.read() as s:
        links = dict(s.execute(select(LtiUserLink.sub, LtiUserLink.user_id)).all())
    assert links == {"v-1": taken[NFC], "v-2": taken[PLAIN]} and _count(rt, tenant.id) == 2


def test_searching_users_and_members_by_part_of_a_name_finds_any_variant(client, tenant, taken):
    for q, wanted in (("DU\u0308@EX", NFC), ("\uff44\uff55\uff50", PLAIN), ("d\u00fc", NFC)):
        found = client.get(f"/api/v1/users?q={quote(q)}", headers=tenant.admin).json["items"]
        assert [u["id"] for u in found] == [taken[wanted]], (q, found)
    group = client.post("/api/v1/groups", json={"name": "Team"}, headers=tenant.admin).json
    client.post(f"/api/v1/groups/{group['id']}/members", json={"user_ids": list(taken.values())}, headers=tenant.admin)
    found = client.get(f"/api/v1/groups/{group['id']}/members?q={quote('DU' + chr(0x308))}", headers=tenant.admin)
    assert [m["id"] for m in found.json["items"]] == [taken[NFC]], found.json
