"""The group-managers article (shared/reference/user-group-managers.txt) end to end, in a real browser, as a
course instructor launched over LTI 1.3 by lti1p3platform (an LMS platform we did not write), inside the
LMS's iframe at 1024 and at 400 px (a narrow LMS frame): the dashboard of their groups, manage group
members, add a member (the invitation checked in the outbox through the admin API), bulk add members
from the downloaded template (progress in the user action log), the user action log filtered by bulk
action type and date, the email log and the activity log; then the Reports Center: their group's progress
report (each member's courses, status and completion), a weekly report scheduled to themselves and listed
as upcoming, a run now followed to done, and the reports filtered by type and date.  axe-core runs on every step, nothing in the
frame scrolls sideways, and each step leaves test-artifacts/ui/managers-<width>-<nn>-<step>.png.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date

import openpyxl
import pytest
from babel.dates import format_date
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.lti import launch as lti_launch
from provisioning.lti import registrations as lti_registrations
from provisioning.models import Course, Membership, User
from provisioning.services import courses, groups, memberships, users
from tests.support.browser import Steps, expect, needs_chromium, open_menu, pick, tool_frame
from tests.support.lti_platform import INSTRUCTOR, launch
from tests.support.lti_platform import register_platform as register_lti_platform

ACTOR = Actor("test", "api")
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
pytestmark = needs_chromium


def lms_course_page(title: str, tool_url: str, width: int) -> str:
    """A course page of the test LMS with the tool in an iframe ``width`` px wide."""
    return (
        f"<!doctype html><html lang='en'><head><title>{html.escape(title)}</title></head>"
        f"<body style='margin:8px'><h1>{html.escape(title)}</h1><iframe id='tool' title='Group management' "
        f"src='{html.escape(tool_url)}' width='{width}' height='1900' style='border:1px solid #999'></iframe>"
        "</body></html>"
    )


def _setup(live_rt, tenant_id: int, client, platform, lms_origin: str) -> dict:
    """The LMS origin may frame the tool; Ivy (the instructor) launches into her course, which has a
    hand-edited group of two learners; Olga teaches another course (outside Ivy's scope)."""
    lti_registrations.register_platform(
        live_rt,
        tenant_id,
        issuer=lms_origin,
        client_id="browser-test",
        auth_login_url=f"{lms_origin}/auth",
        auth_token_url=f"{lms_origin}/token",
        key_set_url=f"{lms_origin}/jwks",
        deployment_ids=["d1"],
        actor=ACTOR,
    )
    register_lti_platform(live_rt, tenant_id, platform)
    platform.context_id = "bio-101"
    landing = launch(
        client, platform, sub="ivy", roles=[INSTRUCTOR], email="ivy@example.edu", name="Ivy Park", nrps=False
    )
    assert landing.status_code == 200, landing.get_data(as_text=True)
    ui_path = html.unescape(re.search(r'id="open-ui" href="([^"]+)"', landing.get_data(as_text=True)).group(1))
    with live_rt.db.read() as s:
        course = s.scalar(select(Course).where(Course.tenant_id == tenant_id, Course.external_id == "bio-101"))
    learners = [
        users.create_user(
            live_rt,
            tenant_id,
            {"email": f"{n.lower()}.with.a.long.address@example.edu", "given_name": n, "family_name": "Learner"},
            ACTOR,
        )
        for n in ("Ana", "Bo")
    ]
    olga = users.create_user(live_rt, tenant_id, {"email": "olga@example.edu", "given_name": "Olga"}, ACTOR)
    seminar = groups.create_group(live_rt, tenant_id, {"name": "Biology seminar"}, ACTOR)
    lti_launch.add_course_group(live_rt, tenant_id, course.id, seminar.id)
    memberships.add_members(live_rt, tenant_id, seminar.id, user_ids=[u.id for u in learners], actor=ACTOR)
    # Their progress in the course, for the group's report: Ana completed it, Bo is on the way.
    for learner, status in zip(learners, ("completed", "in_progress"), strict=True):
        courses.enroll(live_rt, tenant_id, {"user_id": learner.id, "course_id": "bio-101", "status": status}, ACTOR)
    return {"ui_path": ui_path, "course": course, "seminar": seminar, "olga": olga}


def _fits(page, where: str) -> None:
    frame = tool_frame(page)
    assert frame.evaluate(NO_SIDEWAYS_SCROLL), (
        f"{where}: the tool scrolls sideways in its frame ({frame.evaluate('document.scrollingElement.scrollWidth')} px)"
    )


def _open_nav(ui, width: int, name: str) -> None:
    """A navbar link; below md (768 px) the menu folds behind its toggler first."""
    if width < 768:
        open_menu(ui)
    ui.locator("#ui-nav").get_by_role("link", name=name, exact=True).click()


def _member_id(live_rt, group_id: int, email: str) -> int | None:
    with live_rt.db.read() as s:
        return s.scalar(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id, User.email == email)
        )


@pytest.mark.parametrize("width", [1024, 400])
def test_an_instructor_does_the_group_managers_job_inside_the_lms_frame(
    live, browser, tenant, client, platform, width, tmp_path
):
    tool, lms, pages, live_rt = live
    world = _setup(live_rt, tenant.id, client, platform, lms.origin)
    seminar = world["seminar"]
    pages["/course"] = lms_course_page("Course One", f"{tool.origin}{world['ui_path']}", width)
    context = browser.new_context(viewport={"width": width + 40, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{lms.origin}/course")
    ui = page.frame_locator("#tool")
    steps = Steps(page, f"managers-{width}")

    def step(name: str) -> None:
        _fits(page, f"{name} at {width} px")
        steps.shot(name)

    # 1. The dashboard of her groups: title, members, managers, created and updated.
    _open_nav(ui, width, "Groups")
    ui.get_by_role("heading", name="Groups").wait_for()
    row = ui.locator("#groups tbody tr", has_text="Biology seminar")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2")
    expect(row).to_contain_text("Ivy Park")  # her, as a manager of the course
    expect(row).to_contain_text("Course One")  # the course's title, never "course 1"
    expect(row).to_contain_text(format_date(date.today(), format="medium", locale="en"))  # created, updated
    expect(row.get_by_role("button", name="Actions for Biology seminar")).to_have_count(1)
    step("dashboard")

    # 2. Manage group members: names, last login, courses.
    row.get_by_role("link", name="Biology seminar").click()
    ui.get_by_role("heading", name="Biology seminar").wait_for()
    expect(ui.locator("#group-facts")).to_contain_text("Course One")  # the LMS's course title
    members = ui.locator("#members")
    expect(members).to_contain_text("Ana Learner")
    expect(members).to_contain_text("never")
    step("group-members")

    # 3. Add a member: "provide the user's details and an invitation email will be sent"; the same answer
    # for a new address and for another course's teacher.
    ui.get_by_label("Add member by email").fill("newcomer@example.edu")
    ui.get_by_label("First name (optional)").fill("Nia")
    ui.get_by_label("Last name (optional)").fill("Newcomer")
    step("member-details")
    ui.get_by_role("button", name="Add", exact=True).click()
    expect(ui.locator("#invited")).to_contain_text("Invitation sent to newcomer@example.edu")
    ui.get_by_label("Add member by email").fill(world["olga"].email)
    ui.get_by_role("button", name="Add", exact=True).click()
    expect(ui.locator("#invited")).to_contain_text(f"Invitation sent to {world['olga'].email}")
    invitations = ui.locator("#invitations")
    expect(invitations).to_contain_text("newcomer@example.edu")
    expect(invitations).to_contain_text(world["olga"].email)
    step("member-invited")
    sent = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin).json["items"]
    assert {"newcomer@example.edu", "olga@example.edu"} <= {e["to"] for e in sent}
    newcomer = client.get("/api/v1/users", query_string={"q": "newcomer@example.edu"}, headers=tenant.admin)
    assert [(u["first_name"], u["last_name"], u["status"]) for u in newcomer.json["items"]] == [
        ("Nia", "Newcomer", "invited")
    ]
    assert _member_id(live_rt, seminar.id, "olga@example.edu") is None  # only when she accepts

    # 4. Bulk add members from the downloaded template.
    with page.expect_download() as download:
        ui.locator("#bulk-template").click()
    template = tmp_path / "members.xlsx"
    download.value.save_as(template)
    book = openpyxl.load_workbook(template)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for email, first, last in (("cy@example.edu", "Cy", "Bulk"), ("di@example.edu", "Di", "Bulk")):
        sheet.append([{"email_address": email, "first_name": first, "last_name": last}.get(h, "") for h in header])
    filled = io.BytesIO()
    book.save(filled)
    ui.get_by_label("Bulk add members").set_input_files(
        {
            "name": "members.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": filled.getvalue(),
        }
    )
    ui.locator("#bulk-add").get_by_role("button", name="Upload").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_contain_text("Finished")
    step("bulk-add-done")
    sent = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin).json["items"]
    assert {"cy@example.edu", "di@example.edu"} <= {e["to"] for e in sent}

    # 5. The user action log, filtered by the bulk action's type and today's date.
    _open_nav(ui, width, "Action log")
    ui.get_by_role("heading", name="Action log").wait_for()
    ui.get_by_label("Kind of work").select_option(label="Bulk add members")
    ui.get_by_label("From").fill(date.today().isoformat())
    ui.get_by_role("button", name="Filter").click()
    tool_frame(page).wait_for_url(re.compile(r"type=members_bulk_add.*since="))
    bulk = ui.locator('#operations tr[data-type="members_bulk_add"]')
    expect(bulk).to_have_count(1)
    expect(bulk).to_contain_text("2 rows of 2 read")
    expect(ui.locator("#operations tbody tr")).to_have_count(1)
    step("action-log-bulk-today")

    # 6. The email log: the invitations, to people of her scope or sent by her; one opened to read it.
    _open_nav(ui, width, "Emails")
    ui.get_by_role("heading", name="Email log").wait_for()
    expect(ui.locator("main")).to_contain_text("cy@example.edu")
    email = ui.locator("#emails li.email").filter(has_text="cy@example.edu")
    email.locator("summary").click()
    expect(email.locator(".email-body")).to_contain_text("Ivy Park invited you to join the group Biology seminar")
    step("email-log")

    # 7. The people she manages (a narrow frame must not scroll sideways here either).
    _open_nav(ui, width, "People")
    ui.get_by_role("heading", name="People").wait_for()
    expect(ui.locator("main")).to_contain_text("Ana Learner")
    step("people")

    # 8. The activity log: what happened, in words.
    _open_nav(ui, width, "Activity")
    ui.get_by_role("heading", name="Activity").wait_for()
    events = ui.locator("#events")
    expect(events).to_contain_text("Invited someone to join the group")
    expect(events).not_to_contain_text("group.invitation.sent")
    expect(events).not_to_contain_text(re.compile(r"operation \d"))  # the job is a link, never an id
    step("activity-log")

    # 9. The Reports Center, from the user action log: her groups' reports (in progress, upcoming, done).
    _open_nav(ui, width, "Action log")
    ui.locator("#to-reports").click()
    ui.get_by_role("heading", name="Reports").wait_for()
    step("reports")

    # 10. Her group's progress report: each member's courses, status and completion.
    pick(ui, "Group progress report of", "Bio", "Biology seminar")
    ui.get_by_role("button", name="Open the report").click()
    ui.get_by_role("heading", name="Progress of Biology seminar").wait_for()
    expect(ui.locator("#report-courses")).to_contain_text("Course One")
    ana = ui.locator("#report-members tr", has_text="Ana Learner")
    expect(ana).to_contain_text("Course One")
    expect(ana).to_contain_text("Completed")
    expect(ana).to_contain_text(format_date(date.today(), format="medium", locale="en"))  # completed today
    expect(ui.locator("#report-members tr", has_text="Bo Learner")).to_contain_text("In progress")
    expect(ui.locator("#report-rate")).to_contain_text("50%")
    step("report-group-progress")

    # 11. A weekly report to herself, then listed as upcoming.
    ui.get_by_label("How often").select_option(label="Every week")
    ui.get_by_label("Email it to (managers or administrators, comma separated)", exact=True).fill("ivy@example.edu")
    ui.get_by_role("button", name="Schedule").click()
    upcoming = ui.locator("#report-upcoming")
    expect(upcoming).to_contain_text("Every week")
    expect(upcoming).to_contain_text("ivy@example.edu")
    schedules = client.get("/api/v1/reports/schedules", headers=tenant.admin).json["items"]
    assert [(x["group_id"], x["frequency"], x["recipients"]) for x in schedules] == [
        (seminar.id, "weekly", ["ivy@example.edu"])
    ]
    step("report-scheduled")

    # 12. Run it now: its progress, then done.
    ui.get_by_role("button", name="Run the report").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_contain_text("Finished")
    step("report-run-done")

    # 13. Back in the Reports Center: upcoming and done, filtered by type and today's date.
    _open_nav(ui, width, "Action log")
    ui.locator("#to-reports").click()
    ui.get_by_role("heading", name="Reports").wait_for()
    expect(ui.locator("#reports-upcoming tbody tr", has_text="Biology seminar")).to_contain_text("Every week")
    ui.get_by_label("Type of report").select_option(label="Group progress")
    ui.locator("#report-filters").get_by_label("From").fill(date.today().isoformat())
    ui.locator("#report-filters").get_by_label("Until").fill(date.today().isoformat())
    ui.get_by_role("button", name="Filter").click()
    tool_frame(page).wait_for_url(re.compile(r"type=group_progress.*since=.*until="))
    done = ui.locator("#reports-done tr[data-report-run]")
    expect(done).to_have_count(1)
    expect(done).to_contain_text("Biology seminar")
    expect(done).to_contain_text("Group progress")
    expect(ui.locator("#reports-in-progress tr[data-report-run]")).to_have_count(0)
    step("reports-filtered")
    context.close()
