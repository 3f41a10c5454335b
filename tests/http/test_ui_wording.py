"""What people read after an LTI 1.3 launch (issue 19, "Wording"): the course by its title, a learner
offered their own page, an instructor's course roles on the person page, refusals as sentences."""

from __future__ import annotations

import re

from tests.support.lti_platform import INSTRUCTOR, LEARNER, launch, register_platform
from tests.support.personas import PERSONAS, school


def _summary(landing) -> str:
    text = landing.get_data(as_text=True)
    found = re.search(r'id="launch-summary"[^>]*>\s*([^<]*?)\s*</p>', text)
    assert found, text
    return found.group(1)


def test_the_landing_page_names_the_course_by_its_title_else_its_label_else_its_id(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    platform.context_id, platform.context_title = "bio-101", "Biology 101"
    landing = launch(client, platform, sub="tia", email="tia@example.edu", roles=[INSTRUCTOR])
    assert _summary(landing) == "Signed in as Instructor in Biology 101."
    platform.context_id, platform.context_title, platform.context_label = "chem-1", None, "CHEM1"
    assert _summary(launch(client, platform, sub="tia", roles=[INSTRUCTOR])) == "Signed in as Instructor in CHEM1."
    platform.context_id, platform.context_label = "phys-7", None
    assert _summary(launch(client, platform, sub="tia", roles=[INSTRUCTOR])) == "Signed in as Instructor in phys-7."


def test_a_learner_is_offered_their_own_page_not_group_management(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    landing = launch(client, platform, sub="lou", email="lou@example.edu", roles=[LEARNER])
    text = landing.get_data(as_text=True)
    assert "Open group management" not in text and "Open my page" in text
    link = re.search(r'id="open-ui" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    assert "/ui/me" in client.get(link, follow_redirects=True).request.path
    teacher = launch(client, platform, sub="tia", email="tia@example.edu", roles=[INSTRUCTOR])
    assert "Open group management" in teacher.get_data(as_text=True)


def test_the_person_page_shows_an_instructors_course_roles_beside_the_tenant_role(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get(f"/ui/people/{sch.manager_own.user_id}").get_data(as_text=True)
    assert re.search(r'id="course-roles">Instructor in Course One<', page), page
    assert "Role in this service" in page and "Role</dt>" not in page
    own = sch.learner.session.get(f"/ui/people/{sch.learner.user_id}").get_data(as_text=True)
    assert re.search(r'id="course-roles">Learner in Course One<', own), own


def test_every_refusal_a_person_meets_is_a_sentence_for_people(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    refused = sch.learner.session.get(f"/ui/people/{sch.kim.id}")
    assert refused.status_code == 403
    assert "You don&#39;t have access to this person." in refused.get_data(as_text=True)
    paths = [f"/ui/groups/{sch.group.id}", f"/ui/groups/{sch.group.id}/members.csv", "/ui/people", "/ui/logs"]
    for persona in PERSONAS[:2]:
        for path in paths:
            response = sch.persona(persona).session.get(path)
            if response.status_code != 403:
                continue
            text = response.get_data(as_text=True)
            message = _message(text)
            assert message.startswith("You ") and "may not" not in message and "_" not in message, (persona, path)


def _message(page: str) -> str:
    """The refusal's words (ui/error.html's alert)."""
    return re.search(r'role="alert">([^<]*)<', page).group(1)
