"""Issue 16, the groups article: "populate the group ... by copying users from a branch" (this service's
department): the People list's Department filter, and a group page's "Copy the people of a department",
as an admin and as a course's instructor launched over LTI 1.3 (tests/support/personas.py)."""

from __future__ import annotations

import re

import pytest

from provisioning.lti import launch as lti_launch
from provisioning.services import groups, memberships, users
from tests.support.personas import SETUP, school


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    found = school(rt, app, client, tenant, platform)
    users.update_user(rt, tenant.id, found.kim.id, {"department": "Sales"}, SETUP)
    return found


@pytest.fixture
def sales(rt, tenant, sch):
    """Sam (Sales, in no group of the instructor's), Dee (Sales, deactivated, a member of the course's
    group) and Eli (Engineering, a member of the course's group), beside Kim (Sales, a member)."""
    sam = users.create_user(
        rt, tenant.id, {"email": "sam@example.edu", "given_name": "Sam", "department": "Sales"}, SETUP
    )
    dee = users.create_user(
        rt, tenant.id, {"email": "dee@example.edu", "given_name": "Dee", "department": "Sales"}, SETUP
    )
    eli = users.create_user(
        rt, tenant.id, {"email": "eli@example.edu", "given_name": "Eli", "department": "Engineering"}, SETUP
    )
    memberships.add_members(rt, tenant.id, sch.group.id, user_ids=[dee.id, eli.id], actor=SETUP)
    users.update_user(rt, tenant.id, dee.id, {"status": "deactivated"}, SETUP)
    return dict(sam=sam, dee=dee, eli=eli)


def _members(client, tenant, group_id) -> set[str]:
    r = client.get(f"/api/v1/groups/{group_id}/members?per_page=500", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {m["email"] for m in r.json["items"]}


def _people_rows(page: str) -> set[str]:
    table = re.search(r'<table[^>]*id="people".*?</table>', page, re.S).group(0)
    return set(re.findall(r"[a-z]+@example\.edu", table))


def test_the_people_list_filters_by_department_from_a_list_of_the_departments(sch, sales):
    admin = sch.admin.session
    page = admin.get("/ui/people").get_data(as_text=True)
    assert '<option value="Sales">Sales</option>' in page and '<option value="Engineering">Engineering</option>' in page
    in_sales = admin.get("/ui/people", department="Sales").get_data(as_text=True)
    assert _people_rows(in_sales) == {"kim@example.edu", "sam@example.edu", "dee@example.edu"}
    assert '<option value="Sales" selected>' in in_sales
    assert _people_rows(admin.get("/ui/people", department="Engineering", q="eli").get_data(as_text=True)) == {
        "eli@example.edu"
    }


def test_a_manager_sees_only_the_departments_and_people_they_manage(sch, sales):
    tia = sch.manager_own.session
    page = tia.get("/ui/people", department="Sales").get_data(as_text=True)
    assert _people_rows(page) == {"kim@example.edu", "dee@example.edu"}  # never Sam, in no group of hers
    tom_page = sch.manager_other.session.get("/ui/people").get_data(as_text=True)
    assert '<option value="Sales">' not in tom_page and 'id="department"' not in tom_page


def test_everyone_in_a_department_is_selected_and_added_to_a_group_with_the_batch_action(
    client, tenant, rt, sch, sales, run_jobs
):
    admin = sch.admin.session
    target = groups.create_group(rt, tenant.id, {"name": "Sales kickoff"}, SETUP)
    page = admin.get("/ui/people", department="Sales").get_data(as_text=True)
    ids = re.findall(r'name="user_ids" value="(\d+)"', page)
    form = {"action": "add_to_groups", "user_ids": ids, "group_ids": str(target.id), "confirmed": "yes"}
    assert admin.post("/ui/people/batch", form).status_code == 302
    run_jobs()
    assert _members(client, tenant, target.id) == {"kim@example.edu", "sam@example.edu", "dee@example.edu"}


def test_an_admin_copies_the_active_people_of_a_department_into_a_group(client, tenant, rt, sch, sales, run_jobs):
    admin = sch.admin.session
    target = groups.create_group(rt, tenant.id, {"name": "Sales kickoff"}, SETUP)
    page = admin.get(f"/ui/groups/{target.id}").get_data(as_text=True)
    assert 'id="copy-department"' in page and '<option value="Engineering">Engineering</option>' in page
    response = admin.post(f"/ui/groups/{target.id}/copy-department", {"department": "Sales"})
    assert response.status_code == 302 and "/ui/operations/" in response.headers["Location"]
    run_jobs()
    assert _members(client, tenant, target.id) == {"kim@example.edu", "sam@example.edu"}  # Dee is deactivated
    follow = admin.get(response.headers["Location"].split("?")[0]).get_data(as_text=True)
    assert "Add users to groups" in follow


def test_a_manager_copies_only_the_department_people_they_manage(client, tenant, rt, sch, sales, run_jobs):
    lab = groups.create_group(rt, tenant.id, {"name": "Course A lab"}, SETUP)
    lti_launch.add_course_group(rt, tenant.id, sch.course.id, lab.id)
    tia = sch.manager_own.session
    page = tia.get(f"/ui/groups/{lab.id}").get_data(as_text=True)
    assert '<option value="Sales">Sales</option>' in page
    assert tia.post(f"/ui/groups/{lab.id}/copy-department", {"department": "Sales"}).status_code == 302
    run_jobs()
    assert _members(client, tenant, lab.id) == {"kim@example.edu"}  # never Sam, beyond her groups


def test_a_department_of_nobody_the_manager_manages_is_refused_like_an_unknown_one(tenant, rt, sch, sales):
    users.create_user(rt, tenant.id, {"email": "ola@example.edu", "department": "Legal"}, SETUP)
    tia = sch.manager_own.session
    legal = tia.post(f"/ui/groups/{sch.group.id}/copy-department", {"department": "Legal"})
    nowhere = tia.post(f"/ui/groups/{sch.group.id}/copy-department", {"department": "Nowhere"})
    assert legal.status_code == nowhere.status_code == 400
    said = legal.get_data(as_text=True).replace("Legal", "X")
    assert said == nowhere.get_data(as_text=True).replace("Nowhere", "X") and "Nobody active" in said
    assert tia.post(f"/ui/groups/{sch.group.id}/copy-department", {"department": " "}).status_code == 400


def test_copying_a_department_is_refused_outside_ones_groups_and_into_automatic_groups(client, tenant, rt, sch, sales):
    tom = sch.manager_other.session
    assert tom.post(f"/ui/groups/{sch.group.id}/copy-department", {"department": "Sales"}).status_code == 403
    auto = groups.create_group(
        rt, tenant.id, {"name": "Sales auto", "kind": "automatic", "rule": 'department eq "Sales"'}, SETUP
    )
    refused = sch.admin.session.post(f"/ui/groups/{auto.id}/copy-department", {"department": "Sales"})
    assert refused.status_code == 409 and "automatic" in refused.get_data(as_text=True)
    assert 'id="copy-department"' not in sch.admin.session.get(f"/ui/groups/{auto.id}").get_data(as_text=True)
    assert _members(client, tenant, sch.group.id) >= {"kim@example.edu"}
