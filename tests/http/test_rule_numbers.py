"""Numbers in rules compare as numbers: a custom attribute compared with gt/ge/lt/le and a number is ordered
numerically (10 > 9, where as text "10" < "9"), in the preview, the full evaluation and the re-evaluation of
one person; a value that is no number ("abc", true) or a missing one does not match and breaks nothing.
Run on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from provisioning.activity import Actor
from provisioning.models import Tenant
from provisioning.store.users import add_user
from tests.http.test_rules import make_rule_group, members

ACTOR = Actor("test", "api")
# username -> seniority (None: the attribute is missing); "ten" is a number imported as text.
SENIORITY = {"nine": 9, "ten": "10", "hundred": 100, "half": 9.5, "abc": "abc", "yes": True, "none": None}


@pytest.fixture
def staff(rt, tenant):
    with rt.db.transaction() as s:
        return {
            name: add_user(
                s,
                tenant.id,
                {"username": name, "custom_attributes": {} if value is None else {"seniority": value}},
                ACTOR,
            ).id
            for name, value in SENIORITY.items()
        }


def _preview(client, tenant, rule: str) -> set[str]:
    r = client.post("/api/v1/rules/preview", json={"rule": rule}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    assert r.json["count"] == len(r.json["sample"])
    return {u["username"] for u in r.json["sample"]}


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("seniority gt 9", {"ten", "hundred", "half"}),
        ("seniority ge 10", {"ten", "hundred"}),
        ("seniority lt 10", {"nine", "half"}),
        ("seniority le 9", {"nine"}),
        ("seniority gt 99.5", {"hundred"}),
        ("seniority lt -1", set()),
        ("not (seniority gt 9)", {"nine", "abc", "yes", "none"}),
        ('seniority gt "9"', {"abc", "yes", "half"}),  # quoted, it compares as text: "10" < "9" < "9.5"
    ],
)
def test_a_number_compares_numerically_and_values_that_are_no_number_do_not_match(
    client, tenant, staff, rule, expected
):
    assert _preview(client, tenant, rule) == expected


def test_an_automatic_group_on_a_number_gets_the_numerically_larger_and_follows_changes(
    rt, client, tenant, staff, run_jobs
):
    group = make_rule_group(client, tenant, run_jobs, "seniority ge 10")
    assert members(rt, group["id"]) == {staff["ten"], staff["hundred"]}
    # A change to one person re-evaluates them at once: "abc" becoming 12 joins, 100 becoming "n/a" leaves.
    for name, value in (("abc", 12), ("hundred", "n/a")):
        r = client.patch(
            f"/api/v1/users/{staff[name]}", json={"custom_attributes": {"seniority": value}}, headers=tenant.admin
        )
        assert r.status_code == 200, r.json
    assert members(rt, group["id"]) == {staff["ten"], staff["abc"]}


def test_the_builder_offers_ordering_for_a_declared_number_and_compiles_it_to_a_numeric_rule(rt, client, tenant, staff):
    fields = {f["name"]: f for f in client.get("/api/v1/rules/fields", headers=tenant.admin).json["fields"]}
    assert fields["seniority"]["type"] == "text"  # "abc" and true among the values: text unless declared
    with rt.db.transaction() as s:
        s.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(settings={"custom_attributes": [{"name": "seniority", "type": "integer"}]})
        )
    fields = {f["name"]: f for f in client.get("/api/v1/rules/fields", headers=tenant.admin).json["fields"]}
    assert fields["seniority"]["type"] == "number"
    assert {"greater_than", "at_least", "less_than", "at_most"} <= set(fields["seniority"]["operators"])
    condition = {"field": "seniority", "type": "number", "op": "greater_than", "value": "9"}
    rule = client.post("/api/v1/rules/compile", json={"conditions": {"items": [condition]}}, headers=tenant.admin).json[
        "rule"
    ]
    assert rule == "seniority gt 9"
    assert _preview(client, tenant, rule) == {"ten", "hundred", "half"}
    parsed = client.post("/api/v1/rules/parse", json={"rule": "seniority le 9.5"}, headers=tenant.admin).json
    assert parsed["conditions"]["items"] == [
        {"field": "seniority", "type": "number", "op": "at_most", "value": "9.5", "value2": ""}
    ]
    bad = client.post(
        "/api/v1/rules/compile",
        json={"conditions": {"items": [{**condition, "value": "nine"}]}},
        headers=tenant.admin,
    )
    assert bad.status_code == 400 and "Give a number." in str(bad.json)


def test_a_number_rule_typed_in_words_or_symbols_compares_numerically(client, tenant, staff):
    for typed, rule in (
        ("seniority > 9", "seniority gt 9"),
        ("seniority is more than 9", "seniority gt 9"),
        ("seniority at least 10", "seniority ge 10"),
        ("seniority is less than 10", "seniority lt 10"),
    ):
        r = client.post("/api/v1/rules/parse", json={"rule": typed}, headers=tenant.admin)
        assert r.status_code == 200 and r.json["rule"] == rule, (typed, r.json)
    assert _preview(client, tenant, "seniority gt 9") == {"ten", "hundred", "half"}


def test_the_ui_builder_offers_more_than_for_a_number_and_shows_the_rule_in_words(owner, rt, tenant, staff, run_jobs):
    with rt.db.transaction() as s:
        s.execute(
            update(Tenant).where(Tenant.id == tenant.id).values(settings={"custom_attributes": {"seniority": "number"}})
        )
    form = {
        "kind": "automatic",
        "r.1.field": "seniority",
        "r.1.op": "greater_than",
        "r.1.value": "9",
        "builder": "refresh",
    }
    body = owner.post("/ui/groups/new", form).get_data(as_text=True)
    assert ">is more than<" in body and ">is at most<" in body and 'inputmode="decimal"' in body
    assert "seniority gt 9" in body and "3 people match this rule now." in body
    created = owner.post("/ui/groups/new", {**form, "name": "Seniors", "builder": ""})
    assert created.status_code == 302, created.get_data(as_text=True)
    run_jobs()
    page = owner.get(created.headers["Location"].split("?")[0]).get_data(as_text=True)
    assert "Seniority is more than 9" in page
