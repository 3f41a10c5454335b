"""The groups screens through the Flask test client: the list's columns and row actions, creating, editing
and deleting a group, the dashboard's sections, and group managers assigned by an admin (UI and API),
who then manage exactly their group on every request."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from provisioning.activity import Actor
from provisioning.lti import launch as lti_launch
from provisioning.services import group_managers, groups, memberships, tenant_settings, users
from tests.support.signin import launch_as

ACTOR = Actor("test", "api")


@pytest.fixture
def school(rt, tenant):
    teacher = users.create_user(
        rt, tenant.id, {"email": "tia@example.edu", "given_name": "Tia", "family_name": "Stone"}, ACTOR
    )
    lee = users.create_user(rt, tenant.id, {"email": "lee@example.edu", "given_name": "Lee"}, ACTOR)
    max_ = users.create_user(rt, tenant.id, {"email": "max@example.edu", "given_name": "Max"}, ACTOR)
    ria = users.create_user(
        rt, tenant.id, {"email": "ria@example.edu", "given_name": "Ria", "family_name": "Okafor"}, ACTOR
    )
    with rt.db.transaction() as s:
        course = lti_launch.ensure_course(s, tenant.id, "c-1", "Biology 101")
        lti_launch.enroll(s, tenant.id, course.id, teacher.id, "Instructor")
    mine = groups.create_group(rt, tenant.id, {"name": "Team A", "description": "The first team " * 10}, ACTOR)
    theirs = groups.create_group(rt, tenant.id, {"name": "Team B"}, ACTOR)
    empty = groups.create_group(rt, tenant.id, {"name": "Empty C"}, ACTOR)
    lti_launch.add_course_group(rt, tenant.id, course.id, mine.id)
    memberships.add_members(rt, tenant.id, mine.id, user_ids=[lee.id], actor=ACTOR)
    memberships.add_members(rt, tenant.id, theirs.id, user_ids=[max_.id, lee.id], actor=ACTOR)
    return dict(teacher=teacher, lee=lee, max=max_, ria=ria, mine=mine, theirs=theirs, empty=empty, course=course)


def _follow(session, response) -> str:
    """The page a redirect leads to, opened in the same session."""
    url = urlsplit(response.headers["Location"])
    return session.get(url.path, **{k: v[0] for k, v in parse_qs(url.query).items()}).get_data(as_text=True)


def _row(page: str, name: str) -> str:
    found = re.search(rf"<tr>\s*<td><a class=\"fw-semibold\"[^>]*>{name}</a>.*?</tr>", page, re.S)
    assert found, f"no row for {name}"
    return found.group(0)


def test_the_list_shows_titles_kinds_excerpts_courses_counts_and_managers(owner, school):
    page = owner.get("/ui/groups").get_data(as_text=True)
    row = _row(page, "Team A")
    assert 'text-bg-secondary">Manual</span>' in row
    assert "The first team The first team" in row and "..." in row  # an excerpt, not the whole text
    assert "<td>Biology 101</td>" in row and "<td>Tia Stone</td>" in row
    assert re.search(r'<td class="num text-end">1</td>', row)
    assert str(school["mine"].id) not in re.sub(r'href="[^"]*"', "", row)  # no id shown as text


def test_the_row_actions_menu_offers_only_what_the_viewer_may_do(owner, app, school, tenant):
    admin_row = _row(owner.get("/ui/groups").get_data(as_text=True), "Team A")
    for item in ("Manage members", "Edit", "Download CSV", "Download Excel", "Message", "Delete"):
        assert f"</i> {item}</a>" in admin_row, item
    assert "</i> Message</a>" not in _row(owner.get("/ui/groups").get_data(as_text=True), "Empty C")  # nobody to
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    tia_row = _row(tia.get("/ui/groups").get_data(as_text=True), "Team A")
    assert "</i> Manage members</a>" in tia_row and "</i> Download CSV</a>" in tia_row
    assert "</i> Edit</a>" not in tia_row and "</i> Delete</a>" not in tia_row
    assert tia.get(f"/ui/groups/{school['mine'].id}/edit").status_code == 403
    assert tia.post(f"/ui/groups/{school['mine'].id}/delete", {"confirmed": "yes"}).status_code == 403
    assert groups.get_group(app.extensions["provisioning"], tenant.id, school["mine"].id).name == "Team A"


def test_creating_without_a_name_puts_the_error_beside_the_field(owner, school):
    page = owner.post("/ui/groups/new", {"name": " ", "kind": "manual"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'id="name-error"' in text and 'aria-describedby="name-error"' in text and "Must not be empty." in text
    assert '<a href="#name">Name</a>' in text  # the summary links to the field, in words


def test_editing_renames_and_describes_and_a_taken_name_is_refused_by_the_field(owner, rt, tenant, school):
    gid = school["mine"].id
    form = owner.get(f"/ui/groups/{gid}/edit").get_data(as_text=True)
    assert 'value="Team A"' in form and "Save changes" in form
    taken = owner.post(f"/ui/groups/{gid}/edit", {"name": "team b", "description": "", "kind": "manual"})
    assert taken.status_code == 400 and 'id="name-error"' in taken.get_data(as_text=True)
    assert "already exists" in taken.get_data(as_text=True)
    done = owner.post(f"/ui/groups/{gid}/edit", {"name": "Team Alpha", "description": "Renamed", "kind": "manual"})
    assert done.status_code == 302
    group = groups.get_group(rt, tenant.id, gid)
    assert (group.name, group.description, group.kind) == ("Team Alpha", "Renamed", "manual")
    assert "Your changes to the group were saved." in _follow(owner, done)


def test_making_a_group_automatic_needs_a_valid_rule_shown_by_its_field(owner, school):
    gid = school["empty"].id
    bad = owner.post(f"/ui/groups/{gid}/edit", {"name": "Empty C", "kind": "automatic", "rule": "department = x"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="rule-error"' in text and "Position" in text


def test_deleting_asks_first_naming_the_group_and_its_members_and_keeps_the_people(owner, rt, tenant, school):
    gid = school["theirs"].id
    ask = owner.get(f"/ui/groups/{gid}/delete").get_data(as_text=True)
    assert "<strong>Team B</strong>, which has <strong>2</strong> members" in ask
    assert "The members stay people of your organisation" in ask
    not_yet = owner.post(f"/ui/groups/{gid}/delete", {})
    assert not_yet.status_code == 200 and groups.get_group(rt, tenant.id, gid)
    gone = owner.post(f"/ui/groups/{gid}/delete", {"confirmed": "yes"})
    assert gone.status_code == 302
    assert "The group Team B was deleted." in _follow(owner, gone)
    assert owner.get(f"/ui/groups/{gid}").status_code == 404
    assert users.get_user(rt, tenant.id, school["max"].id).status == "active"


def test_the_dashboard_has_its_facts_and_sections_and_no_member_forms_when_empty(owner, school):
    page = owner.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)
    for section in ('id="members"', 'id="managers"', 'id="settings"', 'id="group-facts"'):
        assert section in page
    assert "It goes to 1 person: every member of Team A." in page
    assert re.search(r"<dt>Managers</dt><dd id=\"manager-names\">Tia Stone</dd>", page)
    empty = owner.get(f"/ui/groups/{school['empty'].id}").get_data(as_text=True)
    assert 'id="no-members"' in empty and 'id="batch-form"' not in empty and 'id="message"' not in empty


def test_an_automatic_groups_first_evaluation_is_announced_and_polled(owner, rt, tenant, school, run_jobs):
    made = owner.post("/ui/groups/new", {"name": "Bio people", "kind": "automatic", "rule": "active eq true"})
    assert made.status_code == 302, made.get_data(as_text=True)[-3000:]
    page = _follow(owner, made)
    gid = int(re.search(r"/ui/groups/(\d+)", made.headers["Location"]).group(1))
    assert "Evaluating…" in page and f'hx-get="/ui/groups/{gid}/status' in page
    assert re.search(r'<div id="alerts" role="status" aria-live="polite">', page)
    run_jobs()
    done = owner.get(f"/ui/groups/{gid}/status").get_data(as_text=True)
    assert "Evaluating" not in done and "hx-get" not in done and "Done: the rule found 4 members." in done


def test_an_admin_picks_a_person_and_assigns_them_as_a_manager_after_confirming(owner, rt, tenant, school):
    gid = school["theirs"].id
    found = owner.get(f"/ui/groups/{gid}/managers/candidates", mq="okaf").get_data(as_text=True)
    assert "Ria Okafor" in found and "ria@example.edu" in found and "Lee" not in found
    no_js = owner.get(f"/ui/groups/{gid}", mq="ria@").get_data(as_text=True)  # the picker without script
    assert 'name="user_id"' in no_js and "Ria Okafor" in no_js
    ask = owner.post(f"/ui/groups/{gid}/managers", {"user_id": str(school["ria"].id), "permissions": ["export"]})
    text = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "Ria Okafor (ria@example.edu) will manage <strong>Team B</strong>" in text
    assert "Download the members" in text and group_managers.managers_of_groups(rt, tenant.id, [gid]) == {}
    done = owner.post(
        f"/ui/groups/{gid}/managers",
        {"user_id": str(school["ria"].id), "permissions": ["export"], "confirmed": "yes"},
    )
    assert done.status_code == 302
    page = _follow(owner, done)
    assert "Ria Okafor now manages this group." in page and "Assigned by an administrator" in page
    assert "<td>Ria Okafor</td>" in _row(owner.get("/ui/groups").get_data(as_text=True), "Team B")
    (manager,) = group_managers.managers_of_groups(rt, tenant.id, [gid])[gid]
    assert (manager.user_id, manager.permissions) == (school["ria"].id, ("export",))


def test_assigning_without_choosing_a_person_says_so(owner, school):
    response = owner.post(f"/ui/groups/{school['theirs'].id}/managers", {"permissions": ["export"]})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose the person who will manage this group" in text
    assert "user_id" not in re.sub(r"<[^>]+>", "", text)


def test_a_permission_outside_the_tenants_set_is_refused(rt, tenant, school):
    from provisioning.errors import InvalidInput

    with pytest.raises(InvalidInput, match="create_groups"):  # not in the default set
        group_managers.assign_manager(rt, tenant.id, school["theirs"].id, school["ria"].id, ["create_groups"], ACTOR)


def test_an_assigned_manager_manages_exactly_that_group_on_every_request(owner, app, rt, tenant, school):
    gid, other = school["theirs"].id, school["empty"].id
    group_managers.assign_manager(rt, tenant.id, gid, school["ria"].id, ["export"], ACTOR)
    # Ria's launch made her a learner: the assignment makes her this group's manager.
    ria = launch_as(app.test_client(), app, tenant.id, school["ria"].id, "learner")
    listed = ria.get("/ui/groups").get_data(as_text=True)
    assert "Team B" in listed and "Team A" not in listed and "Empty C" not in listed
    assert "Max" in ria.get(f"/ui/groups/{gid}").get_data(as_text=True)
    assert ria.get(f"/ui/groups/{gid}/members.csv").status_code == 200  # chosen: export
    assert ria.post(f"/ui/groups/{gid}/message", {"subject": "Hi", "body": "Hello"}).status_code == 403  # not chosen
    added = ria.post(f"/ui/groups/{gid}/members", {"email": "lee@example.edu"})
    assert added.status_code == 302  # a manual group: she changes its members
    assert ria.get(f"/ui/groups/{other}").status_code == 403
    assert ria.get(f"/ui/groups/{school['mine'].id}/members.csv").status_code == 403
    assert ria.get(f"/ui/groups/{gid}/edit").status_code == 403
    assert ria.post(f"/ui/groups/{gid}/managers", {"user_id": str(school["max"].id)}).status_code == 403
    # Removing her ends it on the next request.
    ask = owner.post(f"/ui/groups/{gid}/managers/{school['ria'].id}/remove", {})
    assert "Ria Okafor will stop managing <strong>Team B</strong>" in ask.get_data(as_text=True)
    owner.post(f"/ui/groups/{gid}/managers/{school['ria'].id}/remove", {"confirmed": "yes"})
    assert ria.get(f"/ui/groups/{gid}").status_code == 403
    assert ria.get(f"/ui/groups/{gid}/members.csv").status_code == 403


def test_a_narrower_tenant_set_narrows_an_assigned_managers_permissions(app, rt, tenant, school):
    gid = school["theirs"].id
    group_managers.assign_manager(rt, tenant.id, gid, school["ria"].id, ["export", "message"], ACTOR)
    tenant_settings.update_settings(rt, tenant.id, {"manager_permissions": ["message"]}, ACTOR)
    ria = launch_as(app.test_client(), app, tenant.id, school["ria"].id, "learner")
    assert ria.get(f"/ui/groups/{gid}/members.csv").status_code == 403


def test_the_api_lists_assigns_and_removes_group_managers(client, rt, tenant, school):
    gid, ria = school["mine"].id, school["ria"].id
    listed = client.get(f"/api/v1/groups/{gid}/managers", headers=tenant.admin).get_json()
    assert [(m["name"], m["how"]) for m in listed["managers"]] == [("Tia Stone", "course")]
    put = client.put(f"/api/v1/groups/{gid}/managers/{ria}", json={"permissions": ["message"]}, headers=tenant.admin)
    assert put.status_code == 200 and put.get_json()["permissions"] == ["message"]
    assert put.get_json()["how"] == "assigned"
    bad = client.put(f"/api/v1/groups/{gid}/managers/{ria}", json={"permissions": ["fly"]}, headers=tenant.admin)
    assert bad.status_code in (400, 422)
    listed = client.get(f"/api/v1/groups/{gid}/managers", headers=tenant.admin).get_json()
    assert {m["name"] for m in listed["managers"]} == {"Tia Stone", "Ria Okafor"}
    assert client.delete(f"/api/v1/groups/{gid}/managers/{ria}", headers=tenant.admin).status_code == 204
    assert client.delete(f"/api/v1/groups/{gid}/managers/{ria}", headers=tenant.admin).status_code == 404
    assert client.get(f"/api/v1/groups/{2**40 + 999}/managers", headers=tenant.admin).status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/v1/groups/{group_id}/managers"])
    assert {"put", "delete"} <= set(paths["/api/v1/groups/{group_id}/managers/{user_id}"])


def test_another_tenants_person_cannot_be_made_a_manager(client, tenant, other_tenant, rt, school):
    stranger = users.create_user(rt, other_tenant.id, {"email": "x@other.edu"}, ACTOR)
    put = client.put(
        f"/api/v1/groups/{school['mine'].id}/managers/{stranger.id}", json={"permissions": []}, headers=tenant.admin
    )
    assert put.status_code == 404


def test_course_staff_also_assigned_are_listed_once_and_changes_are_in_the_activity_log(client, rt, tenant, school):
    gid, tia = school["mine"].id, school["teacher"].id
    group_managers.assign_manager(rt, tenant.id, gid, tia, ["export"], ACTOR)
    group_managers.assign_manager(rt, tenant.id, gid, tia, ["export", "message"], ACTOR)  # a change, not a second row
    (only,) = group_managers.managers_of_groups(rt, tenant.id, [gid])[gid]
    assert (only.name, only.how, only.permissions) == ("Tia Stone", "assigned", ("export", "message"))
    group_managers.remove_manager(rt, tenant.id, gid, tia, ACTOR)
    (again,) = group_managers.managers_of_groups(rt, tenant.id, [gid])[gid]
    assert again.how == "course"  # still staff of the linked course
    events = client.get("/api/v1/activity", query_string={"per_page": 50}, headers=tenant.admin).get_json()["items"]
    actions = [e["action"] for e in events if e.get("object_id") == str(gid)]
    assert {"group.manager_assigned", "group.manager_changed", "group.manager_removed"} <= set(actions)


def test_the_person_picker_finds_active_people_of_this_tenant_only(rt, tenant, other_tenant, school):
    users.create_user(rt, other_tenant.id, {"email": "ria@other.edu", "given_name": "Ria"}, ACTOR)
    gone = users.create_user(rt, tenant.id, {"email": "ria.gone@example.edu", "given_name": "Ria"}, ACTOR)
    users.update_user(rt, tenant.id, gone.id, {"status": "deactivated"}, ACTOR)
    found = group_managers.find_people(rt, tenant.id, "ria")
    assert [u.email for u in found] == ["ria@example.edu"]
    assert group_managers.find_people(rt, tenant.id, "  ") == []


def test_an_assigned_manager_who_teaches_no_course_cannot_create_groups(app, rt, tenant, school):
    tenant_settings.update_settings(rt, tenant.id, {"manager_permissions": ["export", "create_groups"]}, ACTOR)
    group_managers.assign_manager(rt, tenant.id, school["theirs"].id, school["ria"].id, ["create_groups"], ACTOR)
    ria = launch_as(app.test_client(), app, tenant.id, school["ria"].id, "learner", school["course"].id)
    assert ria.get("/ui/groups").status_code == 200
    assert ria.post("/ui/groups/new", {"name": "Ria's own", "kind": "manual"}).status_code == 403
