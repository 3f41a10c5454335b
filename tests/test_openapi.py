"""The OpenAPI document at /api/v1/openapi.json documents every admin API route."""

import re

API = "/api/v1/"
UNDOCUMENTED = {"/api/v1/openapi.json"}  # the document itself


def spec(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json


def openapi_path(rule: str) -> str:
    """``/groups/<int:group_id>`` as OpenAPI writes it: ``/groups/{group_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_and_method_of_the_url_map_is_documented(app, client):
    paths = spec(client)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule in UNDOCUMENTED:
            continue
        documented = paths.get(openapi_path(rule.rule), {})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in documented:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_the_document_names_the_bearer_scheme_for_every_operation(client):
    document = spec(client)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An admin token (prov_...)."}
    assert document["security"] == [{"bearerAuth": []}]


def test_the_schemas_describe_the_documented_shapes(client):
    schemas = spec(client)["components"]["schemas"]
    assert {"id", "name", "description", "kind", "source", "member_count", "created_at",
            "updated_at"} <= set(schemas["Group"]["properties"])
    assert {"first_name", "last_name", "last_login_at", "custom_attributes"} <= set(schemas["User"]["properties"])
    assert {"source", "added_at", "email"} <= set(schemas["Member"]["properties"])
    assert set(schemas["Progress"]["properties"]) == {"done", "total"}
    for page in ("GroupPage", "UserPage", "MemberPage", "OperationPage", "ActivityPage"):
        assert set(schemas[page]["properties"]) == {"items", "total", "page", "per_page"}


def test_request_bodies_refuse_unknown_fields_in_the_document_too(client):
    schemas = spec(client)["components"]["schemas"]
    assert schemas["UserCreate"]["additionalProperties"] is False
    assert set(schemas["UserCreate"]["required"]) == {"email", "first_name", "last_name"}


def test_the_copy_endpoint_is_documented_as_202_with_an_operation_id(client):
    post = spec(client)["paths"]["/api/v1/groups/{group_id}/members/copy"]["post"]
    assert "202" in post["responses"]
    ref = post["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/OperationAccepted")
