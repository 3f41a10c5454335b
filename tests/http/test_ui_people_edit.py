"""The person page: view and edit names, department, custom fields, language and role, per field and per person,
checked on every save (provisioning/people.py); errors beside their fields; the change in the activity log."""

from __future__ import annotations

import re

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import ActivityEvent, Tenant
from provisioning.services import courses, roles, users
from tests.support.personas import SETUP, school

ACTOR = Actor("test", "api")


def _declare(rt, tenant_id: int, *names) -> None:
    with rt.db.transaction() as s:
        tenant = s.get_one(Tenant, tenant_id)
        tenant.settings = {
            **(tenant.settings or {}),
            "custom_attributes": [{"name": n, "type": "string"} for n in names],
        }


def test_an_admin_edits_a_persons_names_department_custom_field_language_and_role(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    _declare(rt, tenant.id, "location")
    admin = sch.admin.session
    form = admin.get(f"/ui/people/{sch.kim.id}/edit").get_data(as_text=True)
    for label in ("Given name", "Family name", "Display name", "Department", "Location", "Language", "Role"):
        assert re.search(rf'<label class="form-label" for="f-[\w-]+">{label}</label>', form), label
    assert '<option value="de">German (de)</option>' in form
    saved = admin.post(
        f"/ui/people/{sch.kim.id}/edit",
        {
            "given_name": " Kim ",
            "family_name": "Lee",
            "display_name": "Kim Lee",
            "department": "Chemistry",
            "custom.location": "Berlin",
            "language": "de",
            "role": "manager",
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].startswith(f"/ui/people/{sch.kim.id}")
    kim = users.get_user(rt, tenant.id, sch.kim.id)
    assert (kim.given_name, kim.family_name, kim.display_name, kim.department) == ("Kim", "Lee", "Kim Lee", "Chemistry")
    assert (kim.custom_attributes, kim.language, kim.role) == ({"location": "Berlin"}, "de", "manager")
    page = admin.get(f"/ui/people/{sch.kim.id}", saved=1).get_data(as_text=True)
    assert "Saved the changes to Kim Lee" in page and "German (de)" in page and ">Manager<" in page
    assert '<dd data-field="location">Berlin</dd>' in page
    with rt.db.read() as s:
        event = s.scalar(
            select(ActivityEvent).where(ActivityEvent.action == "user.updated", ActivityEvent.object_id == str(kim.id))
        )
    assert event is not None and event.actor == f"ui:user-{sch.admin.user_id}"
    assert {"family_name", "department", "custom_attributes", "language", "role"} <= set(event.details["changed"])


def test_the_role_pickers_offer_the_tenants_own_roles_and_one_can_be_given(rt, app, client, tenant, platform):
    """A role the tenant defined (issue 17 #5) is offered by name in the person form and the batch change-role
    picker, next to the built-in ones, and choosing it on the person form gives it."""
    sch = school(rt, app, client, tenant, platform)
    roles.create_role(rt, tenant.id, {"label": "Team coordinator", "permissions": ["view_users"]}, ACTOR)
    admin = sch.admin.session
    form = admin.get(f"/ui/people/{sch.kim.id}/edit").get_data(as_text=True)
    assert '<option value="team_coordinator">Team coordinator</option>' in form
    assert '<option value="reporter">Report viewer</option>' in form
    picker = admin.get("/ui/people").get_data(as_text=True)
    assert '<option value="team_coordinator">Team coordinator</option>' in picker
    saved = admin.post(f"/ui/people/{sch.kim.id}/edit", {"role": "team_coordinator"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert users.get_user(rt, tenant.id, sch.kim.id).role == "team_coordinator"
    assert ">Team coordinator<" in admin.get(f"/ui/people/{sch.kim.id}").get_data(as_text=True)
    refused = admin.post(f"/ui/people/{sch.kim.id}/edit", {"role": "emperor"})
    assert refused.status_code == 400 and "Choose a role from the list." in refused.get_data(as_text=True)
    assert users.get_user(rt, tenant.id, sch.kim.id).role == "team_coordinator"


def test_errors_are_shown_beside_their_fields_and_nothing_is_saved(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    response = sch.admin.session.post(
        f"/ui/people/{sch.kim.id}/edit",
        {"given_name": "K" * 201, "department": "Physics", "language": "klingon", "custom.shoe_size": "44"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="given_name-error">Given name is too long: at most 200 characters (this one has 201).' in page
    assert 'id="language-error">Choose a language from the list.' in page
    assert "shoe_size is not one of this organisation" in page
    assert 'aria-invalid="true" aria-describedby="given_name-error"' in page
    assert '<a href="#f-given_name">Given name</a>' in page  # the summary links to the field
    assert 'value="Physics"' in page  # what was typed is kept
    assert users.get_user(rt, tenant.id, sch.kim.id).department is None


def test_a_manager_edits_their_learner_but_not_the_role_nor_people_beyond_reach(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    tia = sch.manager_own.session
    form = tia.get(f"/ui/people/{sch.kim.id}/edit").get_data(as_text=True)
    assert re.search(r'id="f-role" name="role" disabled', form)
    assert tia.post(f"/ui/people/{sch.kim.id}/edit", {"department": "Biology"}).status_code == 302
    assert users.get_user(rt, tenant.id, sch.kim.id).department == "Biology"
    # The role, even sent by hand, is refused on the server and nothing changes.
    refused = tia.post(f"/ui/people/{sch.kim.id}/edit", {"department": "Art", "role": "admin"})
    assert refused.status_code == 403 and "change this person&#39;s role" in refused.get_data(as_text=True)
    kim = users.get_user(rt, tenant.id, sch.kim.id)
    assert (kim.role, kim.department) == ("learner", "Biology")
    # Kim joins a course Tia doesn't teach as its instructor: staff, beyond Tia's reach for account changes.
    courses.create_course(rt, tenant.id, "course-z", "Course Z", SETUP)
    courses.enroll(rt, tenant.id, {"course_id": "course-z", "user_id": sch.kim.id, "role": "Instructor"}, SETUP)
    assert tia.get(f"/ui/people/{sch.kim.id}/edit").status_code == 403
    assert tia.post(f"/ui/people/{sch.kim.id}/edit", {"department": "Art"}).status_code == 403
    assert users.get_user(rt, tenant.id, sch.kim.id).department == "Biology"


def test_a_manager_of_another_course_and_a_learner_cannot_edit(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    for persona in (sch.manager_other, sch.learner):
        assert persona.session.get(f"/ui/people/{sch.kim.id}/edit").status_code == 403
        assert persona.session.post(f"/ui/people/{sch.kim.id}/edit", {"department": "X"}).status_code == 403
    assert users.get_user(rt, tenant.id, sch.kim.id).department is None


def test_a_manager_without_manage_users_cannot_edit(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    from provisioning.services import tenant_settings

    tenant_settings.update_settings(rt, tenant.id, {"manager_permissions": ["view_users"]}, SETUP)
    tia = sch.manager_own.session
    assert "Edit details" not in tia.get(f"/ui/people/{sch.kim.id}").get_data(as_text=True)
    assert tia.post(f"/ui/people/{sch.kim.id}/edit", {"department": "X"}).status_code == 403


def test_an_admin_cannot_change_their_own_role(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    me = sch.admin
    assert re.search(
        r'id="f-role" name="role" disabled', me.session.get(f"/ui/people/{me.user_id}/edit").get_data(as_text=True)
    )
    before = users.get_user(rt, tenant.id, me.user_id).role
    other = "manager" if before != "manager" else "learner"
    assert me.session.post(f"/ui/people/{me.user_id}/edit", {"role": other}).status_code == 403
    assert users.get_user(rt, tenant.id, me.user_id).role == before


def test_the_person_page_lists_groups_courses_with_status_and_completion(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    courses.create_course(rt, tenant.id, "chem", "Chemistry 1", SETUP)
    courses.enroll(
        rt,
        tenant.id,
        {"course_id": "chem", "user_id": sch.kim.id, "status": "completed", "completed_at": "2026-05-04T10:00:00Z"},
        SETUP,
    )
    page = sch.admin.session.get(f"/ui/people/{sch.kim.id}").get_data(as_text=True)
    assert f'href="/ui/groups/{sch.group.id}">Course A seminar</a>' in page
    assert '<strong>Chemistry 1</strong> · <span class="course-progress">Completed on May 4, 2026</span>' in page


def test_the_change_role_batch_action_gives_a_custom_role_from_the_people_list(
    rt, app, client, tenant, platform, run_jobs
):
    """batch-actions article: "Change their role from Learner, Curator, Manager, Admin, Report, etc." with a role
    the tenant defined, chosen in the batch form of the People list and confirmed."""
    sch = school(rt, app, client, tenant, platform)
    roles.create_role(rt, tenant.id, {"label": "Team coordinator", "permissions": ["view_users"]}, ACTOR)
    admin = sch.admin.session
    form = {"action": "change_role", "user_ids": [str(sch.kim.id)], "role": "team_coordinator"}
    asked = admin.post("/ui/people/batch", form)
    confirmation = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<dt>New role</dt><dd>Team coordinator</dd>" in confirmation  # in words
    assert users.get_user(rt, tenant.id, sch.kim.id).role != "team_coordinator"  # nothing before confirming
    done = admin.post("/ui/people/batch", {**form, "confirmed": "yes"})
    assert done.status_code == 302 and "/ui/operations/" in done.headers["Location"]
    run_jobs()
    assert users.get_user(rt, tenant.id, sch.kim.id).role == "team_coordinator"
    unknown = admin.post("/ui/people/batch", {**form, "role": "emperor", "confirmed": "yes"})
    assert unknown.status_code == 400 and "emperor" not in unknown.headers.get("Location", "")
