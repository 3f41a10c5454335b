"""The input rule (provisioning/text.py): a NUL or a lone UTF-16 surrogate anywhere text enters is a 400
naming where it was (SCIM: invalidValue for bodies, invalidFilter for filters, RFC 7644 §3.12), never a 5xx.

PostgreSQL refuses U+0000 in text and a lone surrogate can't be encoded at all: before the rule these
requests ended as 500s there. Bodies are sent as raw JSON with ``\\u0000`` / ``\\ud800`` escapes, as a
client would.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.support.api import new_group, new_user, preview, upload
from tests.support.factories import make_users
from tests.support.lti_platform import launch, register_platform

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# The characters the rule refuses, as JSON escapes: NUL, a high and a low surrogate alone, and a reversed pair.
BAD = {"nul": "\\u0000", "high": "\\ud800", "low": "\\udfff", "reversed": "\\udc00\\ud800"}
bad_chars = pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))


def raw_json(doc: dict, bad: str) -> bytes:
    """``doc`` as JSON with every ``@BAD@`` replaced by the JSON escape ``bad``."""
    return json.dumps(doc).replace("@BAD@", bad).encode()


def scim_send(client, tenant, method, path, doc, bad):
    return client.open(
        path, method=method, data=raw_json(doc, bad), content_type="application/scim+json", headers=tenant.scim
    )


def assert_scim_400(r, scim_type="invalidValue", where=""):
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.json["scimType"] == scim_type, r.json
    assert where in r.json["detail"], r.json["detail"]
    return r.json["detail"]


def assert_api_400(r, where=""):
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    assert where in r.json["message"], r.json["message"]
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.fixture
def scim_user(client, tenant):
    return client.post("/scim/v2/Users", json={"userName": "x@example.org"}, headers=tenant.scim).json["id"]


@pytest.fixture
def scim_group(client, tenant):
    return client.post("/scim/v2/Groups", json={"displayName": "G"}, headers=tenant.scim).json["id"]


# --- SCIM ---------------------------------------------------------------------------------------------


@bad_chars
@pytest.mark.parametrize("resource", ["Users", "Groups"])
def test_a_scim_filter_with_a_nul_or_a_lone_surrogate_is_an_invalid_filter(client, tenant, resource, bad):
    via_search = scim_send(
        client,
        tenant,
        "POST",
        f"/scim/v2/{resource}/.search",
        {"schemas": [SEARCH], "filter": 'userName eq "@BAD@"'},
        bad,
    )
    assert_scim_400(via_search, "invalidFilter", "filter")
    # A query string carries bytes: NUL as %00; a surrogate's UTF-8 form can't be decoded, so it arrives
    # as U+FFFD and is just a value that matches nobody.
    r = client.get(f"/scim/v2/{resource}?filter=" + quote('displayName eq "a\x00b"'), headers=tenant.scim)
    assert_scim_400(r, "invalidFilter", "filter")


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udc00", "a\\udfffb"])
def test_a_filter_whose_string_escape_spells_a_nul_or_a_lone_surrogate_is_an_invalid_filter(
    client, tenant, scim_group, escape
):
    # Not the request's text but the filter's own JSON string escape (RFC 7644 §3.4.2.2: compValue is JSON).
    expression = f'userName eq "{escape}"'
    for resource in ("Users", "Groups"):
        r = client.post(
            f"/scim/v2/{resource}/.search", json={"schemas": [SEARCH], "filter": expression}, headers=tenant.scim
        )
        assert_scim_400(r, "invalidFilter")
        r = client.get(f"/scim/v2/{resource}", query_string={"filter": expression}, headers=tenant.scim)
        assert_scim_400(r, "invalidFilter")
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{escape}"]'}]}
    r = client.patch(f"/scim/v2/Groups/{scim_group}", json=patch, headers=tenant.scim)
    assert r.status_code == 400 and r.json["scimType"] in ("invalidFilter", "invalidPath", "invalidValue"), r.json
    assert_api_400(
        client.post("/api/v1/rules/preview", json={"rule": f'department eq "{escape}"'}, headers=tenant.admin)
    )
    r = client.post("/api/v1/batch-actions", json={"action": "deactivate", "filter": expression}, headers=tenant.admin)
    assert_api_400(r)


@bad_chars
def test_a_scim_post_put_or_patch_of_a_user_with_a_nul_or_a_lone_surrogate_is_an_invalid_value(
    client, tenant, scim_user, bad
):
    assert_scim_400(scim_send(client, tenant, "POST", "/scim/v2/Users", {"userName": "a@BAD@b"}, bad), where="userName")
    put = {"userName": "x@example.org", "name": {"givenName": "@BAD@"}}
    assert_scim_400(scim_send(client, tenant, "PUT", f"/scim/v2/Users/{scim_user}", put, bad), where="name.givenName")
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "@BAD@"}]}
    assert_scim_400(scim_send(client, tenant, "PATCH", f"/scim/v2/Users/{scim_user}", patch, bad), where="value")
    key = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"title@BAD@": "t"}}]}
    assert_scim_400(scim_send(client, tenant, "PATCH", f"/scim/v2/Users/{scim_user}", key, bad), where="a key")
    assert client.get(f"/scim/v2/Users/{scim_user}", headers=tenant.scim).json["userName"] == "x@example.org"


@bad_chars
def test_a_scim_group_body_with_a_nul_or_a_lone_surrogate_is_an_invalid_value(client, tenant, scim_group, bad):
    assert_scim_400(scim_send(client, tenant, "POST", "/scim/v2/Groups", {"displayName": "@BAD@"}, bad))
    assert_scim_400(scim_send(client, tenant, "PUT", f"/scim/v2/Groups/{scim_group}", {"displayName": "@BAD@"}, bad))
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": "@BAD@"}]}]}
    assert_scim_400(scim_send(client, tenant, "PATCH", f"/scim/v2/Groups/{scim_group}", patch, bad))
    path = {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": 'members[value eq "@BAD@"]'}]}
    assert_scim_400(scim_send(client, tenant, "PATCH", f"/scim/v2/Groups/{scim_group}", path, bad))


@bad_chars
def test_a_scim_bulk_operation_with_a_nul_or_a_lone_surrogate_is_an_invalid_value(client, tenant, bad):
    body = {
        "schemas": [BULK],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "ok@example.org"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "u@BAD@@example.org"}},
        ],
    }
    detail = assert_scim_400(scim_send(client, tenant, "POST", "/scim/v2/Bulk", body, bad))
    assert "Operations[1].data.userName" in detail
    assert client.get("/scim/v2/Users", headers=tenant.scim).json["totalResults"] == 0  # nothing half-applied


def test_a_nul_in_a_scim_path_segment_is_a_400_not_a_500(client, tenant):
    r = client.get("/scim/v2/Users/abc%00def", headers=tenant.scim)
    assert_scim_400(r, where="URL path")


# --- the admin API ------------------------------------------------------------------------------------


@bad_chars
def test_an_admin_api_rule_preview_or_batch_filter_with_a_nul_or_a_lone_surrogate_is_a_400(client, tenant, bad):
    headers = {**tenant.admin, "Content-Type": "application/json"}
    r = client.post("/api/v1/rules/preview", data=raw_json({"rule": 'department eq "@BAD@"'}, bad), headers=headers)
    assert_api_400(r, "rule")
    body = {"action": "deactivate", "filter": 'userName eq "@BAD@"'}
    assert_api_400(client.post("/api/v1/batch-actions", data=raw_json(body, bad), headers=headers), "filter")


@bad_chars
def test_an_admin_api_body_key_or_value_with_a_nul_or_a_lone_surrogate_is_a_400(client, tenant, bad):
    headers = {**tenant.admin, "Content-Type": "application/json"}
    r = client.post(
        "/api/v1/users", data=raw_json({"email": "a@example.org", "given_name": "@BAD@"}, bad), headers=headers
    )
    assert_api_400(r, "given_name")
    r = client.post("/api/v1/groups", data=raw_json({"name": "ok", "@BAD@": "x"}, bad), headers=headers)
    assert_api_400(r, "a key")
    group = new_group(client, tenant, "Fine")["id"]
    r = client.patch(f"/api/v1/groups/{group}", data=raw_json({"name": "@BAD@"}, bad), headers=headers)
    assert_api_400(r, "name")


def test_an_admin_api_query_string_or_path_with_a_nul_is_a_400(client, tenant):
    assert_api_400(client.get("/api/v1/users?q=a%00b", headers=tenant.admin), "query parameter 'q'")
    assert_api_400(client.get("/api/v1/groups?q=%00", headers=tenant.admin), "query parameter 'q'")
    assert_api_400(client.get("/api/v1/imports/templates/members%00.csv", headers=tenant.admin), "URL path")


def test_a_header_used_as_data_with_a_nul_is_a_400(client, tenant):
    user = new_user(client, tenant, "h@example.org")
    r = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"given_name": "H"},
        headers={**tenant.admin, "If-Match": 'W/"1\x00"'},
    )
    assert_api_400(r, "If-Match")


# --- uploads --------------------------------------------------------------------------------------------


def test_a_nul_in_an_uploaded_csv_cell_is_an_error_row_naming_row_and_column(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    body = preview(
        client, tenant, "email,first_name\nada@example.com,A\x00da\nalan@example.com,Alan\n", group_name="Nul"
    )
    (error,) = body["errors"]
    assert error["row"] == 2 and error["column"] == "first_name" and "NUL" in error["message"], error
    assert body["groups"][0]["members_after"] == 1  # the good row stays


@pytest.mark.parametrize(
    "bad, byte", [(b"Al\xffan", "0xFF"), (b"\xed\xa0\x80", "0xED")], ids=["invalid utf-8", "utf-8 of a surrogate"]
)
def test_an_undecodable_csv_cell_is_an_error_row_naming_row_and_column(client, tenant, rt, bad, byte):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    # The encoding is judged from the first megabyte (valid UTF-8 here); the bad bytes come after it.
    padding = (b" " * 120_000 + b"\r\n") * 10  # ten blank rows (3-12), 1.2 MB
    data = b"email,first_name\r\nada@example.com,Ada\r\n" + padding + b"alan@example.com," + bad + b"\r\n"
    body = preview(client, tenant, data, group_name="Bytes")
    (error,) = body["errors"]
    assert error["row"] == 13 and error["column"] == "first_name" and byte in error["message"], error
    assert body["groups"][0]["members_after"] == 1


def test_a_nul_in_a_csv_header_is_a_clear_file_error(client, tenant):
    r = upload(client, tenant, "em\x00ail\nada@example.com\n", group_name="Header")
    assert_api_400(r, "column 1")


def test_a_nul_in_an_upload_form_field_or_file_name_is_a_400(client, tenant):
    assert_api_400(upload(client, tenant, "email\na@example.com\n", group_name="G\x00"), "group_name")
    assert_api_400(upload(client, tenant, "email\na@example.com\n", "mem\x00bers.csv"), "uploaded file")


# --- the UI -----------------------------------------------------------------------------------------------


def test_a_nul_in_a_ui_form_field_or_query_is_a_400_page(owner):
    r = owner.post("/ui/groups/new", {"name": "Bad\x00name", "kind": "manual"})
    assert r.status_code == 400 and "form field" in r.get_data(as_text=True), r.status_code
    r = owner.get("/ui/groups", q="a\x00b")
    assert r.status_code == 400 and "query parameter" in r.get_data(as_text=True)
    r = owner.get("/ui/rules/preview.json", rule='department eq "\x00"')
    assert r.status_code == 400 and "rule" in r.json["message"]


# --- LTI -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Pat\x00Doe", "Pat\ud800Doe"], ids=["nul", "surrogate"])
def test_a_launch_whose_claims_hold_a_nul_or_a_lone_surrogate_is_a_400_page(rt, client, tenant, platform, name):
    register_platform(rt, tenant.id, platform)
    r = launch(client, platform, sub="u-1", name=name)
    assert r.status_code == 400 and "id_token" in r.get_data(as_text=True), r.status_code
    assert launch(client, platform, sub="u-1").status_code == 200  # the same person, named plainly, lands
