"""Issue 17 from the UI: a person's progress in a course, changed on their page (the group-managers article:
a group manager may "Manage users: … update user progress").

An admin, or a manager for the people of their groups in their groups' courses, enrols a person, marks a
course completed on a date or back to in progress (``POST /ui/people/{id}/courses``).  Every change is saved
by the admin API's enrollment service, so the ``completed`` and ``enrolled`` notifications go out exactly
once per event (a real in-process SMTP server receives them), and the admin API reads the result back
(``GET /api/v1/users/{id}/enrollments``).  A manager's scope is enforced on the request: a person or course
outside their groups is refused and nothing changes.  Bad values are a 400 naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from provisioning.lti import launch as lti_launch
from tests.support.personas import school


@pytest.fixture
def sch(rt, app, client, tenant, platform, run_jobs):
    found = school(rt, app, client, tenant, platform)
    run_jobs()  # the launches' roster syncs, done before anything here
    return found


@pytest.fixture
def safety(rt, client, tenant, sch) -> dict[str, int]:
    """Two courses made with the admin API: Driver safety belongs to the seminar Tia manages, Fire safety to none."""
    ids = {}
    for external_id, title in (("driver-safety", "Driver safety"), ("fire-safety", "Fire safety")):
        r = client.post("/api/v1/courses", json={"external_id": external_id, "title": title}, headers=tenant.admin)
        assert r.status_code == 201, r.json
        ids[external_id] = r.json["id"]
    lti_launch.add_course_group(rt, tenant.id, ids["driver-safety"], sch.group.id)
    return ids


def _switch(client, tenant, *triggers: str) -> None:
    for trigger in triggers:
        r = client.patch(f"/api/v1/notification-triggers/{trigger}", json={"enabled": True}, headers=tenant.admin)
        assert r.status_code == 200, r.json


def _enrollments(client, tenant, user_id: int) -> dict[str, dict]:
    r = client.get(f"/api/v1/users/{user_id}/enrollments", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {e["course_id"]: e for e in r.json["items"]}


def _post(session, user_id: int, **form):
    return session.post(f"/ui/people/{user_id}/courses", form)


def _shown(session, response) -> str:
    """The page a redirect leads to, as the browser opens it (the launch token in the header)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    url = urlsplit(response.headers["Location"])
    query = {k: v for k, v in parse_qsl(url.query) if k not in ("lt", "nc")}
    return session.get(url.path, **query).get_data(as_text=True)


def _subjects(mail, address: str) -> list[str]:
    return sorted(m["Subject"] for m in mail.to(address))


def test_an_admin_enrols_a_person_and_marks_the_course_completed_and_each_email_goes_once(
    rt, client, tenant, sch, safety, run_jobs, mail
):
    _switch(client, tenant, "enrolled", "completed")
    ada, kim = sch.admin.session, sch.kim
    page = ada.get(f"/ui/people/{kim.id}").get_data(as_text=True)
    assert 'id="enrol-form"' in page and "Driver safety" in page and "Fire safety" in page

    enrolled = _post(ada, kim.id, course=str(safety["driver-safety"]), status="enrolled")
    assert enrolled.status_code == 302, enrolled.get_data(as_text=True)
    shown = _shown(ada, enrolled)
    assert "Enrolled Kim in Driver safety." in shown
    assert _enrollments(client, tenant, kim.id)["driver-safety"]["status"] == "enrolled"

    day = (datetime.now(UTC) - timedelta(days=3)).date()
    done = _post(ada, kim.id, course=str(safety["driver-safety"]), status="completed", completed_on=day.isoformat())
    assert done.status_code == 302, done.get_data(as_text=True)
    words = day.strftime("%b ") + str(day.day) + day.strftime(", %Y")  # "Dec 1, 2026"
    shown = _shown(ada, done)
    assert f"Kim completed Driver safety on {words}." in shown and f"Completed on {words}" in shown
    saved = _enrollments(client, tenant, kim.id)["driver-safety"]
    assert saved["status"] == "completed" and saved["completed_at"].startswith(day.isoformat())
    assert saved["role"] == "Learner"
    run_jobs()
    assert _subjects(mail, kim.email) == ["You are enrolled in Driver safety", "You completed Driver safety"]

    # The same post again (a double click, a refresh): saved as it is, nothing more is sent.
    assert _post(ada, kim.id, course=str(safety["driver-safety"]), status="completed", completed_on=day.isoformat())
    run_jobs()
    assert len(mail.to(kim.email)) == 2
    # Back to in progress and completed again: the same enrollment's completion, already announced.
    back = _post(ada, kim.id, course=str(safety["driver-safety"]), status="in_progress")
    assert back.status_code == 302
    assert "Driver safety is back in progress for Kim." in _shown(ada, back)
    assert _enrollments(client, tenant, kim.id)["driver-safety"]["completed_at"] is None
    again = _post(ada, kim.id, course=str(safety["driver-safety"]), status="completed", completed_on="")
    assert again.status_code == 302
    today = _enrollments(client, tenant, kim.id)["driver-safety"]
    assert today["status"] == "completed" and today["completed_at"].startswith(datetime.now(UTC).date().isoformat())
    run_jobs()
    assert len(mail.to(kim.email)) == 2
    # The email log holds one row per event: the dedupe key (trigger, user, course, enrollment) refused the rest.
    for trigger in ("enrolled", "completed"):
        logged = client.get("/api/v1/emails", query_string={"trigger": trigger}, headers=tenant.admin).json["items"]
        assert [(e["to"], e["status"]) for e in logged] == [(kim.email, "sent")], logged
    events = client.get("/api/v1/activity?action=enrollments.saved", headers=tenant.admin).json["items"]
    assert sum(1 for e in events if e["actor"] == f"ui:user-{sch.admin.user_id}") == 5


def test_a_manager_changes_progress_in_their_groups_courses_only_and_for_their_people_only(
    rt, client, tenant, sch, safety, run_jobs, mail
):
    _switch(client, tenant, "completed")
    tia, kim = sch.manager_own.session, sch.kim
    page = tia.get(f"/ui/people/{kim.id}").get_data(as_text=True)
    assert "Driver safety" in page and "Fire safety" not in page  # only her groups' courses are offered
    assert _post(tia, kim.id, course=str(safety["driver-safety"]), status="enrolled").status_code == 302
    done = _post(tia, kim.id, course=str(safety["driver-safety"]), status="completed")
    assert done.status_code == 302
    assert _enrollments(client, tenant, kim.id)["driver-safety"]["status"] == "completed"
    run_jobs()
    assert _subjects(mail, kim.email) == ["You completed Driver safety"]

    before = _enrollments(client, tenant, kim.id)
    # A course outside her groups, posted by hand: not hers, so not found; nothing changes.
    fire = _post(tia, kim.id, course=str(safety["fire-safety"]), status="completed")
    assert fire.status_code == 404
    # Someone outside her groups (the other course's instructor): refused before anything is read.
    tom = sch.manager_other
    outside = _post(tia, tom.user_id, course=str(safety["driver-safety"]), status="enrolled")
    assert outside.status_code in (403, 404)
    # Her own progress, and the other course's instructor on Kim, are refused too.
    assert _post(tia, sch.manager_own.user_id, course=str(safety["driver-safety"]), status="enrolled").status_code in (
        403,
        404,
    )
    other = _post(tom.session, kim.id, course=str(safety["driver-safety"]), status="in_progress")
    assert other.status_code in (403, 404)
    # A person she can see but a reader can't change: the curator gets no form and a refusal.
    cora = sch.curator.session
    assert 'id="enrol-form"' not in cora.get(f"/ui/people/{kim.id}").get_data(as_text=True)
    assert _post(cora, kim.id, course=str(safety["fire-safety"]), status="enrolled").status_code == 403
    assert _enrollments(client, tenant, kim.id) == before
    assert "driver-safety" not in _enrollments(client, tenant, tom.user_id)
    assert "driver-safety" not in _enrollments(client, tenant, sch.manager_own.user_id)
    run_jobs()
    assert len(mail.to(kim.email)) == 1


def test_a_manager_never_changes_a_course_staff_enrollment(rt, client, tenant, sch, safety):
    """Tom, made an assigned manager of the seminar, reaches its members; Tia, a member too, teaches Driver
    safety: her enrollment there is the LMS's, so Tom can't mark it completed."""
    from provisioning.services import group_managers, memberships
    from tests.support.personas import SETUP

    tom, tia = sch.manager_other, sch.manager_own
    group_managers.assign_manager(rt, tenant.id, sch.group.id, tom.user_id, ["view_users", "manage_users"], SETUP)
    memberships.add_members(rt, tenant.id, sch.group.id, user_ids=[tia.user_id], actor=SETUP)
    r = client.post(
        "/api/v1/enrollments",
        json={"user_id": tia.user_id, "course_id": "driver-safety", "role": "Instructor"},
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    refused = _post(tom.session, tia.user_id, course=str(safety["driver-safety"]), status="completed")
    assert refused.status_code == 403
    assert "the LMS decides it" in refused.get_data(as_text=True)
    assert _enrollments(client, tenant, tia.user_id)["driver-safety"]["status"] == "enrolled"


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"status": "completed", "completed_on": "2026-13-45"}, "completed_on", "is not a date in the calendar"),
        ({"status": "completed", "completed_on": "04/12/2026"}, "completed_on", "year-month-day"),
        ({"status": "completed", "completed_on": "tomorrow"}, "completed_on", "year-month-day"),
        ({"status": "completed", "completed_on": "future"}, "completed_on", "can&#39;t be after today"),
        ({"status": "completed", "completed_on": "1850-01-01"}, "completed_on", "1900 or later"),
        ({"status": "graduated"}, "status", "Choose enrolled, in progress or completed."),
        ({"status": ""}, "status", "Choose enrolled, in progress or completed."),
        ({"status": "dropped"}, "status", "Choose enrolled, in progress or completed."),
        ({"status": "enrolled", "course": "biology"}, "course", "Choose a course from the list."),
        ({"status": "enrolled", "course": ""}, "course", "Choose a course from the list."),
    ],
)
def test_bad_values_are_a_400_naming_the_field_and_change_nothing(client, tenant, sch, safety, form, field, words):
    ada, kim = sch.admin.session, sch.kim
    assert _post(ada, kim.id, course=str(safety["driver-safety"]), status="enrolled").status_code == 302
    before = _enrollments(client, tenant, kim.id)
    if form.get("completed_on") == "future":
        form = {**form, "completed_on": (datetime.now(UTC) + timedelta(days=2)).date().isoformat()}
    r = _post(ada, kim.id, **{"course": str(safety["driver-safety"]), **form})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    labels = {"completed_on": "Completion date", "status": "Progress", "course": "Course"}
    assert f'<li data-field="{field}">{labels[field]}: ' in page and words in page, page
    assert _enrollments(client, tenant, kim.id) == before


def test_another_tenants_person_or_course_is_not_found(client, tenant, other_tenant, sch, safety):
    r = client.post(
        "/api/v1/users",
        json={"email": "olga@example.org", "username": "olga", "first_name": "Olga", "last_name": "Oz"},
        headers=other_tenant.admin,
    )
    assert r.status_code == 201, r.json
    ada = sch.admin.session
    assert _post(ada, r.json["id"], course=str(safety["driver-safety"]), status="enrolled").status_code == 404
    course = client.post("/api/v1/courses", json={"external_id": "theirs"}, headers=other_tenant.admin).json["id"]
    assert _post(ada, sch.kim.id, course=str(course), status="enrolled").status_code == 404
    assert _enrollments(client, tenant, sch.kim.id) == {}


def test_the_courses_section_speaks_german_and_spanish(client, tenant, sch, safety):
    ada, kim = sch.admin.session, sch.kim
    for language, words in (
        (
            "de",
            ("Als abgeschlossen markieren", "In einen Kurs einschreiben", "Abgeschlossen am", "darf nicht nach heute"),
        ),
        ("es", ("Marcar como completado", "Inscribir en un curso", "Completado el", "no puede ser posterior a hoy")),
    ):
        r = client.patch(f"/api/v1/users/{sch.admin.user_id}", json={"language": language}, headers=tenant.admin)
        assert r.status_code == 200, r.json
        assert _post(ada, kim.id, course=str(safety["driver-safety"]), status="enrolled").status_code == 302
        page = ada.get(f"/ui/people/{kim.id}").get_data(as_text=True)
        assert words[0] in page and words[1] in page
        done = _post(ada, kim.id, course=str(safety["driver-safety"]), status="completed")
        assert words[2] in _shown(ada, done)
        future = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        refused = _post(ada, kim.id, course=str(safety["driver-safety"]), status="completed", completed_on=future)
        assert refused.status_code == 400
        assert words[3] in refused.get_data(as_text=True)
        _post(ada, kim.id, course=str(safety["driver-safety"]), status="in_progress")
