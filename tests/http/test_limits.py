"""Size limits not covered elsewhere: each is a 413 with a message that names the limit.

Already proven in their own files (and listed in docs/RELIABILITY.md): an import file over
MAX_UPLOAD_BYTES and over IMPORT_MAX_ROWS (tests/http/test_import_limits.py), an XLSX zip bomb
(tests/http/test_import_limits.py, tests/http/test_fuzz_imports.py), SCIM Bulk maxOperations and
maxPayloadSize (tests/http/test_scim_bulk.py), SCIM count capped at the page size
(tests/http/test_scim_protocol.py).
"""

from __future__ import annotations

import io
import json

from tests.support.signin import sign_in

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def test_an_admin_api_json_body_over_the_request_limit_is_a_413_naming_the_limit(client, app, tenant):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = client.post("/api/v1/groups", json={"name": "Big", "description": "x" * 2000}, headers=tenant.admin)
    assert r.status_code == 413 and r.is_json
    assert r.json["message"] == "The request body is larger than the limit of 1000 bytes."
    assert client.get("/api/v1/groups", headers=tenant.admin).json["total"] == 0


def test_a_scim_body_over_the_scim_limit_is_a_413_in_scim_form(client, app, tenant):
    app.config["SCIM_MAX_PAYLOAD_SIZE"] = 1000
    r = client.post("/scim/v2/Users", json={"userName": "big", "title": "t" * 2000}, headers=tenant.scim)
    assert r.status_code == 413 and r.mimetype == "application/scim+json"
    assert r.json["schemas"] == [ERROR] and r.json["status"] == "413"
    assert "maximum of 1000 bytes" in r.json["detail"]
    assert client.get("/scim/v2/Users", headers=tenant.scim).json["totalResults"] == 0


def test_a_scim_body_over_the_services_request_limit_is_a_413_in_scim_form_too(client, app, tenant):
    # MAX_UPLOAD_BYTES below the SCIM limit: werkzeug refuses the body before SCIM reads it.
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = client.put("/scim/v2/Users/1", json={"userName": "big", "title": "t" * 2000}, headers=tenant.scim)
    assert r.status_code == 413 and r.mimetype == "application/scim+json"
    assert r.json["schemas"] == [ERROR] and "larger than" in r.json["detail"]


def test_a_scim_body_without_content_length_is_still_held_to_the_limit(client, app, tenant):
    # A chunked body announces no length; the limit applies to what is actually read.
    app.config["SCIM_MAX_PAYLOAD_SIZE"] = 1000
    body = json.dumps({"userName": "big", "title": "t" * 2000}).encode()
    # (gunicorn marks a de-chunked body as terminated; the test client must say so itself.)
    r = client.post(
        "/scim/v2/Users",
        input_stream=io.BytesIO(body),
        headers={**tenant.scim, "Content-Type": "application/scim+json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413 and r.json["status"] == "413", r.get_data(as_text=True)


def test_per_page_over_page_size_max_is_a_400_naming_per_page_and_the_limit(client, rt, tenant):
    # A page size is a request for less, not a body to refuse: 400 on the parameter, not 413.
    rt.settings.page_size_max = 20
    r = client.get("/api/v1/groups?per_page=21", headers=tenant.admin)
    assert r.status_code == 400 and r.json["errors"] == {"per_page": ["Must be at most 20 (PAGE_SIZE_MAX)."]}
    assert client.get("/api/v1/groups?per_page=20", headers=tenant.admin).status_code == 200


def test_scim_count_follows_page_size_max(client, rt, tenant):
    # RFC 7644 §3.4.2.4: a count above the maximum is lowered to it (not refused).
    rt.settings.page_size_max = 2
    for name in ("a", "b", "c"):
        client.post("/scim/v2/Users", json={"userName": name}, headers=tenant.scim)
    page = client.get("/scim/v2/Users?count=100", headers=tenant.scim).json
    assert page["totalResults"] == 3 and page["itemsPerPage"] == 2
    config = client.get("/scim/v2/ServiceProviderConfig", headers=tenant.scim).json
    assert config["filter"]["maxResults"] == 2


def test_more_ids_than_one_request_may_name_is_a_400_naming_the_field(client, tenant):
    group = client.post("/api/v1/groups", json={"name": "G"}, headers=tenant.admin).json
    r = client.post(
        f"/api/v1/groups/{group['id']}/members", json={"user_ids": list(range(1, 10_002))}, headers=tenant.admin
    )
    assert r.status_code == 400 and "user_ids" in r.json["errors"]
    assert "10000" in json.dumps(r.json["errors"]["user_ids"])


def test_a_ui_upload_over_the_size_limit_is_a_413_page_naming_the_limit(client, app, rt, tenant):
    owner = sign_in(client, rt, tenant.id)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    r = owner.client.post(
        "/ui/imports/new",
        data={"lt": owner.token, "group_name": "Big", "file": (io.BytesIO(b"email\n" + b"a@x.org\n" * 400), "big.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 413 and r.mimetype == "text/html"
    assert "larger than the limit of 2,000 bytes" in r.get_data(as_text=True)


def test_a_ui_upload_over_the_row_limit_is_a_413_page_and_nothing_is_staged(client, rt, tenant):
    owner = sign_in(client, rt, tenant.id)
    rt.settings.import_max_rows = 3
    r = owner.post(
        "/ui/imports/new",
        {
            "kind": "group",
            "group_name": "Big",
            "file": (io.BytesIO(b"email\na@x.org\nb@x.org\nc@x.org\nd@x.org\n"), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 413 and "more than 3 rows" in r.get_data(as_text=True)
    assert client.get("/api/v1/imports", headers=tenant.admin).json["total"] == 0
