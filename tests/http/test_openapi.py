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
        "type": "http",
        "scheme": "bearer",
        "description": "An admin token (prov_...).",
    }
    assert document["security"] == [{"bearerAuth": []}]


def test_the_schemas_describe_the_documented_shapes(client):
    schemas = spec(client)["components"]["schemas"]
    assert {"id", "name", "description", "kind", "source", "member_count", "created_at", "updated_at"} <= set(
        schemas["Group"]["properties"]
    )
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


# --- every route refuses bad client data with a 4xx, never a 5xx ------------------------------


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API) and rule.rule not in UNDOCUMENTED:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.rule, method


def _wrong_types(schema, schemas):
    """A body with every documented property of a request schema set to a value of the wrong type."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    wrong = {"string": 12345, "integer": 10**30, "number": "many", "boolean": "maybe", "array": "x", "object": [1]}
    return {name: wrong.get(prop.get("type"), {"deep": [None]}) for name, prop in schema.get("properties", {}).items()}


BAD_PATHS = {"huge id": str(10**30), "negative id": "-5", "non-numeric id": "abc"}
BAD_QUERY = "?page=-1&per_page=abc&since=yesterday&until=99999-1-1&q=%00&status=%ff&kind=1e999&populated=2"
BAD_BODIES = {
    "malformed json": dict(data='{"name": ', content_type="application/json"),
    "json array": dict(json=[1, 2]),
    "json null": dict(data="null", content_type="application/json"),
    "form body": dict(data="a=1", content_type="application/x-www-form-urlencoded"),
    "huge number": dict(
        data='{"id": 1e999999, "user_ids": [123456789012345678901234567890]}', content_type="application/json"
    ),
}


def test_no_route_answers_bad_client_data_with_a_5xx(app, client, tenant):
    from tests.support.api import new_group, new_user

    real_ids = {
        "group_id": new_group(client, tenant, "Math")["id"],
        "user_id": new_user(client, tenant, "ann@example.org")["id"],
    }
    document = spec(client)
    schemas = document["components"]["schemas"]
    failures = []

    def check(label, method, path, **kwargs):
        r = client.open(path, method=method, headers=tenant.admin, **kwargs)
        if r.status_code >= 500 or not r.is_json and r.status_code >= 400:
            failures.append(f"{label}: {method} {path} -> {r.status_code} {r.get_data(as_text=True)[:200]}")

    for rule, method in _api_routes(app):
        real = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(real_ids.get(m.group(1), 1)), rule)
        for label, bad in BAD_PATHS.items():
            bad_path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", bad, rule)
            if bad_path != rule:
                check(label, method, bad_path)
        check("bad query", method, real + BAD_QUERY)
        if method in ("POST", "PUT", "PATCH"):
            for label, kwargs in BAD_BODIES.items():
                check(label, method, real, **kwargs)
            operation = document["paths"][openapi_path(rule)][method.lower()]
            body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body_schema:
                check("wrong types", method, real, json=_wrong_types(body_schema, schemas))
    assert not failures, "\n".join(failures)
