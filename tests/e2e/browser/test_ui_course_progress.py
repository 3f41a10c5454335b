"""A person's progress in a course, from their page, in a real browser (headless Chromium) (issue 17: the
notifications end to end from the UI; the group-managers article: a manager may "update user progress").

An admin opens a person, enrols them in a course, marks it completed on a date and sees it in words; an
assigned group manager, on a 320 px wide screen, marks one of their people's course completed.  Each
completion's email is in the email log (/ui/emails) with its trigger.  Every step leaves a screenshot in
test-artifacts/ui/ (course-progress-<who>-<px>-NN-<step>.png) and runs axe-core; at 320 px every page is
checked for sideways scrolling.  Outcomes are checked through the admin API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from provisioning.activity import Actor
from provisioning.lti import launch as lti_launch
from provisioning.services import courses, group_managers, groups, memberships, users
from tests.support.browser import Steps, expect, needs_chromium, signed_in, signed_in_as

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _seed(rt, client, tenant) -> dict:
    people = {
        n: users.create_user(
            rt, tenant.id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ann", "Ben", "Ria")
    }
    team = groups.create_group(rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
    memberships.add_members(rt, tenant.id, team.id, user_ids=[people["Ann"].id, people["Ben"].id], actor=ACTOR)
    driver = courses.create_course(rt, tenant.id, "driver-safety", "Driver safety", ACTOR)
    courses.create_course(rt, tenant.id, "fire-safety", "Fire safety", ACTOR)
    lti_launch.add_course_group(rt, tenant.id, driver.id, team.id)
    for trigger in ("enrolled", "completed"):
        r = client.patch(f"/api/v1/notification-triggers/{trigger}", json={"enabled": True}, headers=tenant.admin)
        assert r.status_code == 200, r.json
    return {**people, "team": team}


def _enrollment(client, tenant, user_id: int) -> dict:
    r = client.get(f"/api/v1/users/{user_id}/enrollments", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {e["course_id"]: e for e in r.json["items"]}["driver-safety"]


def _words(day) -> str:
    return f"{day.strftime('%b')} {day.day}, {day.year}"  # how the English pages write a day: "Dec 2, 2026"


def _fits(page, problems: list[str], what: str) -> None:
    if not page.evaluate(NO_SIDEWAYS_SCROLL):
        problems.append(f"{what} scrolls sideways ({page.evaluate('document.scrollingElement.scrollWidth')} px)")


def test_an_admin_enrols_a_person_marks_the_course_completed_and_sees_the_email(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, client, tenant)
    ann = world["Ann"]
    context, page = signed_in(browser, tool, live_rt, tenant.id)
    steps = Steps(page, "course-progress-admin-1280")
    page.goto(f"{tool.origin}/ui/people/{ann.id}")
    page.get_by_role("heading", name="Ann Tester").wait_for()
    expect(page.locator("#person-courses")).to_contain_text("No courses.")
    steps.shot("person")

    page.get_by_label("Enrol in a course").select_option(label="Driver safety")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.locator("#progress-saved")).to_have_text("Enrolled Ann Tester in Driver safety.")
    expect(page.locator("#person-courses")).to_contain_text("Driver safety · enrolled")
    steps.shot("enrolled")

    day = (datetime.now(UTC) - timedelta(days=2)).date()
    today = datetime.now(UTC).date()
    date_box = page.get_by_label("Completion date")
    expect(date_box).to_have_value(today.isoformat())  # today by default, and never later
    assert date_box.get_attribute("max") == today.isoformat()
    date_box.fill((today + timedelta(days=1)).isoformat())  # tomorrow: refused beside the field, nothing saved
    page.get_by_role("button", name="Mark completed").click()
    expect(page.locator("#progress-errors")).to_contain_text(
        "Completion date: The completion date can't be after today"
    )
    expect(page.get_by_label("Completion date")).to_have_attribute("aria-invalid", "true")
    steps.shot("date-error")
    assert _enrollment(client, tenant, ann.id)["status"] == "enrolled"
    date_box = page.get_by_label("Completion date")
    date_box.fill(day.isoformat())
    page.get_by_role("button", name="Mark completed").click()
    expect(page.locator("#progress-saved")).to_have_text(f"Ann Tester completed Driver safety on {_words(day)}.")
    expect(page.locator("#person-courses")).to_contain_text(f"Completed on {_words(day)}")
    expect(page.get_by_role("button", name="Back to in progress")).to_be_visible()
    steps.shot("completed")
    saved = _enrollment(client, tenant, ann.id)
    assert saved["status"] == "completed" and saved["completed_at"].startswith(day.isoformat())

    page.goto(f"{tool.origin}/ui/emails")
    page.get_by_role("heading", name="Email log").wait_for()
    done = page.locator("#emails li.email", has_text="You completed Driver safety")
    expect(done).to_have_count(1)
    expect(done.locator(".email-why")).to_have_text("Automatic: Completed a course")
    expect(page.locator("#emails li.email", has_text="You are enrolled in Driver safety")).to_have_count(1)
    steps.shot("email-log")

    # Back to in progress and completed again: the same completion, so no second email.
    page.goto(f"{tool.origin}/ui/people/{ann.id}")
    page.get_by_role("button", name="Back to in progress").click()
    expect(page.locator("#progress-saved")).to_have_text("Driver safety is back in progress for Ann Tester.")
    steps.shot("back-in-progress")
    page.get_by_role("button", name="Mark completed").click()
    expect(page.locator("#progress-saved")).to_contain_text("Ann Tester completed Driver safety on")
    page.goto(f"{tool.origin}/ui/emails")
    expect(page.locator("#emails li.email", has_text="You completed Driver safety")).to_have_count(1)
    context.close()


def test_an_assigned_group_manager_marks_their_persons_course_completed_on_a_narrow_screen(
    live, browser, tenant, client
):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, client, tenant)
    ben, ria = world["Ben"], world["Ria"]
    r = client.post(
        "/api/v1/enrollments",
        json={"user_id": ben.id, "course_id": "driver-safety", "status": "in_progress"},
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    group_managers.assign_manager(
        live_rt, tenant.id, world["team"].id, ria.id, ["view_users", "manage_users", "view_activity"], ACTOR
    )
    problems: list[str] = []
    context, page = signed_in_as(browser, tool, live_rt, tenant.id, ria.id, width=320)
    steps = Steps(page, "course-progress-manager-320")
    page.goto(f"{tool.origin}/ui/people/{ben.id}")
    page.get_by_role("heading", name="Ben Tester").wait_for()
    expect(page.locator("#person-courses")).to_contain_text("Driver safety · in progress")
    # Only her group's courses: Fire safety is not offered (Ben is in Driver safety already, so nothing is).
    expect(page.locator("#enrol-form")).to_have_count(0)
    _fits(page, problems, "the person page")
    steps.shot("person")

    page.get_by_role("button", name="Mark completed").click()  # today, the default
    today = datetime.now(UTC).date()
    expect(page.locator("#progress-saved")).to_have_text(f"Ben Tester completed Driver safety on {_words(today)}.")
    expect(page.locator("#person-courses")).to_contain_text(f"Completed on {_words(today)}")
    _fits(page, problems, "the person page, completed")
    steps.shot("completed")
    assert _enrollment(client, tenant, ben.id)["status"] == "completed"

    page.goto(f"{tool.origin}/ui/emails")
    page.get_by_role("heading", name="Email log").wait_for()
    done = page.locator("#emails li.email", has_text="You completed Driver safety")
    expect(done).to_have_count(1)
    expect(done.locator(".email-why")).to_have_text("Automatic: Completed a course")
    _fits(page, problems, "the email log")
    steps.shot("email-log")
    assert not problems, problems
    context.close()
