"""The rule builder in the UI: rows posted as a form (no JavaScript needed), text mode with words,
the Edit rule page with who joins and who leaves before saving."""

from __future__ import annotations

import re

import pytest

from provisioning.activity import Actor
from provisioning.services import groups
from provisioning.services.courses import create_course, enroll_many
from provisioning.store.users import add_user
from tests.support.signin import launch_as  # noqa: F401  (kept for parity with the other UI tests)

ACTOR = Actor("test", "api")
PEOPLE = [
    ("ann", "Ann Archer", "Engineering", {"hireDate": "2023-02-01", "location": "Berlin"}),
    ("bob", "Bob Baker", "Engineering", {"hireDate": "2024-09-01", "location": "Paris"}),
    ("cid", "Cid Cole", "Sales", {"hireDate": "2022-01-01", "location": "Berlin"}),
]


@pytest.fixture
def staff(rt, tenant):
    with rt.db.transaction() as s:
        ids = {
            u: add_user(
                s,
                tenant.id,
                {
                    "username": u,
                    "email": f"{u}@acme.example",
                    "display_name": name,
                    "department": dept,
                    "custom_attributes": custom,
                },
                ACTOR,
            ).id
            for u, name, dept, custom in PEOPLE
        }
    create_course(rt, tenant.id, "driver-safety", "Driver Safety Fundamentals", ACTOR)
    enroll_many(rt, tenant.id, [{"user_id": ids["cid"], "course_id": "driver-safety", "status": "completed"}], ACTOR)
    return ids


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_create_page_opens_with_one_condition_row_and_real_fields(owner, staff):
    page = text(owner.get("/ui/groups/new"))
    assert 'name="r.1.field"' in page and 'name="match"' in page
    assert ">Department<" in page and ">Hire date<" in page and ">Course enrollment<" in page
    assert "Standard fields" in page and "Additional fields" in page


def test_rows_are_added_and_removed_by_plain_form_posts(owner, staff):
    form = {"kind": "automatic", "mode": "builder", "match": "all", "r.1.field": "department", "r.1.op": "is"}
    form["r.1.value"] = "Engineering"
    page = owner.post("/ui/groups/new", {**form, "builder": "add"})
    assert page.status_code == 200
    body = text(page)
    assert 'name="r.2.field"' in body and 'id="r-2-field" name="r.2.field" autofocus' in body
    assert "2 people match this rule now." not in body  # the new row has no value yet
    assert "Condition 2 has no value yet" in body and "text-danger" not in body  # not an error while editing
    body = text(owner.post("/ui/groups/new", {**form, "builder": "group"}))
    assert 'name="r.2.match"' in body and 'name="r.2.1.field"' in body
    grouped = {**form, "r.2.match": "any", "r.2.1.field": "emails", "r.2.1.op": "contains", "r.2.1.value": "ann"}
    body = text(owner.post("/ui/groups/new", {**grouped, "builder": "remove:2.1"}))
    assert 'name="r.2.match"' not in body and "2 people match this rule now." in body


def test_the_builder_shows_the_rule_text_the_count_and_names(owner, staff):
    form = {
        "kind": "automatic",
        "match": "any",
        "r.1.field": "course",
        "r.1.op": "completed",
        "r.1.value": "driver-safety",
        "r.2.field": "emails",
        "r.2.op": "contains",
        "r.2.value": "ann@",
        "builder": "refresh",
    }
    body = text(owner.post("/ui/groups/new", form))
    assert (
        "enrollments[course eq &#34;driver-safety&#34; and status eq &#34;completed&#34;] or emails co &#34;ann@&#34;"
        in body
    )
    assert "2 people match this rule now." in body and "Ann Archer" in body and "Cid Cole" in body
    assert "Driver Safety Fundamentals" in body  # the course picker shows titles


def test_a_changed_field_gets_operators_of_its_type(owner, staff):
    form = {"kind": "automatic", "r.1.field": "hireDate", "r.1.op": "contains", "r.1.value": "x", "builder": "refresh"}
    body = text(owner.post("/ui/groups/new", form))
    assert 'type="date"' in body and ">is before<" in body and ">contains<" not in body


def test_an_automatic_group_is_created_from_the_rows(owner, staff, rt, tenant):
    form = {
        "name": "Engineers",
        "kind": "automatic",
        "match": "all",
        "r.1.field": "department",
        "r.1.op": "is",
        "r.1.value": "Engineering",
        "r.2.field": "hireDate",
        "r.2.op": "between",
        "r.2.value": "2023-01-01",
        "r.2.value2": "2023-12-31",
    }
    response = owner.post("/ui/groups/new", form)
    assert response.status_code == 302, text(response)
    gid = int(re.search(r"/groups/(\d+)", response.headers["Location"]).group(1))
    assert groups.get_group(rt, tenant.id, gid).rule == (
        'department eq "Engineering" and (hireDate ge "2023-01-01" and hireDate le "2023-12-31")'
    )


def test_an_incomplete_row_stops_creation_and_names_the_row(owner, staff):
    form = {"name": "X", "kind": "automatic", "r.1.field": "department", "r.1.op": "is", "r.1.value": ""}
    response = owner.post("/ui/groups/new", form)
    assert response.status_code == 400
    assert "Condition 1: Enter a value to compare with." in text(response)


def test_text_mode_accepts_words_and_says_how_it_read_them(owner, staff, rt, tenant):
    body = text(owner.post("/ui/groups/new", {"kind": "automatic", "mode": "text", "rule": "department = Sales"}))
    assert "Read as: department eq &#34;Sales&#34;" in body and "1 person matches this rule now." in body
    response = owner.post(
        "/ui/groups/new", {"name": "Sellers", "kind": "automatic", "mode": "text", "rule": "department = Sales"}
    )
    assert response.status_code == 302
    preview = owner.get("/ui/rules/preview.json", rule='email contains "bob"')
    assert preview.json["count"] == 1


def test_text_mode_errors_show_the_position_and_the_form_expected(owner, staff):
    body = text(owner.post("/ui/groups/new", {"kind": "automatic", "mode": "text", "rule": "department = = ("}))
    assert "Position 11: Unexpected character &#39;=&#39;." in body and "department eq &#34;Engineering&#34;" in body


def test_switching_between_text_and_builder(owner, staff):
    rows = {"kind": "automatic", "r.1.field": "department", "r.1.op": "is", "r.1.value": "Sales"}
    body = text(owner.post("/ui/groups/new", {**rows, "builder": "text"}))
    assert '<textarea id="rule"' in body and "department eq &#34;Sales&#34;</textarea>" in body
    back = {"kind": "automatic", "mode": "text", "rule": 'title pr or department eq "Sales"', "builder": "visual"}
    body = text(owner.post("/ui/groups/new", back))
    assert 'name="r.1.field"' in body and 'name="r.2.field"' in body
    for rule in ('not (title pr or department eq "Sales")', 'title pr and (title pr or (title pr and title eq "x"))'):
        body = text(owner.post("/ui/groups/new", {**back, "rule": rule}))
        assert '<textarea id="rule"' in body and "The builder cannot show this rule" in body, rule


@pytest.fixture
def engineers(rt, tenant, staff, run_jobs):
    group = groups.create_group(
        rt, tenant.id, {"name": "Engineers", "kind": "automatic", "rule": 'department eq "Engineering"'}, ACTOR
    )
    run_jobs()
    return group


def test_the_edit_rule_page_opens_the_rule_in_the_builder(owner, engineers):
    page = " ".join(text(owner.get(f"/ui/groups/{engineers.id}")).split())
    assert f"/ui/groups/{engineers.id}/rule" in page
    assert "Members are the people who match: Department is “Engineering”" in page  # words, the text folded away
    body = text(owner.get(f"/ui/groups/{engineers.id}/rule"))
    assert 'value="Engineering"' in body and "2 people match this rule now." in body


def test_editing_a_rule_shows_who_joins_and_leaves_then_saves(owner, engineers, rt, tenant, run_jobs):
    url = f"/ui/groups/{engineers.id}/rule"
    form = {"mode": "builder", "match": "all", "r.1.field": "location", "r.1.op": "is", "r.1.value": "Berlin"}
    body = text(owner.post(url, {**form, "builder": "review"}))
    assert "1 person will join, 1 will leave." in body
    join = re.search(r'<ul id="diff-join".*?</ul>', body, re.S).group(0)
    leave = re.search(r'<ul id="diff-leave".*?</ul>', body, re.S).group(0)
    assert "Cid Cole" in join and "Bob Baker" in leave
    assert groups.get_group(rt, tenant.id, engineers.id).rule == 'department eq "Engineering"'  # not yet
    stale = owner.post(
        url, {**form, "r.1.value": "Paris", "builder": "confirm", "reviewed_rule": 'location eq "Berlin"'}
    )
    assert stale.status_code == 200 and "will join" in text(stale)  # changed since the review: check again
    saved = owner.post(url, {**form, "builder": "confirm", "reviewed_rule": 'location eq "Berlin"'})
    assert saved.status_code == 302 and "rule_saved=1" in saved.headers["Location"]
    run_jobs()
    assert groups.get_group(rt, tenant.id, engineers.id).rule == 'location eq "Berlin"'
    assert "The rule was saved" in text(owner.get(f"/ui/groups/{engineers.id}", rule_saved=1))


def test_a_manual_group_has_no_rule_to_edit(owner, staff, rt, tenant):
    manual = groups.create_group(rt, tenant.id, {"name": "Hand"}, ACTOR)
    response = owner.get(f"/ui/groups/{manual.id}/rule")
    assert response.status_code == 400 and "not an automatic group" in text(response)
