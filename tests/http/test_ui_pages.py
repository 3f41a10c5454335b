"""The embedded UI through the Flask test client: sign-in, pages, CSRF, CSP and permissions."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.lti import launch as lti_launch
from provisioning.lti import registrations as lti_registrations
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from server.cli import main as cli_main
from tests.support.signin import UiSession, launch_as, press_sign_in

ACTOR = Actor("test", "api")


@pytest.fixture
def school(rt, tenant):
    teacher = users.create_user(rt, tenant.id, {"email": "tia@example.edu", "given_name": "Tia"}, ACTOR)
    lee = users.create_user(rt, tenant.id, {"email": "lee@example.edu", "given_name": "Lee"}, ACTOR)
    max_ = users.create_user(rt, tenant.id, {"email": "max@example.edu", "given_name": "Max"}, ACTOR)
    with rt.db.transaction() as s:
        course = lti_launch.ensure_course(s, tenant.id, "c-1", "Course 1")
        other = lti_launch.ensure_course(s, tenant.id, "c-2", "Course 2")
        lti_launch.enroll(s, tenant.id, course.id, teacher.id, "Instructor")
        lti_launch.enroll(s, tenant.id, course.id, lee.id, "Learner")
    mine = groups.create_group(rt, tenant.id, {"name": "Team A"}, ACTOR)
    theirs = groups.create_group(rt, tenant.id, {"name": "Team B"}, ACTOR)
    empty = groups.create_group(rt, tenant.id, {"name": "Empty C"}, ACTOR)
    lti_launch.add_course_group(rt, tenant.id, course.id, mine.id)
    lti_launch.add_course_group(rt, tenant.id, other.id, theirs.id)
    memberships.add_members(rt, tenant.id, mine.id, user_ids=[lee.id], actor=ACTOR)
    memberships.add_members(rt, tenant.id, theirs.id, user_ids=[max_.id], actor=ACTOR)
    return dict(teacher=teacher, lee=lee, max=max_, mine=mine, theirs=theirs, empty=empty, course=course)


def test_a_signin_link_opens_the_groups_page_once_only(client, rt, tenant):
    link = issue_signin_link(rt, tenant.id).replace("http://localhost", "")
    first = press_sign_in(client, link)
    assert first.status_code == 302 and "/ui/groups" in first.headers["Location"]
    again = client.get(link)
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)


def test_opening_a_signin_link_does_not_use_it_up(client, rt, tenant):
    """Mail and link scanners pre-fetch links: a GET only shows the Sign in button."""
    link = issue_signin_link(rt, tenant.id).replace("http://localhost", "")
    for _ in range(3):
        page = client.get(link)
        assert page.status_code == 200 and 'id="signin"' in page.get_data(as_text=True)
        assert "lt=" not in page.headers.get("Location", "") and "lti_launch" not in page.headers.get("Set-Cookie", "")
    assert press_sign_in(client, link).status_code == 302


def test_pressing_sign_in_without_the_pages_token_or_cookie_is_refused(app, rt, tenant):
    link = issue_signin_link(rt, tenant.id)
    raw = parse_qs(urlsplit(link).query)["link"][0]
    stranger = app.test_client()  # a page of another site posting the link: no cookie, no token
    assert stranger.post("/ui/signin", data={"link": raw, "csrf": "0" * 64}).status_code == 403
    stranger.get(link.replace("http://localhost", ""))  # the cookie alone is not enough either
    assert stranger.post("/ui/signin", data={"link": raw}).status_code == 403
    assert press_sign_in(app.test_client(), link.replace("http://localhost", "")).status_code == 302


def test_a_forged_signin_link_is_refused(client):
    response = client.get("/ui/signin", query_string={"link": "not-a-link"})
    assert response.status_code == 403 and "not valid" in response.get_data(as_text=True)


def test_the_ui_link_command_prints_a_working_link(rt, app, tenant, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["ui-link", tenant.slug], runtime=rt)
    assert exit_.value.code == 0
    printed = capsys.readouterr()
    link = printed.out.strip()
    assert link.startswith("http://localhost/ui/signin?link=") and "press Sign in" in printed.err
    assert press_sign_in(app.test_client(), link.replace("http://localhost", "")).status_code == 302


def test_pages_without_a_launch_token_ask_to_sign_in(client):
    response = client.get("/ui/groups")
    assert response.status_code == 401 and "sign in" in response.get_data(as_text=True).lower()


def test_the_groups_page_searches_and_filters_and_shows_counts(owner, school):
    page = owner.get("/ui/groups").get_data(as_text=True)
    assert "Team A" in page and "Team B" in page and "Empty C" in page
    found = owner.get("/ui/groups", q="team").get_data(as_text=True)
    assert "Team A" in found and "Empty C" not in found
    empty = owner.get("/ui/groups", populated="no").get_data(as_text=True)
    assert "Empty C" in empty and "Team A" not in empty
    assert "Team A" not in owner.get("/ui/groups", kind="automatic").get_data(as_text=True)
    row = re.search(r"Team A</a>.*?>Manual</span></td>.*?<td class=\"num[^\"]*\">(\d+)</td>", page, re.S)
    assert row and row.group(1) == "1"


def test_creating_a_manual_group_leads_to_its_page(owner, rt, tenant):
    response = owner.post("/ui/groups/new", {"name": "Newcomers", "kind": "manual"})
    assert response.status_code == 302
    assert "Newcomers" in owner.client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_duplicate_group_name_is_shown_next_to_the_form(owner, school):
    response = owner.post("/ui/groups/new", {"name": "team a", "kind": "manual"})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_the_rule_preview_counts_matches_and_shows_the_error_position(owner, rt, tenant, school):
    ok = owner.get("/ui/rules/preview.json", rule='emails.value ew "@example.edu"')
    assert ok.status_code == 200 and ok.json["count"] == 3
    bad = owner.get("/ui/rules/preview.json", rule='department eq "Sales" andd')
    assert bad.status_code == 400 and bad.json["position"] is not None and "position" in bad.json["error"]


def test_creating_an_automatic_group_with_a_broken_rule_names_the_position(owner):
    response = owner.post("/ui/groups/new", {"name": "Sales", "kind": "automatic", "rule": "department eq"})
    assert response.status_code == 400 and "osition" in response.get_data(as_text=True)


def test_the_group_page_lists_members_and_adds_and_removes_them(owner, school):
    gid = school["mine"].id
    page = owner.get(f"/ui/groups/{gid}").get_data(as_text=True)
    assert "lee@example.edu" in page and "never" in page
    assert owner.post(f"/ui/groups/{gid}/members", {"email": "max@example.edu"}).status_code == 302
    assert "max@example.edu" in owner.get(f"/ui/groups/{gid}").get_data(as_text=True)
    assert owner.post(f"/ui/groups/{gid}/members/{school['max'].id}/remove").status_code == 302
    assert "max@example.edu" not in owner.get(f"/ui/groups/{gid}").get_data(as_text=True)


def test_a_batch_action_asks_for_confirmation_with_the_count_then_runs(owner, rt, school, run_jobs):
    gid = school["theirs"].id
    memberships.add_members(rt, school["theirs"].tenant_id, gid, user_ids=[school["lee"].id], actor=ACTOR)
    data = {
        "action": "deactivate",
        "user_ids": [str(school["lee"].id), str(school["max"].id), str(school["teacher"].id)],
    }  # Tia is not a member: ignored
    confirm = owner.post(f"/ui/groups/{gid}/batch", data)
    assert confirm.status_code == 200 and "touches <strong>2</strong> users" in confirm.get_data(as_text=True)
    assert users.get_user(rt, school["lee"].tenant_id, school["lee"].id).status == "active"
    started = owner.post(f"/ui/groups/{gid}/batch", {**data, "confirmed": "yes"})
    assert started.status_code == 302 and "/ui/operations/" in started.headers["Location"]
    run_jobs()
    assert users.get_user(rt, school["lee"].tenant_id, school["lee"].id).status != "active"
    assert users.get_user(rt, school["teacher"].tenant_id, school["teacher"].id).status == "active"
    op_id = int(re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1))
    state = owner.get(f"/ui/operations/{op_id}.json").json
    assert state["finished"] and state["status"] == "succeeded" and state["done"] == 2


def test_the_members_csv_downloads_the_members(owner, school):
    response = owner.get(f"/ui/groups/{school['mine'].id}/members.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["First name", "Last name", "Email"] and rows[1][2] == "lee@example.edu"


def test_sending_a_message_starts_an_operation(owner, school):
    response = owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Hello", "body": "Welcome"})
    assert response.status_code == 302 and "/ui/operations/" in response.headers["Location"]


def test_an_upload_previews_errors_drops_a_row_and_commits(owner, rt, school, run_jobs):
    content = b"email,Groupname\nmax@example.edu,Team A\nnot-an-email,Team A\nlee@example.edu,New Group\n"
    response = owner.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "members.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    preview = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "not-an-email" in preview and "New Group" in preview and "new group" in preview
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    bad_rows = re.findall(r'name="exclude_rows" value="(\d+)"', preview)
    assert bad_rows == ["3"]
    assert owner.post(f"/ui/imports/{import_id}/edit", {"exclude_rows": bad_rows}).status_code == 302
    after = owner.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    assert re.search(r'id="error-rows">0<', after)
    committed = owner.post(f"/ui/imports/{import_id}/commit")
    assert committed.status_code == 302
    run_jobs()
    found = groups.list_groups(rt, school["mine"].tenant_id, q="New Group").items
    assert len(found) == 1 and found[0].member_count == 1
    # After the run the page shows the run's figures, and the preview's forecast labelled as such.
    ran = owner.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    assert "Result of the run" in ran
    assert "Imported 3 rows: 2 added, 0 errors. Also: 1 person created, 1 group created, 1 left out by you." not in ran
    sentence = re.search(r'id="run-sentence">([^<]+)<', ran).group(1)
    assert sentence.startswith("Imported 3 rows: 2 added, 0 errors."), sentence
    assert "1 left out by you" in sentence and "1 group created" in sentence
    report = owner.get(f"/ui/imports/{import_id}/report.csv").get_data(as_text=True)
    assert "max@example.edu" in report


def test_an_unreadable_upload_says_why(owner):
    response = owner.post(
        "/ui/imports/new", {"file": (io.BytesIO(b"\x00\x01\x02"), "x.xlsx")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)


def test_the_logs_list_operations_and_activity_with_filters(owner, school):
    owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Hi", "body": "There"})
    ops = owner.get("/ui/logs", type="group_message").get_data(as_text=True)
    assert "Message to a group" in ops
    assert "group_message" not in owner.get("/ui/logs", type="import").get_data(as_text=True).split("<tbody>")[1]
    events = _body(owner.get("/ui/activity", channel="ui"))
    assert "Signed in with a sign-in link" in events and "ui.signin_link.used" not in events
    assert owner.get("/ui/logs", since="yesterday").status_code == 400


def test_a_post_without_the_csrf_token_is_refused(owner, school):
    response = owner.client.post(
        f"/ui/groups/{school['mine'].id}/members", data={"lt": owner.token, "email": "max@example.edu"}
    )
    assert response.status_code == 403
    response = owner.client.post(
        f"/ui/groups/{school['mine'].id}/members",
        data={"lt": owner.token, "csrf": "0" * 64, "email": "max@example.edu"},
    )
    assert response.status_code == 403
    assert "max@example.edu" not in owner.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)


def test_pages_allow_framing_only_by_registered_platforms(owner, rt, tenant):
    lti_registrations.register_platform(
        rt,
        tenant.id,
        issuer="https://canvas.instructure.com",
        client_id="1",
        auth_login_url="https://school.instructure.com/api/lti/authorize_redirect",
        auth_token_url="https://school.instructure.com/login/oauth2/token",
        key_set_url="https://school.instructure.com/api/lti/security/jwks",
        deployment_ids=["d"],
        actor=ACTOR,
    )
    csp = owner.get("/ui/groups").headers["Content-Security-Policy"]
    ancestors = csp.split("frame-ancestors")[1]
    assert "'self'" in ancestors and "https://canvas.instructure.com" in ancestors
    assert "https://school.instructure.com" in ancestors and "*" not in ancestors
    assert "script-src 'self'" in csp and "X-Frame-Options" not in owner.get("/ui/groups").headers


def test_an_instructor_sees_and_acts_only_on_their_course_groups(client, app, school, tenant):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    page = tia.get("/ui/groups").get_data(as_text=True)
    assert "Team A" in page and "Team B" not in page
    assert tia.get(f"/ui/groups/{school['theirs'].id}").status_code == 403
    assert tia.get(f"/ui/groups/{school['theirs'].id}/members.csv").status_code == 403
    refused = tia.post(
        f"/ui/groups/{school['theirs'].id}/batch",
        {"action": "deactivate", "user_ids": str(school["max"].id), "confirmed": "yes"},
    )
    assert refused.status_code == 403
    assert tia.post("/ui/groups/new", {"name": "Mine", "kind": "manual"}).status_code == 403  # no create_groups
    assert tia.get(f"/ui/groups/{school['mine'].id}").status_code == 200


def test_a_learner_sees_their_own_groups_only(client, app, school, tenant):
    lee = launch_as(app.test_client(), app, tenant.id, school["lee"].id, "learner")
    assert lee.get("/ui/groups").status_code == 403  # learners have their own page (/ui/me), not the list
    me = lee.get("/ui/me").get_data(as_text=True)
    assert "Team A" in me and "Team B" not in me
    assert lee.get(f"/ui/groups/{school['theirs'].id}").status_code == 403


def test_another_tenants_group_is_not_found(owner, rt, other_tenant):
    foreign = groups.create_group(rt, other_tenant.id, {"name": "Foreign"}, ACTOR)
    assert owner.get(f"/ui/groups/{foreign.id}").status_code == 404


def test_assets_are_served_by_us(client):
    assert client.get("/ui/static/ui.css").status_code == 200
    assert client.get("/ui/static/ui.js").status_code == 200


def test_an_expired_signin_link_is_refused(client, rt, tenant, monkeypatch):
    import provisioning.services.signin_links

    link = issue_signin_link(rt, tenant.id).replace("http://localhost", "")
    monkeypatch.setattr(provisioning.services.signin_links, "LINK_SECONDS", -1)
    expired = client.get(link)
    assert expired.status_code == 403 and "has expired" in expired.get_data(as_text=True)


def test_the_members_download_as_excel_reads_back(owner, school):
    from openpyxl import load_workbook

    response = owner.get(f"/ui/groups/{school['mine'].id}/members.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "Email" and rows[1][2] == "lee@example.edu"


def test_copying_members_from_another_group_runs_as_an_operation(owner, rt, school, run_jobs):
    response = owner.post(f"/ui/groups/{school['empty'].id}/copy", {"from_group_id": str(school["mine"].id)})
    assert response.status_code == 302
    run_jobs()
    assert "lee@example.edu" in owner.get(f"/ui/groups/{school['empty'].id}").get_data(as_text=True)


def test_stop_cancels_a_queued_operation(owner, school):
    started = owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Hi", "body": "There"})
    op_id = int(re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1))
    assert owner.post(f"/ui/operations/{op_id}/stop").status_code == 302
    state = owner.get(f"/ui/operations/{op_id}.json").json
    assert state["status"] == "cancelled" and state["finished"]


def test_an_instructor_cannot_see_an_operation_someone_else_started_on_another_group(
    owner, client, app, school, tenant
):
    started = owner.post(f"/ui/groups/{school['theirs'].id}/message", {"subject": "Hi", "body": "There"})
    op_id = int(re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1))
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    assert tia.get(f"/ui/operations/{op_id}.json").status_code == 404
    assert tia.post(f"/ui/operations/{op_id}/stop").status_code == 404


def test_an_instructor_may_not_copy_from_a_group_they_do_not_manage(client, app, school, tenant):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    response = tia.post(f"/ui/groups/{school['mine'].id}/copy", {"from_group_id": str(school["theirs"].id)})
    assert response.status_code == 403


def test_the_email_log_lists_a_groups_message(owner, school, run_jobs):
    owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Timetable", "body": "Room 4"})
    run_jobs()
    page = owner.get("/ui/emails").get_data(as_text=True)
    assert "lee@example.edu" in page and "Timetable" in page
    assert owner.get("/ui/emails", status="bogus").status_code == 400


def test_the_groups_list_names_the_managers_and_the_group_page_the_courses(owner, school):
    page = owner.get("/ui/groups").get_data(as_text=True)
    assert re.search(r"Team A</a>.*?<td>Course 1</td>.*?<td>Tia</td>", page, re.S)  # names, never "course 1"
    group_page = owner.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)
    assert re.search(r"<dt>Courses</dt><dd>Course 1</dd>", group_page)
    assert re.search(r"<dt>Managers</dt><dd id=\"manager-names\">Tia</dd>", group_page)
    assert re.search(r"lee@example\.edu</td>.*?<td>Course 1</td>", group_page, re.S)


def test_replacing_a_groups_members_from_a_file_removes_the_unlisted(owner, rt, school, run_jobs):
    gid = school["mine"].id
    form = owner.get("/ui/imports/new", group_id=gid).get_data(as_text=True)
    assert "into Team A" in form and re.search(r'name="mode" value="replace"[^>]* checked', form)
    response = owner.post(
        "/ui/imports/new",
        {"group_id": str(gid), "mode": "replace", "file": (io.BytesIO(b"email\nmax@example.edu\n"), "team.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    owner.post(f"/ui/imports/{import_id}/commit")
    run_jobs()
    members = owner.get(f"/ui/groups/{gid}").get_data(as_text=True)
    assert "max@example.edu" in members and "lee@example.edu" not in members


def test_a_person_can_be_left_out_of_an_upload_in_the_preview(owner, rt, school, run_jobs):
    content = b"email,Groupname\nmax@example.edu,Team A\nlee@example.edu,Staff Room\n"
    response = owner.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "m.csv")}, content_type="multipart/form-data"
    )
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    owner.post(f"/ui/imports/{import_id}/edit", {"exclude_emails": "max@example.edu"})
    assert re.search(r'id="excluded">1<', owner.get(f"/ui/imports/{import_id}").get_data(as_text=True))
    owner.post(f"/ui/imports/{import_id}/commit")
    run_jobs()
    assert "max@example.edu" not in owner.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)


def test_upload_templates_download(owner):
    response = owner.get("/ui/imports/templates/user-groups.csv")
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("email,")
    assert owner.get("/ui/imports/templates/nothing.csv").status_code == 404


def test_syncing_a_roster_of_a_course_never_launched_says_why(owner, school):
    response = owner.post(f"/ui/groups/{school['mine'].id}/sync")
    assert response.status_code == 404 and "Names and Role" in response.get_data(as_text=True)


def test_adding_an_unknown_email_invites_the_person(owner, rt, tenant, school):
    from provisioning.models import Tenant

    gid = school["mine"].id
    refused = owner.post(f"/ui/groups/{gid}/members", {"email": "newbie@example.edu"})
    assert refused.status_code == 400 and "join_url" in refused.get_data(as_text=True)
    with rt.db.transaction() as s:
        s.get(Tenant, tenant.id).settings = {"join_url": "https://learn.example.edu/join"}
    assert owner.post(f"/ui/groups/{gid}/members", {"email": "newbie@example.edu"}).status_code == 302
    page = owner.get(f"/ui/groups/{gid}").get_data(as_text=True)
    assert re.search(r"newbie@example\.edu</td><td class=\"status-invited\"><span[^>]*>invited<", page)


def test_an_empty_email_is_refused_with_the_field_named(owner, school):
    response = owner.post(f"/ui/groups/{school['mine'].id}/members", {"email": " "})
    assert response.status_code == 400 and "email" in response.get_data(as_text=True)


def test_bad_numbers_are_a_clear_400_or_404_never_a_500(owner, school):
    gid = school["mine"].id
    assert owner.get("/ui/groups/99999999999999999999").status_code == 404
    for value in ("abc", "99999999999999999999", "-1"):
        response = owner.post(f"/ui/groups/{gid}/batch", {"action": "deactivate", "user_ids": value})
        assert response.status_code == 400 and "user_ids" in response.get_data(as_text=True)
    assert owner.get("/ui/imports/new", group_id="x").status_code == 400
    assert owner.get("/ui/groups", page="x").status_code == 200


def test_a_new_group_can_be_renamed_in_the_preview(owner, rt, school, run_jobs):
    content = b"email,Groupname\nmax@example.edu,Nite Class\n"
    response = owner.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "m.csv")}, content_type="multipart/form-data"
    )
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    owner.post(f"/ui/imports/{import_id}/edit", {"group_names": "Nite Class", "rename-0": "Night Class"})
    assert "Night Class" in owner.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    owner.post(f"/ui/imports/{import_id}/commit")
    run_jobs()
    assert [g.name for g in groups.list_groups(rt, school["mine"].tenant_id, q="class").items] == ["Night Class"]


def test_a_batch_action_with_params_adds_the_selection_to_other_groups(owner, rt, school, run_jobs):
    data = {
        "action": "add_to_groups",
        "user_ids": str(school["lee"].id),
        "group_ids": str(school["empty"].id),
        "confirmed": "yes",
    }
    assert owner.post(f"/ui/groups/{school['mine'].id}/batch", data).status_code == 302
    run_jobs()
    assert "lee@example.edu" in owner.get(f"/ui/groups/{school['empty'].id}").get_data(as_text=True)


def test_an_instructor_may_not_delete_users_or_add_them_to_groups_they_do_not_manage(client, app, school, tenant):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    gid, lee = school["mine"].id, str(school["lee"].id)
    offered = re.findall(r'<option value="(\w+)">', tia.get(f"/ui/groups/{gid}").get_data(as_text=True))
    assert "deactivate" in offered and "delete" not in offered
    assert tia.post(f"/ui/groups/{gid}/batch", {"action": "delete", "user_ids": lee}).status_code == 403
    moved = tia.post(
        f"/ui/groups/{gid}/batch", {"action": "add_to_groups", "user_ids": lee, "group_ids": str(school["theirs"].id)}
    )
    assert moved.status_code == 403


def test_an_instructor_syncs_their_course_roster_from_the_group_page(rt, app, client, tenant, platform, run_jobs):
    from sqlalchemy import select

    from provisioning.models import LtiContext
    from tests.support.lti_platform import (
        INSTRUCTOR,
        LEARNER,
        launch,
        register_platform,
    )

    register_platform(rt, tenant.id, platform)
    platform.members = [{"user_id": "t-1", "status": "Active", "roles": [INSTRUCTOR], "email": "tia@example.edu"}]
    landing = launch(client, platform, sub="t-1", email="tia@example.edu", roles=[INSTRUCTOR])
    run_jobs()  # the launch's own sync
    token = re.search(r'name="launch-token" content="([^"]+)"', landing.get_data(as_text=True)).group(1)
    tia = UiSession(client, token)
    with rt.db.read() as s:
        roster_group = s.scalar(select(LtiContext.roster_group_id))
    page = tia.get(f"/ui/groups/{roster_group}").get_data(as_text=True)
    assert 'id="sync-roster"' in page and "Course One" in page
    platform.differences = [{"user_id": "l-1", "status": "Active", "roles": [LEARNER], "email": "lou@example.edu"}]
    started = tia.post(f"/ui/groups/{roster_group}/sync")
    assert started.status_code == 302 and "/ui/operations/" in started.headers["Location"]
    run_jobs()
    assert "lou@example.edu" in tia.get(f"/ui/groups/{roster_group}").get_data(as_text=True)


# --- shared users: a manager's reach beyond their own groups -----------------------------------


def _operation_id(response) -> int:
    return int(re.search(r"/ui/operations/(\d+)", response.headers["Location"]).group(1))


def test_an_admin_shares_a_user_with_a_manager_who_then_sees_and_acts_on_them(
    owner, client, app, rt, school, tenant, run_jobs
):
    zed = users.create_user(rt, tenant.id, {"email": "zed@example.edu", "given_name": "Zed"}, ACTOR)
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    max_id = school["max"].id
    # Before: Max (in a group Tia doesn't manage) is neither shown nor accepted.
    assert "max@example.edu" not in tia.get("/ui/people").get_data(as_text=True)
    assert tia.get(f"/ui/people/{max_id}").status_code == 403
    assert (
        tia.post(
            "/ui/people/batch", {"action": "add_task", "user_ids": str(max_id), "title": "Essay", "confirmed": "yes"}
        ).status_code
        == 403
    )
    # The admin shares Max with Tia from the people page (the share batch action).
    shared = owner.post(
        "/ui/people/batch",
        {"action": "share", "user_ids": str(max_id), "manager_id": str(school["teacher"].id), "confirmed": "yes"},
    )
    assert shared.status_code == 302
    run_jobs()
    mine = tia.get("/ui/people", shared="1").get_data(as_text=True)
    assert "max@example.edu" in mine and "lee@example.edu" not in mine and "zed@example.edu" not in mine
    everyone = tia.get("/ui/people").get_data(as_text=True)
    assert "max@example.edu" in everyone and "lee@example.edu" in everyone and "zed@example.edu" not in everyone
    detail = tia.get(f"/ui/people/{max_id}").get_data(as_text=True)
    assert "Shared with you" in detail and "Team B" not in detail  # sharing a user does not share their groups
    confirm = tia.post("/ui/people/batch", {"action": "add_task", "user_ids": str(max_id), "title": "Essay"})
    assert confirm.status_code == 200 and "touches <strong>1</strong> user" in confirm.get_data(as_text=True)
    started = tia.post(
        "/ui/people/batch", {"action": "add_task", "user_ids": str(max_id), "title": "Essay", "confirmed": "yes"}
    )
    assert started.status_code == 302
    run_jobs()
    assert "Essay" in tia.get(f"/ui/people/{max_id}").get_data(as_text=True)
    assert tia.get(f"/ui/operations/{_operation_id(started)}.json").json["status"] == "succeeded"
    # Still never: a user neither in Tia's groups nor shared with her, alone or mixed into a selection.
    assert tia.get(f"/ui/people/{zed.id}").status_code == 403
    mixed = tia.post(
        "/ui/people/batch", {"action": "deactivate", "user_ids": [str(max_id), str(zed.id)], "confirmed": "yes"}
    )
    assert mixed.status_code == 403
    assert users.get_user(rt, tenant.id, zed.id).status == "active"
    assert users.get_user(rt, tenant.id, max_id).status == "active"
    # The admin-only actions stay admin-only on shared users too.
    assert tia.post("/ui/people/batch", {"action": "delete", "user_ids": str(max_id)}).status_code == 403


def test_a_shared_user_in_a_selection_does_not_open_their_groups(owner, client, app, rt, school, tenant, run_jobs):
    owner.post(
        "/ui/people/batch",
        {
            "action": "share",
            "user_ids": str(school["max"].id),
            "manager_id": str(school["teacher"].id),
            "confirmed": "yes",
        },
    )
    run_jobs()
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    assert tia.get(f"/ui/groups/{school['theirs'].id}").status_code == 403
    moved = tia.post(
        "/ui/people/batch",
        {
            "action": "remove_from_group",
            "user_ids": str(school["max"].id),
            "group_id": str(school["theirs"].id),
            "confirmed": "yes",
        },
    )
    assert moved.status_code == 403


def test_a_learner_cannot_open_the_people_pages(client, app, school, tenant):
    lee = launch_as(app.test_client(), app, tenant.id, school["lee"].id, "learner")
    assert lee.get("/ui/people").status_code == 403
    assert lee.get(f"/ui/people/{school['max'].id}").status_code == 403
    assert lee.get(f"/ui/people/{school['lee'].id}").status_code == 200  # their own record


def test_another_tenants_user_is_not_found_on_the_people_pages(owner, rt, other_tenant):
    foreign = users.create_user(rt, other_tenant.id, {"email": "far@example.edu"}, ACTOR)
    assert owner.get(f"/ui/people/{foreign.id}").status_code == 404
    assert owner.post("/ui/people/batch", {"action": "deactivate", "user_ids": str(foreign.id)}).status_code == 403


# --- a manager's uploads and logs ----------------------------------------------------------------


def _upload(session, content: bytes, name: str = "m.csv", **fields):
    return session.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), name), **fields}, content_type="multipart/form-data"
    )


def test_a_manager_uploads_for_their_groups_only_and_fixes_the_refusals_in_the_preview(
    client, app, rt, school, tenant, run_jobs
):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    assert 'id="upload-scope"' in tia.get("/ui/imports/new").get_data(as_text=True)
    response = _upload(
        tia,
        b"email,Groupname\nlee@example.edu,Team B\ntia@example.edu,Brand New\nmax@example.edu,Team A\n",
    )
    assert response.status_code == 302
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    preview = tia.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    refusals = re.search(r'id="import-refusals">(.*?)</div>', preview, re.S).group(1)
    # Another course's group and a name nobody uses read alike (the preview doesn't tell which names exist).
    assert "Row 2: group &#39;Team B&#39; is not one of your groups, and your permission set" in refusals
    assert "Row 3: group &#39;Brand New&#39; is not one of your groups, and your permission set" in refusals
    assert "Team A" not in refusals
    assert re.search(r'id="commit" class="[^"]*" disabled', preview)
    refused = tia.post(f"/ui/imports/{import_id}/commit")
    assert refused.status_code == 403 and "Team B" in refused.get_data(as_text=True)
    # Fix it in the preview: both groups renamed to Tia's own group.
    tia.post(
        f"/ui/imports/{import_id}/edit",
        {"group_names": ["Team B", "Brand New"], "rename-0": "Team A", "rename-1": "Team A"},
    )
    assert 'id="import-refusals"' not in tia.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    assert tia.post(f"/ui/imports/{import_id}/commit").status_code == 302
    run_jobs()
    team_a = tia.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)
    # Max is in a group Tia doesn't manage: his row is refused like an unknown email, never added.
    assert "max@example.edu" not in team_a and "tia@example.edu" in team_a
    report = tia.get(f"/ui/imports/{import_id}/report.csv").get_data(as_text=True)
    assert "max@example.edu" in report and "No one you manage has this email" in report
    assert groups.list_groups(rt, tenant.id, q="Brand New").total == 0
    assert [u.email for u, _ in memberships.list_members(rt, tenant.id, school["theirs"].id).items] == [
        "max@example.edu"
    ]


def test_a_manager_may_not_upload_a_file_of_users_or_into_a_group_they_do_not_manage(client, app, school, tenant):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    assert tia.get("/ui/imports/new", group_id=str(school["theirs"].id)).status_code == 403
    # A file of users is refused at the upload, before a preview could tell which emails exist.
    response = _upload(tia, b"email,username,first_name,last_name\nnew@example.edu,new,New,Person\n")
    assert response.status_code == 403 and "only administrators may upload it" in response.get_data(as_text=True)


def test_a_manager_allowed_to_create_groups_gets_the_new_group_in_their_course(
    client, app, rt, school, tenant, run_jobs
):
    from provisioning.models import Tenant

    with rt.db.transaction() as s:
        s.get(Tenant, tenant.id).settings = {
            "lti": {"manager_permissions": ["view_users", "manage_users", "upload", "create_groups"]}
        }
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    response = _upload(tia, b"email,Groupname\nlee@example.edu,Study Circle\n")
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    assert 'id="import-refusals"' not in tia.get(f"/ui/imports/{import_id}").get_data(as_text=True)
    assert tia.post(f"/ui/imports/{import_id}/commit").status_code == 302
    run_jobs()
    listed = tia.get("/ui/groups").get_data(as_text=True)
    assert "Study Circle" in listed
    created = tia.post("/ui/groups/new", {"name": "Reading Club", "kind": "manual"})
    assert created.status_code == 302
    assert "Reading Club" in tia.get("/ui/groups").get_data(as_text=True)


def test_a_managers_imports_are_their_own(owner, client, app, school, tenant):
    response = _upload(owner, b"email,Groupname\nmax@example.edu,Team A\n")
    import_id = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    assert tia.get(f"/ui/imports/{import_id}").status_code == 404
    assert tia.post(f"/ui/imports/{import_id}/commit").status_code == 404
    assert tia.get(f"/ui/imports/{import_id}/report.csv").status_code == 404


def test_a_manager_sees_the_logs_of_their_groups_users_and_operations_only(
    owner, client, app, rt, school, tenant, run_jobs
):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    tia.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "For Team A", "body": "Hi"})
    owner.post(f"/ui/groups/{school['theirs'].id}/message", {"subject": "For Team B", "body": "Hi"})
    owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Admin to A", "body": "Hi"})
    run_jobs()
    ops = tia.get("/ui/logs").get_data(as_text=True).split("<tbody>")[1]
    # hers, and the admin's to her group (the owner named in words)
    assert ops.count("group_message") == 2 and "ui:owner" not in ops and "organisation" in ops
    everything = owner.get("/ui/logs").get_data(as_text=True).split("<tbody>")[1]
    assert everything.count("group_message") == 3
    emails = tia.get("/ui/emails").get_data(as_text=True)
    assert "For Team A" in emails and "Admin to A" in emails and "For Team B" not in emails
    assert "max@example.edu" not in emails
    assert "For Team B" in owner.get("/ui/emails").get_data(as_text=True)
    activity = tia.get("/ui/activity").get_data(as_text=True)
    assert "Signed in with a sign-in link" not in activity.split("<tbody>")[1]  # the owner's sign-in isn't hers
    objects = set(re.findall(r'data-object="(\w+) (\d+)"', activity))
    assert ("group", str(school["mine"].id)) in objects and ("user", str(school["lee"].id)) in objects
    assert ("group", str(school["theirs"].id)) not in objects and ("user", str(school["max"].id)) not in objects
    assert ("group", str(school["theirs"].id)) in set(
        re.findall(r'data-object="(\w+) (\d+)"', owner.get("/ui/activity").get_data(as_text=True))
    )
    op_ids = [int(i) for i in re.findall(r"/ui/operations/(\d+)", owner.get("/ui/logs").get_data(as_text=True))]
    visible = {i for i in op_ids if tia.get(f"/ui/operations/{i}.json").status_code == 200}
    assert len(op_ids) == 3 and len(visible) == 2


def _body(page) -> str:
    return page.get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]


def test_the_action_log_filters_by_bulk_action_and_date_in_words(owner, rt, tenant, school):
    for action in ("deactivate", "reactivate"):
        batch_actions.request_batch_action(rt, tenant.id, action, {}, ACTOR, user_ids=[school["max"].id])
    reactivations = _body(owner.get("/ui/logs", action="reactivate"))
    assert reactivations.count("<tr") == 1 and "Reactivate users" in reactivations
    assert "Deactivate users" in _body(owner.get("/ui/logs", action="deactivate", type="batch_action"))
    assert "Nothing in the log matches" in _body(owner.get("/ui/logs", action="reactivate", since="2999-01-01"))
    today = datetime.now(UTC).date().isoformat()
    assert _body(owner.get("/ui/logs", action="deactivate", since=today, until=today)).count("<tr") == 1
    refused = owner.get("/ui/logs", action="explode")
    assert refused.status_code == 400 and "reactivate" in refused.get_data(as_text=True)
    assert owner.get("/ui/logs", type="deactivate").status_code == 400


def test_the_logs_show_names_linked_in_scope_not_ids(owner, app, rt, tenant, school, run_jobs):
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    tia.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "For Team A", "body": "Hi"})
    memberships.add_members(rt, tenant.id, school["theirs"].id, user_ids=[school["lee"].id], actor=ACTOR)
    run_jobs()
    ops = _body(owner.get("/ui/logs"))
    assert "ui:user-" not in ops and f'href="/ui/people/{school["teacher"].id}">Tia</a>' in ops
    events = _body(owner.get("/ui/activity"))
    assert f'href="/ui/groups/{school["theirs"].id}">Team B</a>' in events
    assert f'href="/ui/people/{school["max"].id}">Max</a>' in events
    assert "ui:user-" not in events and not re.search(r">\s*(user|group) \d+\s*<", events)
    mine = _body(tia.get("/ui/activity"))
    assert ">Team A</a>" in mine and "Lee</a>" in mine and "Tia</a>" in mine
    assert "Team B" not in mine and "Max" not in mine


def test_an_operation_shows_no_job_bookkeeping(owner, rt, tenant, school, run_jobs):
    op = batch_actions.request_batch_action(rt, tenant.id, "reactivate", {}, ACTOR, user_ids=[school["max"].id])
    run_jobs()
    page = owner.get(f"/ui/operations/{op.id}").get_data(as_text=True)
    assert "<h1>Reactivate users</h1>" in page
    assert "done ranges" not in page and "done through" not in page


def test_a_manager_without_the_permissions_sees_no_logs_and_cannot_upload(client, app, rt, school, tenant):
    from provisioning.models import Tenant

    with rt.db.transaction() as s:
        s.get(Tenant, tenant.id).settings = {"lti": {"manager_permissions": ["view_users", "manage_users"]}}
    tia = launch_as(app.test_client(), app, tenant.id, school["teacher"].id, "manager", school["course"].id)
    for path in ("/ui/logs", "/ui/activity", "/ui/emails", "/ui/imports/new"):
        assert tia.get(path).status_code == 403, path
    nav = tia.get("/ui/groups").get_data(as_text=True)
    assert ">Upload<" not in nav and ">Action log<" not in nav


# --- the issue's page bullets, one by one ---------------------------------------------------------


def test_the_groups_list_shows_when_each_group_was_created_and_updated(owner, rt, school):
    from datetime import datetime

    from sqlalchemy import update

    from provisioning.models import Group

    with rt.db.transaction() as s:
        s.execute(
            update(Group)
            .where(Group.id == school["mine"].id)
            .values(
                created_at=datetime(2024, 1, 2, 3, 4, tzinfo=UTC), updated_at=datetime(2025, 6, 7, 8, 9, tzinfo=UTC)
            )
        )
    page = owner.get("/ui/groups").get_data(as_text=True)
    assert '<th scope="col">Created</th><th scope="col">Updated</th>' in page
    # In the page's language and its order (English here), never an ISO timestamp.
    assert re.search(r"Team A</a>.*?<td>Jan 2, 2024, 3:04\sAM</td>\s*<td>Jun 7, 2025, 8:09\sAM</td>", page, re.S)


def test_the_group_page_shows_each_members_last_login(owner, rt, school):
    from datetime import datetime

    from sqlalchemy import update

    from provisioning.models import User

    with rt.db.transaction() as s:
        s.execute(
            update(User).where(User.id == school["lee"].id).values(last_login_at=datetime(2025, 3, 4, 5, 6, tzinfo=UTC))
        )
    page = owner.get(f"/ui/groups/{school['mine'].id}").get_data(as_text=True)
    assert re.search(r"lee@example\.edu</td>.*?<td>Mar 4, 2025, 5:06\sAM</td>", page, re.S)


def test_the_learner_page_shows_their_tasks_certificates_and_notifications(
    owner, client, app, school, tenant, run_jobs
):
    gid, lee = school["mine"].id, str(school["lee"].id)
    for data in (
        {"action": "notify", "subject": "Exam moved", "body": "To Friday"},
        {"action": "add_task", "title": "Hand in essay", "due_date": "2031-05-01"},
        {"action": "assign_certificate", "name": "First aid", "issued_on": "2030-01-15"},
    ):
        assert owner.post(f"/ui/groups/{gid}/batch", {**data, "user_ids": lee, "confirmed": "yes"}).status_code == 302
    run_jobs()
    me = launch_as(app.test_client(), app, tenant.id, school["lee"].id, "learner").get("/ui/me").get_data(as_text=True)
    assert re.search(r'id="my-notifications"><li><strong>Exam moved</strong> To Friday', me)
    assert "Hand in essay · due May 1, 2031 · open" in me and "First aid · Jan 15, 2030" in me
    assert re.search(r'id="my-groups"><li>Team A</li></ul>', me)


def test_the_action_log_filters_by_type_and_date(owner, rt, school):
    from datetime import datetime

    from sqlalchemy import update

    from provisioning.models import Operation

    owner.post(f"/ui/groups/{school['mine'].id}/message", {"subject": "Old", "body": "x"})
    owner.post(f"/ui/groups/{school['empty'].id}/copy", {"from_group_id": str(school["mine"].id)})
    with rt.db.transaction() as s:
        s.execute(
            update(Operation)
            .where(Operation.type == "group_message")
            .values(created_at=datetime(2024, 5, 10, 12, tzinfo=UTC))
        )

    def rows(**args):
        return owner.get("/ui/logs", **args).get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]

    assert "group_message" in rows(since="2024-05-10", until="2024-05-10") and "members_copy" not in rows(
        since="2024-05-10", until="2024-05-10"
    )
    assert "group_message" not in rows(since="2024-05-11") and "members_copy" in rows(since="2024-05-11")
    assert "group_message" not in rows(until="2024-05-09")
    assert "members_copy" in rows(type="members_copy") and "group_message" not in rows(type="members_copy")
