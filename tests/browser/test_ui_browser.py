"""The UI in a real browser: headless Chromium (Debian's package) driven by Playwright, inside a test LMS page.

The tool and the "LMS" are served on two loopback ports, so they are different origins and the
LMS can frame the tool only because its origin is a registered platform (CSP frame-ancestors).
Jobs run on the in-process queue so the progress bar moves while the browser watches.
Each step's screenshot goes to test-artifacts/ui/.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from jobs.queue import InProcessQueue
from lti.ui_links import issue_signin_link
from provisioning.app import create_app
from provisioning.runtime import Runtime
from provisioning.services import groups, lti_registrations, memberships, users
from provisioning.services.activity import Actor
from tests.test_lti_platform import INSTRUCTOR, launch, platform  # noqa: F401 - the platform fixture
from tests.test_lti_platform import register_platform as register_lti_platform

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
ACTOR = Actor("test", "api")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is not installed (apt-get install chromium; CI installs it)")


class Served:
    """A WSGI app on a free loopback port, in a thread."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def lms_app(pages: dict[str, str]):
    """The test LMS: pages that frame the tool like a course page does."""

    @Request.application
    def app(request):
        body = pages.get(request.path)
        if body is None:
            return Response("not found", status=404)
        return Response(body, mimetype="text/html")

    return app


def course_page(title: str, tool_url: str) -> str:
    return (f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><iframe id='tool' title='Group management' src='{html.escape(tool_url)}' "
            f"width='1000' height='720' style='border:1px solid #999'></iframe></body></html>")


@contextmanager
def serving(settings, db):
    """The tool (on the test database, jobs on the in-process queue) and a test LMS, each on its own port."""
    live_rt = Runtime(settings=settings, db=db)
    live_rt.queue = InProcessQueue(lambda: live_rt)
    tool = Served(create_app(runtime=live_rt))
    pages: dict[str, str] = {}
    lms = Served(lms_app(pages))
    try:
        yield tool, lms, pages, live_rt
    finally:
        lms.stop()
        tool.stop()
        live_rt.queue.shutdown(wait=True)


@pytest.fixture
def live(rt):
    with serving(rt.settings, rt.db) as served:
        yield served


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Steps:
    def __init__(self, page, prefix: str):
        self.page, self.prefix, self.n = page, prefix, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(SHOTS / f"{self.prefix}-{self.n:02d}-{name}.png"), full_page=True)


def open_course(browser, lms, prefix: str, **options):
    """A new browser context on the test LMS's course page; returns the context, steps and the tool's frame."""
    context = browser.new_context(viewport={"width": 1100, "height": 820}, **options)
    page = context.new_page()
    page.goto(f"{lms.origin}/course")
    return context, Steps(page, prefix), page.frame_locator("#tool")


def seed(rt, tenant_id: int, lms_origin: str) -> dict:
    lti_registrations.register_platform(
        rt, tenant_id, issuer=lms_origin, client_id="browser-test", auth_login_url=f"{lms_origin}/auth",
        auth_token_url=f"{lms_origin}/token", key_set_url=f"{lms_origin}/jwks", deployment_ids=["d1"], actor=ACTOR)
    people = [users.create_user(rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n,
                                                "family_name": "Tester"}, ACTOR)
              for n in ("Ada", "Ben", "Cy", "Dee")]
    team = groups.create_group(rt, tenant_id, {"name": "Team Alpha"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Team Empty"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Staff"}, ACTOR)
    memberships.add_members(rt, tenant_id, team.id, user_ids=[u.id for u in people[:3]], actor=ACTOR)
    return {"people": people, "team": team}


def test_an_admin_manages_groups_inside_the_lms_frame(live, browser, tenant, tmp_path):
    tool, lms, pages, live_rt = live
    seed(live_rt, tenant.id, lms.origin)
    link = issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin)
    pages["/course"] = course_page("Course 101 - Groups", link)
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
    ui.get_by_label("File", exact=True).set_input_files({"name": "members.csv", "mimeType": "text/csv", "buffer": (
        b"email,Groupname\nada@example.edu,Newcomers 2026\nnot-an-email,Newcomers 2026\n"
        b"dee@example.edu,Night Class\n")})
    ui.get_by_role("button", name="Preview").click()
    errors = ui.locator("#import-errors")
    errors.get_by_text("is not an email address").wait_for()
    assert ui.locator("#import-format").inner_text() == "user-groups"
    assert ui.locator("#import-groups").get_by_text("Night Class").count() == 1
    steps.shot("upload-preview-with-error")
    ui.get_by_label("Drop row 3").check()
    ui.get_by_role("button", name="Apply changes to the preview").click()
    ui.locator("#error-rows").get_by_text("0").wait_for()
    steps.shot("upload-preview-fixed")
    ui.get_by_role("button", name="Commit the import").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("succeeded")
    assert ui.locator("#bar").get_attribute("value") == "100"
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
    expect(ui.locator("#op-status")).to_have_text("succeeded")
    steps.shot("batch-done")
    ui.get_by_role("link", name="Back to the group").click()
    rows = ui.locator("#members tbody tr")
    rows.first.wait_for()
    statuses = {r.locator("td").nth(2).inner_text(): r.locator("td").nth(3).inner_text() for r in rows.all()}
    assert statuses == {"ada@example.edu": "deactivated", "ben@example.edu": "deactivated", "cy@example.edu": "active"}
    steps.shot("members-deactivated")

    # Download the members CSV and read it back.
    with steps.page.expect_download() as info:
        ui.get_by_role("link", name="Download members (CSV)").click()
    target = tmp_path / "members.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert sorted((r["Email"], r["Status"]) for r in rows) == [
        ("ada@example.edu", "deactivated"), ("ben@example.edu", "deactivated"), ("cy@example.edu", "active")]
    context.close()


def test_an_lms_that_is_not_a_registered_platform_cannot_frame_the_tool(live, browser, tenant):
    tool, lms, pages, live_rt = live
    seed(live_rt, tenant.id, "https://elsewhere.example")  # the test LMS's origin is not registered
    pages["/course"] = course_page("Unregistered LMS", issue_signin_link(live_rt, tenant.id)
                                   .replace("http://localhost", tool.origin))
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = context.new_page()
    page.goto(f"{lms.origin}/course")
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("heading", name="Groups")).to_have_count(0)  # blocked by frame-ancestors
    Steps(page, "csp").shot("unregistered-lms-blocked")
    context.close()


def test_an_automatic_group_shows_its_live_count_and_a_long_import_can_be_stopped(rt, browser, tenant):
    one_row_chunks = replace(rt.settings, import_chunk_size=1, import_chunk_seconds=0)
    with serving(one_row_chunks, rt.db) as (tool, lms, pages, slow_rt):
        seed(slow_rt, tenant.id, lms.origin)
        pages["/course"] = course_page("Course 101", issue_signin_link(slow_rt, tenant.id)
                                       .replace("http://localhost", tool.origin))
        context, steps, ui = open_course(browser, lms, "auto-stop")
        ui.get_by_role("link", name="Create group").click()
        ui.get_by_role("heading", name="Create group").wait_for()
        ui.get_by_label("Name", exact=True).fill("Testers")
        ui.get_by_role("radio", name="Automatic").check()
        ui.get_by_role("textbox", name="Rule").fill('name.familyName eq "Tester" andd')
        expect(ui.locator("#rule-preview")).to_contain_text("position")
        steps.shot("rule-error-position")
        ui.get_by_role("textbox", name="Rule").fill('name.familyName eq "Tester"')
        expect(ui.locator("#rule-preview")).to_have_text("4 users match this rule now.")
        steps.shot("rule-live-count")
        ui.get_by_role("button", name="Create group").click()
        ui.get_by_role("heading", name="Testers").wait_for()

        rows = "".join(f"new{n}@example.edu,new{n},New,Person{n}\n" for n in range(400))
        ui.get_by_role("link", name="Upload").click()
        ui.get_by_role("heading", name="Upload a file").wait_for()
        ui.get_by_label("File", exact=True).set_input_files({"name": "users.csv", "mimeType": "text/csv", "buffer": (
            "email,username,first_name,last_name\n" + rows).encode()})
        ui.get_by_role("button", name="Preview").click()
        expect(ui.locator("#import-format")).to_have_text("users")
        ui.get_by_role("button", name="Commit the import").click()
        ui.get_by_role("button", name="Stop").click()
        ui.locator("#result").wait_for(state="visible", timeout=30_000)
        expect(ui.locator("#op-status")).to_have_text("cancelled")
        done = int(ui.locator("#op-count").inner_text().split(" of ")[0])
        assert done < 400
        steps.shot("import-stopped")
        context.close()


def test_an_instructor_launched_from_the_platform_manages_only_their_course_group(live, browser, tenant, client,
                                                                                   platform):
    from sqlalchemy import select

    from provisioning.models import Course
    from provisioning.services import lti_launch

    tool, lms, pages, live_rt = live
    seeded = seed(live_rt, tenant.id, lms.origin)
    register_lti_platform(live_rt, tenant.id, platform)
    landing = launch(client, platform, sub="teacher-1", roles=[INSTRUCTOR], email="tia@example.edu", nrps=False)
    assert landing.status_code == 200, landing.get_data(as_text=True)
    ui_path = html.unescape(re.search(r'id="open-ui" href="([^"]+)"', landing.get_data(as_text=True)).group(1))
    with live_rt.db.read() as s:
        course_id = s.scalar(select(Course.id).where(Course.tenant_id == tenant.id, Course.external_id == "course-101"))
    lti_launch.add_course_group(live_rt, tenant.id, course_id, seeded["team"].id)
    pages["/course"] = course_page("Course One", f"{tool.origin}{ui_path}")  # the landing page's link

    context, steps, ui = open_course(browser, lms, "instructor")
    ui.get_by_role("heading", name="Groups").wait_for()
    expect(ui.locator("#groups tbody tr")).to_have_count(1)
    expect(ui.locator("#groups")).to_contain_text("Team Alpha")
    expect(ui.get_by_role("link", name="Upload")).to_have_count(0)
    steps.shot("only-my-course-group")
    ui.get_by_role("link", name="Team Alpha").click()
    ui.get_by_label("Subject").last.fill("Welcome to Course One")
    ui.get_by_role("textbox", name="Message").last.fill("See you on Monday.")
    ui.get_by_role("button", name="Send message").click()
    ui.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(ui.locator("#op-status")).to_have_text("succeeded")
    expect(ui.locator("#op-count")).to_have_text("3 of 3")
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
    pages["/course"] = course_page("Course 101", issue_signin_link(live_rt, tenant.id)
                                   .replace("http://localhost", tool.origin))
    context, steps, ui = open_course(browser, lms, "keyboard")
    ui.get_by_role("heading", name="Groups").wait_for()
    frame = steps.page.frames[1]
    token = re.search(r"lt=([^&]+)", frame.url).group(1)
    for path in ("/ui/groups", f"/ui/groups/{seeded['team'].id}", "/ui/groups/new", "/ui/imports/new", "/ui/logs",
                 "/ui/activity", "/ui/emails", "/ui/me"):
        frame.goto(f"{tool.origin}{path}?lt={token}")
        assert frame.evaluate(UNLABELLED) == [], path
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
