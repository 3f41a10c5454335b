"""The rule builder over the admin API: fields, values, compile, parse (with words), and the diff."""

from __future__ import annotations

from tests.http.test_rules import make_rule_group, people  # noqa: F401  (fixture)

COMPLETED = {"field": "course", "type": "course", "op": "completed", "value": "driver-safety"}
SALES = {"field": "department", "type": "text", "op": "is", "value": "Sales"}
PARTNER = {"field": "emails", "type": "text", "op": "contains", "value": "@partner.com"}


def test_the_fields_are_the_tenants_real_attributes_typed(client, tenant, people):  # noqa: F811
    r = client.get("/api/v1/rules/fields", headers=tenant.admin)
    assert r.status_code == 200, r.json
    by_name = {f["name"]: f for f in r.json["fields"]}
    assert by_name["department"]["type"] == "text" and "contains" in by_name["department"]["operators"]
    assert by_name["hireDate"] == {
        "name": "hireDate",
        "label": "Hire date",
        "type": "date",
        "custom": True,
        "operators": ["before", "after", "on", "between", "is_empty", "is_not_empty"],
    }
    assert by_name["location"]["type"] == "text" and by_name["active"]["type"] == "boolean"
    assert by_name["course"]["operators"][:2] == ["completed", "not_completed"]
    assert r.json["courses"] == [{"id": "driver-safety", "title": "Driver safety"}]


def test_value_suggestions_are_distinct_prefix_matched_and_of_this_tenant_only(
    client,
    tenant,
    other_tenant,
    people,  # noqa: F811
):
    r = client.get("/api/v1/rules/fields/department/values", headers=tenant.admin)
    assert r.json["values"] == ["Sales", "Support"]
    r = client.get("/api/v1/rules/fields/location/values?prefix=be&limit=5", headers=tenant.admin)
    assert r.json["values"] == ["Berlin"]
    r = client.get("/api/v1/rules/fields/department/values", headers=other_tenant.admin)
    assert r.json["values"] == []
    assert client.get("/api/v1/rules/fields/nothing/values", headers=tenant.admin).json["values"] == []


def test_conditions_compile_to_the_rule_language_and_parse_back(client, tenant, people):  # noqa: F811
    conditions = {"match": "all", "items": [COMPLETED, {"match": "any", "items": [SALES, PARTNER]}]}
    r = client.post("/api/v1/rules/compile", json={"conditions": conditions}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    rule = r.json["rule"]
    assert rule == (
        'enrollments[course eq "driver-safety" and status eq "completed"] and '
        '(department eq "Sales" or emails co "@partner.com")'
    )
    back = client.post("/api/v1/rules/parse", json={"rule": rule}, headers=tenant.admin).json
    assert back["conditions"]["match"] == "all"
    assert back["conditions"]["items"][0] == {**COMPLETED, "value2": ""}
    assert [i["field"] for i in back["conditions"]["items"][1]["items"]] == ["department", "emails"]
    preview = client.post("/api/v1/rules/preview", json={"rule": rule}, headers=tenant.admin).json
    assert {u["username"] for u in preview["sample"]} == {"ann"}


def test_a_bad_condition_is_named_by_its_place(client, tenant, people):  # noqa: F811
    conditions = {"match": "any", "items": [SALES, {"match": "all", "items": [{**PARTNER, "value": ""}]}]}
    r = client.post("/api/v1/rules/compile", json={"conditions": conditions}, headers=tenant.admin)
    assert r.status_code == 400
    assert r.json["errors"]["conditions"] == ["Condition 2.1: Enter a value to compare with."]
    course = {**COMPLETED, "value": "no-such-course"}
    r = client.post("/api/v1/rules/compile", json={"conditions": {"items": [course]}}, headers=tenant.admin)
    assert r.status_code == 400 and "No course with external id" in r.json["message"]


def test_rules_typed_in_words_are_translated(client, tenant, people):  # noqa: F811
    r = client.post(
        "/api/v1/rules/parse",
        json={"rule": 'department = Sales and email contains "partner"'},
        headers=tenant.admin,
    )
    assert r.status_code == 200, r.json
    assert r.json["rule"] == 'department eq "Sales" and emails co "partner"'
    assert r.json["translated_from"] == 'department = Sales and email contains "partner"'


def test_a_rule_neither_language_nor_words_shows_the_position_and_the_form_expected(client, tenant, people):  # noqa: F811
    r = client.post("/api/v1/rules/parse", json={"rule": "department = = ("}, headers=tenant.admin)
    assert r.status_code == 400
    assert "position 11" in r.json["message"]
    assert 'department eq "Engineering"' in r.json["message"]


def test_a_rule_the_builder_cannot_show_parses_to_no_conditions(client, tenant, people):  # noqa: F811
    r = client.post(
        "/api/v1/rules/parse", json={"rule": 'not (department eq "Sales" or title pr)'}, headers=tenant.admin
    )
    assert r.status_code == 200 and r.json["conditions"] is None


def test_the_diff_names_who_joins_and_who_leaves(client, tenant, run_jobs, people):  # noqa: F811
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')  # ann, bob
    r = client.post(
        f"/api/v1/groups/{group['id']}/rule/diff",
        json={"rule": 'emails co "@acme.com"', "per_page": 1},
        headers=tenant.admin,
    )
    assert r.status_code == 200, r.json
    assert (r.json["join_count"], r.json["leave_count"]) == (1, 1)  # cid joins, bob leaves; ann stays
    assert [u["username"] for u in r.json["join"]] == ["cid"]
    assert [u["username"] for u in r.json["leave"]] == ["bob"]
    manual = client.post("/api/v1/groups", json={"name": "Hand"}, headers=tenant.admin).json
    r = client.post(f"/api/v1/groups/{manual['id']}/rule/diff", json={"rule": "title pr"}, headers=tenant.admin)
    assert r.status_code == 400


def test_the_builder_endpoints_are_in_the_openapi_document(client, tenant):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/rules/fields", "/rules/compile", "/rules/parse", "/groups/{group_id}/rule/diff"):
        assert any(p.endswith(path) for p in paths), path


def test_custom_numbers_booleans_and_dates_are_typed_and_match(client, tenant, rt):
    from provisioning.activity import Actor
    from provisioning.store.users import add_user

    with rt.db.transaction() as s:
        for name, seats, mentor, start in (("fay", 3, True, "2024-01-10"), ("gus", 12, False, "2025-06-01")):
            custom = {"seats": seats, "mentor": mentor, "startDate": start}
            add_user(s, tenant.id, {"username": name, "custom_attributes": custom}, Actor("test", "api"))
    by_name = {f["name"]: f for f in client.get("/api/v1/rules/fields", headers=tenant.admin).json["fields"]}
    assert (by_name["seats"]["type"], by_name["mentor"]["type"], by_name["startDate"]["type"]) == (
        "number",
        "boolean",
        "date",
    )
    for conditions, expected in (
        ([{"field": "mentor", "type": "boolean", "op": "is_true"}], {"fay"}),
        ([{"field": "seats", "type": "number", "op": "is", "value": "12"}], {"gus"}),
        ([{"field": "startDate", "type": "date", "op": "before", "value": "2025-01-01"}], {"fay"}),
        (
            [{"field": "startDate", "type": "date", "op": "between", "value": "2025-01-01", "value2": "2025-12-31"}],
            {"gus"},
        ),
    ):
        rule = client.post(
            "/api/v1/rules/compile", json={"conditions": {"items": conditions}}, headers=tenant.admin
        ).json["rule"]
        preview = client.post("/api/v1/rules/preview", json={"rule": rule}, headers=tenant.admin).json
        assert {u["username"] for u in preview["sample"]} == expected, rule
        parsed = client.post("/api/v1/rules/parse", json={"rule": rule}, headers=tenant.admin).json
        assert parsed["conditions"]["items"][0]["op"] == conditions[0]["op"], rule


def test_the_diff_follows_the_groups_exceptions(client, tenant, run_jobs, people):  # noqa: F811
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')  # ann, bob
    r = client.put(
        f"/api/v1/groups/{group['id']}/rule-exceptions",
        json={"never_include": [people["cid"]], "always_include": [people["bob"]]},
        headers=tenant.admin,
    )
    assert r.status_code == 202
    run_jobs()
    r = client.post(
        f"/api/v1/groups/{group['id']}/rule/diff", json={"rule": 'emails co "@acme.com"'}, headers=tenant.admin
    )
    assert (r.json["join_count"], r.json["leave_count"]) == (0, 0)  # cid never, bob always, ann stays


def test_the_articles_role_and_supervisor_are_fields_read_from_the_identity_provider(client, tenant):
    """automatic-groups article, "User additional fields based condition: Institutional ID, Department, Role,
    Start Date, Student or Employee, Supervisor": Role is the IdP's roles, Supervisor its enterprise manager,
    Student or Employee its userType and Institutional ID its externalId, all as a SCIM client sends them."""
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    for name, role, boss, kind in (("fay", "Faculty", "boss-1", "Employee"), ("sol", "Student", "boss-2", "Student")):
        r = client.post(
            "/scim/v2/Users",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", enterprise],
                "userName": name,
                "externalId": f"INST-{name}",
                "userType": kind,
                "emails": [{"value": f"{name}@example.edu", "primary": True}],
                "roles": [{"value": role}],
                enterprise: {"manager": {"value": boss}},
            },
            headers={**tenant.scim, "Content-Type": "application/scim+json"},
        )
        assert r.status_code == 201, r.json
    fields = {f["name"]: f for f in client.get("/api/v1/rules/fields", headers=tenant.admin).json["fields"]}
    assert {n: fields[n]["label"] for n in ("roles", "manager.value", "userType", "externalId")} == {
        "roles": "Role",
        "manager.value": "Supervisor",
        "userType": "User type",
        "externalId": "Institutional ID",
    }
    bosses = client.get("/api/v1/rules/fields/manager.value/values", headers=tenant.admin).json["values"]
    assert bosses == ["boss-1", "boss-2"]
    for field, value, who in (
        ("roles", "Faculty", "fay"),
        ("manager.value", "boss-2", "sol"),
        ("userType", "Student", "sol"),
        ("externalId", "INST-fay", "fay"),
    ):
        condition = {"field": field, "type": "text", "op": "is", "value": value}
        r = client.post("/api/v1/rules/compile", json={"conditions": {"items": [condition]}}, headers=tenant.admin)
        assert r.status_code == 200, r.json
        preview = client.post("/api/v1/rules/preview", json={"rule": r.json["rule"]}, headers=tenant.admin).json
        assert {u["username"] for u in preview["sample"]} == {who}, (field, r.json["rule"])
