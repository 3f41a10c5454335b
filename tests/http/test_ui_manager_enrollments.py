"""Issue 19, the group-managers article: "If you want users to be enrolled automatically in the included
course, the respective setting must have been enabled by the admin."  The tenant setting
``enroll_added_members`` (off by default) enrolls the people added to a group from its page (one by one,
by an accepted invitation, by bulk add) in the group's courses as learners
(provisioning/services/group_enrollments.py); shown and changed on /ui/settings, /api/v1/settings and the CLI.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from provisioning.lti import launch as lti_launch
from provisioning.models import ActivityEvent, Course, EmailMessage, Enrollment, User
from provisioning.services import groups
from server.cli import CliState, cli
from tests.support.api import commit_and_run, preview
from tests.support.personas import SETUP, is_member, school

LINK = re.compile(r"http://localhost/join/[A-Za-z0-9_.\-]+")


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    return school(rt, app, client, tenant, platform)


@pytest.fixture
def lab(rt, sch):
    """A second hand-edited group of course A, which Tia (course A's instructor) manages."""
    lab = groups.create_group(rt, sch.group.tenant_id, {"name": "Course A lab"}, SETUP)
    lti_launch.add_course_group(rt, sch.group.tenant_id, sch.course.id, lab.id)
    return lab


def _switch(client, tenant, on: bool) -> None:
    r = client.patch("/api/v1/settings", json={"enroll_added_members": on}, headers=tenant.admin)
    assert r.status_code == 200 and r.json["enroll_added_members"] is on, r.json
    trigger = client.patch("/api/v1/notification-triggers/enrolled", json={"enabled": True}, headers=tenant.admin)
    assert trigger.status_code == 200, trigger.json


def _courses_of(rt, user_id: int) -> list[tuple[str, str | None, str]]:
    """The person's enrollments: (course external id, role, status)."""
    with rt.db.read() as s:
        return sorted(
            s.execute(
                select(Course.external_id, Enrollment.role, Enrollment.status)
                .join(Course, Course.id == Enrollment.course_id)
                .where(Enrollment.user_id == user_id)
            ).all()
        )


def _enrolled_emails(rt, address: str) -> int:
    with rt.db.read() as s:
        return len(
            s.scalars(
                select(EmailMessage.id).where(EmailMessage.to_address == address, EmailMessage.trigger == "enrolled")
            ).all()
        )


def _enrollment_events(rt, user_id: int) -> list[dict]:
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(ActivityEvent.details).where(
                    ActivityEvent.action == "enrollment.saved", ActivityEvent.object_id == str(user_id)
                )
            )
        )


def _user_id(rt, tenant_id: int, email: str) -> int | None:
    with rt.db.read() as s:
        return s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.email == email))


def _link(rt, address: str) -> str:
    with rt.db.read() as s:
        body = s.scalars(
            select(EmailMessage.text_body)
            .where(EmailMessage.to_address == address, EmailMessage.kind == "invitation")
            .order_by(EmailMessage.id.desc())
        ).first()
    [link] = LINK.findall(body or "")
    return link.removeprefix("http://localhost")


def _template(session, rows: list[str]) -> bytes:
    """The members template as downloaded from the upload page, filled in with ``rows`` (emails)."""
    book = openpyxl.load_workbook(io.BytesIO(session.get("/ui/imports/templates/members.xlsx").data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for email in rows:
        sheet.append([email if h == "email_address" else "" for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bulk(session, group_id: int, content: bytes):
    return session.post(
        f"/ui/groups/{group_id}/members/bulk",
        {"file": (io.BytesIO(content), "members.xlsx")},
        content_type="multipart/form-data",
    )


# --- the setting -------------------------------------------------------------------------------------


def test_the_setting_is_off_by_default_and_set_from_the_api_the_cli_and_the_settings_page(rt, client, tenant, sch):
    assert client.get("/api/v1/settings", headers=tenant.admin).json["enroll_added_members"] is False
    bad = client.patch("/api/v1/settings", json={"enroll_added_members": "sometimes"}, headers=tenant.admin)
    assert bad.status_code == 400 and "enroll_added_members" in bad.get_data(as_text=True)
    shown = CliRunner().invoke(
        cli, ["tenants", "settings", str(tenant.id), "--set", "enroll_added_members=on"], obj=CliState(runtime=rt)
    )
    assert shown.exit_code == 0 and re.search(r"enroll_added_members\s+on", shown.output), shown.output
    assert client.get("/api/v1/settings", headers=tenant.admin).json["enroll_added_members"] is True
    refused = CliRunner().invoke(
        cli, ["tenants", "settings", str(tenant.id), "--set", "enroll_added_members=maybe"], obj=CliState(runtime=rt)
    )
    assert refused.exit_code != 0 and "enroll_added_members: Must be true or false." in refused.output
    ada = sch.admin.session
    page = ada.get("/ui/settings").get_data(as_text=True)
    assert "Enrol people a manager adds in the group’s courses" in page
    assert re.search(r'id="enroll_added_members"[^>]*checked', page)
    # The form sends the box only when ticked: unticked (with the form's marker) turns it off.
    assert ada.post("/ui/settings", {"enroll_added_members_sent": "1"}).status_code == 302
    assert client.get("/api/v1/settings", headers=tenant.admin).json["enroll_added_members"] is False
    ada.post("/ui/settings", {"enroll_added_members_sent": "1", "enroll_added_members": "on"})
    assert client.get("/api/v1/settings", headers=tenant.admin).json["enroll_added_members"] is True
    # A page that saves other settings without the marker leaves it alone.
    ada.post("/ui/settings", {"sender_name": "Acme"})
    assert client.get("/api/v1/settings", headers=tenant.admin).json["enroll_added_members"] is True


# --- one by one ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False])
def test_a_person_a_manager_adds_is_enrolled_in_the_groups_course_only_when_the_admin_enabled_it(
    rt, client, tenant, sch, lab, on
):
    _switch(client, tenant, on)
    kim = sch.kim  # a member of Tia's seminar: hers, so added at once
    assert sch.manager_own.session.post(f"/ui/groups/{lab.id}/members", {"email": kim.email}).status_code == 302
    assert is_member(rt, lab.id, kim.id)
    if on:
        assert _courses_of(rt, kim.id) == [("course-a", "Learner", "enrolled")]
        [event] = _enrollment_events(rt, kim.id)
        assert event == {"course": "course-a", "status": "enrolled", "group_id": lab.id}
        assert _enrolled_emails(rt, kim.email) == 1  # the enrolled trigger, as for any enrollment
    else:
        assert _courses_of(rt, kim.id) == [] and _enrollment_events(rt, kim.id) == []
        assert _enrolled_emails(rt, kim.email) == 0


def test_an_existing_enrollment_is_left_as_it_is_and_an_admins_add_counts_too(rt, client, tenant, sch, lab):
    _switch(client, tenant, True)
    lou = sch.learner  # launched into course A as a learner: enrolled there already
    done = client.post(
        "/api/v1/enrollments",
        json=[{"user_id": lou.user_id, "course_id": "course-a", "status": "completed"}],
        headers=tenant.admin,
    )
    assert done.status_code in (200, 201), done.json
    before = _courses_of(rt, lou.user_id)
    sent_before = _enrolled_emails(rt, lou.email)
    assert sch.admin.session.post(f"/ui/groups/{lab.id}/members", {"email": lou.email}).status_code == 302
    assert is_member(rt, lab.id, lou.user_id)
    assert _courses_of(rt, lou.user_id) == before  # still completed, no second enrollment
    assert _enrolled_emails(rt, lou.email) == sent_before
    # An admin's add of someone new to the course: enrolled like a manager's.
    nell = client.post(
        "/api/v1/users",
        json={"email": "nell@example.edu", "username": "nell", "first_name": "Nell", "last_name": "Ng"},
        headers=tenant.admin,
    )
    assert nell.status_code == 201, nell.json
    added = client.post(f"/api/v1/groups/{lab.id}/members", json={"user_ids": [nell.json["id"]]}, headers=tenant.admin)
    assert added.status_code in (200, 201), added.json
    assert _courses_of(rt, nell.json["id"]) == [("course-a", "Learner", "enrolled")]


def test_a_group_without_courses_enrolls_nobody(rt, client, tenant, sch):
    _switch(client, tenant, True)
    loose = groups.create_group(rt, sch.group.tenant_id, {"name": "No course"}, SETUP)
    sch.admin.session.post(f"/ui/groups/{loose.id}/members", {"email": sch.kim.email})
    assert is_member(rt, loose.id, sch.kim.id) and _courses_of(rt, sch.kim.id) == []


# --- by invitation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False])
def test_a_person_who_accepts_a_managers_invitation_is_enrolled_when_they_join_only_when_enabled(
    rt, client, tenant, sch, lab, on
):
    _switch(client, tenant, on)
    tom = sch.manager_other  # another course's instructor: invited, not added
    sch.manager_own.session.post(f"/ui/groups/{lab.id}/members", {"email": tom.email})
    assert not is_member(rt, lab.id, tom.user_id) and ("course-a", "Learner", "enrolled") not in _courses_of(
        rt, tom.user_id
    )
    assert client.post(_link(rt, tom.email)).status_code == 200
    assert is_member(rt, lab.id, tom.user_id)
    assert (("course-a", "Learner", "enrolled") in _courses_of(rt, tom.user_id)) is on
    assert _enrolled_emails(rt, tom.email) == (1 if on else 0)


# --- bulk add ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False])
def test_bulk_add_enrolls_the_new_members_in_one_go_only_when_enabled_and_a_second_run_adds_nothing(
    rt, client, tenant, sch, lab, run_jobs, on
):
    run_jobs()  # the launches' roster syncs, done before
    _switch(client, tenant, on)
    tia = sch.manager_own.session
    lou = sch.learner  # enrolled in course A from her launch (the roster sync may have dropped her since)
    lou_before = _courses_of(rt, lou.user_id)
    assert [c for c, _, _ in lou_before] == ["course-a"]
    content = _template(tia, [sch.kim.email, lou.email, "nia@example.edu"])
    assert _bulk(tia, lab.id, content).status_code == 302
    run_jobs()
    assert is_member(rt, lab.id, sch.kim.id) and is_member(rt, lab.id, lou.user_id)
    nia = _user_id(rt, tenant.id, "nia@example.edu")
    assert nia is not None and not is_member(rt, lab.id, nia)  # invited: joins on accepting
    expected = [("course-a", "Learner", "enrolled")] if on else []
    assert _courses_of(rt, sch.kim.id) == expected
    assert _courses_of(rt, lou.user_id) == lou_before  # an existing enrollment is left as it is
    assert len(_enrollment_events(rt, lou.user_id)) == 0
    assert client.post(_link(rt, "nia@example.edu")).status_code == 200
    assert _courses_of(rt, nia) == expected
    # The same file again: nobody is added, nothing is enrolled twice.
    assert _bulk(tia, lab.id, content).status_code == 302
    run_jobs()
    assert _courses_of(rt, sch.kim.id) == expected
    assert len(_enrollment_events(rt, sch.kim.id)) == (1 if on else 0)
    assert _enrolled_emails(rt, sch.kim.email) == (1 if on else 0)


def test_an_admins_bulk_add_enrolls_new_people_it_creates(rt, client, tenant, sch, lab, run_jobs):
    _switch(client, tenant, True)
    ada = sch.admin.session
    assert _bulk(ada, lab.id, _template(ada, ["omar@example.edu", "pia@example.edu"])).status_code == 302
    run_jobs()
    for address in ("omar@example.edu", "pia@example.edu"):
        person = _user_id(rt, tenant.id, address)
        assert is_member(rt, lab.id, person)
        assert _courses_of(rt, person) == [("course-a", "Learner", "enrolled")]


def test_the_apis_bulk_add_into_a_group_enrolls_the_people_it_adds(rt, client, tenant, sch, lab, run_jobs):
    """``POST /api/v1/imports`` with ``group_id`` and a users file (the bulk-add-members template)."""
    _switch(client, tenant, True)
    client.patch("/api/v1/settings", json={"join_url": "https://lms.example.edu/login"}, headers=tenant.admin)
    body = preview(client, tenant, f"username,email\nzoe,zoe@example.com\nkim,{sch.kim.email}\n", group_id=lab.id)
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["members_added"] == 2
    for address in ("zoe@example.com", sch.kim.email):
        assert _courses_of(rt, _user_id(rt, tenant.id, address)) == [("course-a", "Learner", "enrolled")]
