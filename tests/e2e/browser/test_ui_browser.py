"""The UI in a real browser: headless Chromium (Debian's package) driven by Playwright, inside a test LMS page.

The tool and the "LMS" are served on two loopback ports, so they are different origins and the
LMS can frame the tool only because its origin is a registered platform (CSP frame-ancestors).
Jobs run on the in-process queue so the progress bar moves while the browser watches.
Each step's screenshot goes to test-artifacts/ui/ (the README's screenshots come from readme_screenshots.py).
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace

from provisioning.activity import Actor
from provisioning.lti import registrations as lti_registrations
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.axe import assert_accessible
from tests.support.browser import (
    Steps,
    course_page,
    expect,
    needs_chromium,
    open_course,
    pick,
    serving,
)
from tests.support.lti_platform import ADMINISTRATOR, INSTRUCTOR, launch
from tests.support.lti_platform import register_platform as register_lti_platform

ACTOR = Actor("test", "api")
pytestmark = needs_chromium


def launched_ui_path(client, platform, live_rt, tenant_id: int, *, sub: str, roles: list[str], email: str) -> str:
    """A real LTI launch from lti1p3platform (the independent platform); the path of the landing page's UI link."""
    if not getattr(platform, "_registered_in_browser_test", False):
        register_lti_platform(live_rt, tenant_id, platform)
        platform._registered_in_browser_test = True
    landing = launch(client, platform, sub=sub, roles=roles, email=email, nrps=False)
    assert landing.status_code == 200, landing.get_data(as_text=True)
    return html.unescape(re.search(r'id="open-ui" href="([^"]+)"', landing.get_data(as_text=True)).group(1))


def seed(rt, tenant_id: int, lms_origin: str) -> dict:
    lti_registrations.register_platform(
        rt,
        tenant_id,
        issuer=lms_origin,
        client_id="browser-test",
        auth_login_url=f"{lms_origin}/auth",
        auth_token_url=f"{lms_origin}/token",
        key_set_url=f"{lms_origin}/jwks",
        deployment_ids=["d1"],
        actor=ACTOR,
    )
    people = [
        users.create_user(
            rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy", "Dee")
    ]
    team = groups.create_group(rt, tenant_id, {"name": "Team Alpha"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Team Empty"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Staff"}, ACTOR)
    memberships.add_members(rt, tenant_id, team.id, user_ids=[u.id for u in people[:3]], actor=ACTOR)
    return {"people": people, "team": team}


def test_an_admin_manages_groups_inside_the_lms_frame(live, browser, tenant, tmp_path, client, platform):
    tool, lms, pages, live_rt = live
    seed(live_rt, tenant.id, lms.origin)
    ui_path = launched_ui_path(
        client, platform, live_rt, tenant.id, sub="admin-1", roles=[ADMINISTRATOR], email="ada.admin@example.edu"
    )
    pages["/course"] = course_page("Course 101 - Groups", f"{tool.origin}{ui_path}")
    context, steps, ui = open_course(browser, lms, "admin", accept_downloads=True)
    ui.get_by_role("heading", name="Groups").wait_for()
    steps.shot("groups-in-lms")

    # Search and filter.
    ui.get_by_label("Name contains").fill("team")
    ui.get_by_role("button", name="Search").click()
    expect(ui.locator("#groups").get_by_text("Staff")).to_have_count(0)
    expect(ui.locator("#groups").get_by_text("Team Alpha")).to_have_count(1)
    ui.get_by_label("Members").select_option("no")
    ui.get_by_role("button", name="Search").click()
    expect(ui.locator("#groups").get_by_text("Team Alpha")).to_have_count(0)
    expect(ui.locator("#groups").get_by_text("Team Empty")).to_have_count(1)
    steps.shot("search-and-filter")

    # Create a manual group.
    ui.get_by_role("link", name="Create group").click()
    ui.get_by_role("heading", name="Create group").wait_for()
    ui.get_by_label("Name", exact=True).fill("Newcomers 2026")
    ui.get_by_role("button", name="Create group").click()
    ui.get_by_role("heading", name="Newcomers 2026").wait_for()
    steps.shot("manual-group-created")

    # Upload a CSV with an error row; drop the row in the preview; commit; watch the progress.
    ui.get_by_role("link", name="Upload").click()
    ui.get_by_role("heading", name="Upload a file").wait_for()
    ui.get_by_label("File", exact=True).set_input_files(
        {
            "name": "members.csv",
            "mimeType": "text/csv",
            "buffer": (
                b"email,Groupname\nada@example.edu,Newcomers 2026\nnot-an-email,Newcomers 2026\n"
                b"dee@example.edu,Night Class\n"
            ),
        }
    )
    ui.get_by_role("button", name="Preview").click()
    errors = ui.locator("#import-errors")
    errors.get_by_text("is not an email address").wait_for()
    assert ui.locator("#import-format").get_attribute("data-format") == "user-groups"
    assert ui.locator('#import-groups li.import-group[data-group="Night Class"]').count() == 1
    steps.shot("upload-preview-with-error")
    ui.get_by_label("Leave out row 3").check()
    ui.get_by_role("button", name="Apply changes to the preview").click()
    ui.locator("#error-rows").get_by_text("0").wait_for()
    steps.shot("upload-preview-fixed")
    ui.get_by_role("button", name="Commit the import").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    assert ui.locator("#bar").get_attribute("aria-valuenow") == "100"
    steps.shot("upload-done")
    found = groups.list_groups(live_rt, tenant.id, q="Night Class").items
    assert len(found) == 1 and found[0].member_count == 1

    # Select members and deactivate them, with the confirmation saying how many.
    ui.get_by_role("link", name="Groups").click()
    ui.get_by_role("link", name="Team Alpha").click()
    ui.get_by_label("Select Ada Tester").check()
    ui.get_by_label("Select Ben Tester").check()
    ui.get_by_label("Action").select_option("deactivate")
    steps.shot("members-selected")
    ui.get_by_role("button", name="Apply to selected").click()
    assert "touches 2 users" in ui.locator("#confirm-text").inner_text()
    steps.shot("batch-confirmation")
    ui.get_by_role("button", name="Yes, deactivate 2 users").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    steps.shot("batch-done")
    ui.get_by_role("link", name="Back to the group").click()
    rows = ui.locator("#members tbody tr")
    rows.first.wait_for()
    statuses = {r.locator("td").nth(2).inner_text(): r.locator("td").nth(3).inner_text() for r in rows.all()}
    assert statuses == {"ada@example.edu": "deactivated", "ben@example.edu": "deactivated", "cy@example.edu": "active"}
    steps.shot("members-deactivated")

    # Send a message to the group.
    ui.get_by_label("Subject").last.fill("Timetable")
    ui.get_by_role("textbox", name="Message").last.fill("Room 4 from Monday.")
    ui.get_by_role("button", name="Send message").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    steps.shot("message-sent")
    ui.get_by_role("link", name="Emails").click()
    expect(ui.locator("main")).to_contain_text("Timetable")
    ui.get_by_role("link", name="Groups").click()
    ui.get_by_role("link", name="Team Alpha").click()

    # Download the members CSV and read it back.
    with steps.page.expect_download() as info:
        ui.get_by_role("link", name="Download members (CSV)").click()
    target = tmp_path / "members.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert sorted((r["Email"], r["Status"]) for r in rows) == [
        ("ada@example.edu", "deactivated"),
        ("ben@example.edu", "deactivated"),
        ("cy@example.edu", "active"),
    ]
    context.close()


def test_an_lms_that_is_not_a_registered_platform_cannot_frame_the_tool(live, browser, tenant):
    tool, lms, pages, live_rt = live
    seed(live_rt, tenant.id, "https://elsewhere.example")  # the test LMS's origin is not registered
    pages["/course"] = course_page(
        "Unregistered LMS", issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin)
    )
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = context.new_page()
    page.goto(f"{lms.origin}/course")
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("button", name="Sign in")).to_have_count(0)  # blocked by frame-ancestors
    Steps(page, "csp").shot("unregistered-lms-blocked", axe=False)  # the frame holds the browser's error page
    context.close()


def test_an_automatic_group_shows_its_live_count_and_a_long_import_can_be_stopped(
    rt, browser, tenant, client, platform
):
    one_row_chunks = replace(rt.settings, import_chunk_size=1, import_chunk_seconds=0)
    with serving(one_row_chunks, rt.db) as (tool, lms, pages, slow_rt):
        seed(slow_rt, tenant.id, lms.origin)
        ui_path = launched_ui_path(
            client, platform, slow_rt, tenant.id, sub="admin-1", roles=[ADMINISTRATOR], email="ada.admin@example.edu"
        )
        pages["/course"] = course_page("Course 101", f"{tool.origin}{ui_path}")
        context, steps, ui = open_course(browser, lms, "auto-stop")
        ui.get_by_role("link", name="Create group").click()
        ui.get_by_role("heading", name="Create group").wait_for()
        ui.get_by_label("Name", exact=True).fill("Testers")
        ui.get_by_role("radio", name="Automatic").check()
        ui.get_by_role("button", name="Edit as text").click()
        ui.get_by_role("textbox", name="Rule").fill('name.familyName eq "Tester" andd')
        expect(ui.locator("#rule-preview")).to_contain_text("position")
        steps.shot("rule-error-position")
        ui.get_by_role("textbox", name="Rule").fill('name.familyName eq "Tester"')
        expect(ui.locator("#rule-preview")).to_have_text("4 people match this rule now.")
        steps.shot("rule-live-count")
        ui.get_by_role("button", name="Create group").click()
        ui.get_by_role("heading", name="Testers").wait_for()

        rows = "".join(f"new{n}@example.edu,new{n},New,Person{n}\n" for n in range(400))
        ui.get_by_role("link", name="Upload").click()
        ui.get_by_role("heading", name="Upload a file").wait_for()
        ui.get_by_label("File", exact=True).set_input_files(
            {
                "name": "users.csv",
                "mimeType": "text/csv",
                "buffer": ("email,username,first_name,last_name\n" + rows).encode(),
            }
        )
        ui.get_by_role("button", name="Preview").click()
        expect(ui.locator("#import-format")).to_have_attribute("data-format", "users")
        ui.get_by_role("button", name="Commit the import").click()
        ui.get_by_role("button", name="Stop").click()
        ui.locator("#result").wait_for(state="visible", timeout=30_000)
        expect(ui.locator("#op-status")).to_have_text("Stopped")
        done = int(ui.locator("#op-count").inner_text().split(" of ")[0])
        assert done < 400
        steps.shot("import-stopped")
        context.close()


def test_an_instructor_launched_from_the_platform_manages_only_their_course_group(
    live, browser, tenant, client, platform
):
    from sqlalchemy import select

    from provisioning.lti import launch as lti_launch
    from provisioning.models import Course

    tool, lms, pages, live_rt = live
    seeded = seed(live_rt, tenant.id, lms.origin)
    ui_path = launched_ui_path(
        client, platform, live_rt, tenant.id, sub="teacher-1", roles=[INSTRUCTOR], email="tia@example.edu"
    )
    with live_rt.db.read() as s:
        course_id = s.scalar(select(Course.id).where(Course.tenant_id == tenant.id, Course.external_id == "course-101"))
    lti_launch.add_course_group(live_rt, tenant.id, course_id, seeded["team"].id)
    pages["/course"] = course_page("Course One", f"{tool.origin}{ui_path}")  # the landing page's link

    context, steps, ui = open_course(browser, lms, "instructor")
    ui.get_by_role("heading", name="Groups").wait_for()
    expect(ui.locator("#groups tbody tr")).to_have_count(1)
    expect(ui.locator("#groups")).to_contain_text("Team Alpha")
    expect(ui.get_by_role("link", name="Create group")).to_have_count(0)  # not in the default permission set
    steps.shot("only-my-course-group")
    ui.get_by_role("link", name="Team Alpha").click()
    ui.get_by_label("Subject").last.fill("Welcome to Course One")
    ui.get_by_role("textbox", name="Message").last.fill("See you on Monday.")
    ui.get_by_role("button", name="Send message").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    expect(ui.locator("#op-count")).to_have_text("3 of 3 items")
    steps.shot("message-sent")
    context.close()


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
    .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') &&
                  !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map(el => el.outerHTML)"""


def test_every_page_labels_its_controls_and_works_from_the_keyboard(live, browser, tenant):
    tool, lms, pages, live_rt = live
    seeded = seed(live_rt, tenant.id, lms.origin)
    pages["/course"] = course_page(
        "Course 101", issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin)
    )
    context, steps, ui = open_course(browser, lms, "keyboard")
    ui.get_by_role("heading", name="Sign in").wait_for()
    steps.shot("signin-page")
    ui.get_by_role("button", name="Sign in").focus()
    steps.page.keyboard.press("Enter")  # the sign-in button works from the keyboard too
    ui.get_by_role("heading", name="Groups").wait_for()
    frame = steps.page.frames[1]
    # The token left the address once the session cookie came back: the page still holds it.
    token = frame.evaluate("document.body.getAttribute('data-launch-token')")
    for path in (
        "/ui/groups",
        f"/ui/groups/{seeded['team'].id}",
        "/ui/groups/new",
        "/ui/imports/new",
        "/ui/logs",
        "/ui/activity",
        "/ui/emails",
        "/ui/me",
        "/ui/people",
        f"/ui/people/{seeded['people'][0].id}",
    ):
        frame.goto(f"{tool.origin}{path}?lt={token}")
        assert frame.evaluate(UNLABELLED) == [], path
        assert_accessible(frame, path)
    # Keyboard only: the skip link comes first, then search with Enter, then open a group with Enter.
    frame.goto(f"{tool.origin}/ui/groups?lt={token}")
    frame.locator("body").focus()
    steps.page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.textContent") == "Skip to content"
    frame.get_by_label("Name contains").focus()
    steps.page.keyboard.type("alpha")
    steps.page.keyboard.press("Enter")
    expect(ui.locator("#groups tbody tr")).to_have_count(1)
    ui.get_by_role("link", name="Team Alpha").focus()
    steps.page.keyboard.press("Enter")
    ui.get_by_role("heading", name="Team Alpha").wait_for()
    steps.shot("keyboard-opened-group")
    context.close()


def test_an_admin_shares_a_person_with_an_instructor_who_then_reaches_only_them(
    live, browser, tenant, client, platform
):
    from sqlalchemy import select

    from provisioning.lti import launch as lti_launch
    from provisioning.models import Course

    tool, lms, pages, live_rt = live
    seeded = seed(live_rt, tenant.id, lms.origin)
    eve = users.create_user(
        live_rt, tenant.id, {"email": "eve@example.edu", "given_name": "Eve", "family_name": "Outsider"}, ACTOR
    )
    teacher_path = launched_ui_path(
        client, platform, live_rt, tenant.id, sub="teacher-1", roles=[INSTRUCTOR], email="tia@example.edu"
    )
    admin_path = launched_ui_path(
        client, platform, live_rt, tenant.id, sub="admin-1", roles=[ADMINISTRATOR], email="ada.admin@example.edu"
    )
    with live_rt.db.read() as s:
        course_id = s.scalar(select(Course.id).where(Course.tenant_id == tenant.id, Course.external_id == "course-101"))
    lti_launch.add_course_group(live_rt, tenant.id, course_id, seeded["team"].id)
    pages["/admin"] = course_page("Admin console", f"{tool.origin}{admin_path}")
    pages["/course"] = course_page("Course One", f"{tool.origin}{teacher_path}")

    # The admin shares Dee (in no group of Tia's) with Tia from the People page.
    context, steps, ui = open_course(browser, lms, "share", path="/admin")
    ui.get_by_role("link", name="People").click()
    ui.get_by_role("heading", name="People").wait_for()
    ui.get_by_label("Select Dee Tester").check()
    ui.get_by_label("Action").select_option("share")
    pick(ui, "Manager", "tia", "tia@example.edu")
    ui.get_by_role("button", name="Apply to selected").click()
    assert "touches 1 user" in ui.locator("#confirm-text").inner_text()
    expect(ui.locator("#confirm-examples")).to_have_text("Dee Tester")
    ui.get_by_role("button", name="Yes, share with a manager 1 user").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    steps.shot("shared-with-tia")
    context.close()

    # Tia sees Dee under "Shared with me", opens her page and gives her a task; Eve stays out of reach.
    context, steps, ui = open_course(browser, lms, "shared-with-me")
    ui.get_by_role("link", name="Shared with me").click()
    ui.get_by_role("heading", name="Shared with me").wait_for()
    expect(ui.locator("#people tbody tr")).to_have_count(1)
    expect(ui.locator("#people")).to_contain_text("dee@example.edu")
    steps.shot("shared-with-me")
    ui.get_by_label("Select Dee Tester").check()
    ui.get_by_label("Action").select_option("add_task")
    ui.get_by_label("Task").fill("Read chapter 1")
    ui.get_by_role("button", name="Apply to selected").click()
    ui.get_by_role("button", name="Yes, add task 1 user").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("Finished")
    ui.get_by_role("link", name="Shared with me").click()
    ui.get_by_role("link", name="Dee Tester").click()
    expect(ui.locator("#person-tasks")).to_contain_text("Read chapter 1")
    steps.shot("shared-person")
    ui.get_by_role("link", name="People").click()
    expect(ui.locator("#people")).not_to_contain_text("eve@example.edu")
    frame = steps.page.frames[1]
    # The token left the address once the session cookie came back: the page still holds it.
    token = frame.evaluate("document.body.getAttribute('data-launch-token')")
    frame.goto(f"{tool.origin}/ui/people/{eve.id}?lt={token}")
    ui.get_by_role("heading", name="Not allowed").wait_for()
    steps.shot("unshared-person-refused")
    context.close()
