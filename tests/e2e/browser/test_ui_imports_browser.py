"""The batch-upload article and the group managers' "Bulk Add Members", walked in Chromium from the UI alone.

batch-upload-group-files: download the template, upload the file, see the groups with the people of each
(the "down arrow"), rename a group, remove a person and a bad row, commit ("Add Groups"), watch the
progress dialog, Stop a long upload, read the result and download the report.  user-group-managers:
"Bulk add members" into one group with its Excel template, invitation emails (checked through the
services, then read in the email log), the progress in the user action log.  Every step runs axe-core
and leaves a screenshot in test-artifacts/ui/ (uploads-NN-*.png); the pages are checked at 320 px too.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

from openpyxl import Workbook, load_workbook

from provisioning.activity import Actor
from provisioning.mail import outbox
from provisioning.models import Tenant
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.axe import assert_accessible
from tests.support.browser import SHOTS, Steps, expect, needs_chromium, pick, serving

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _seed(rt, tenant_id: int) -> dict:
    people = {
        n: users.create_user(
            rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy", "Dee")
    }
    team = groups.create_group(rt, tenant_id, {"name": "Team Alpha"}, ACTOR)
    memberships.add_members(rt, tenant_id, team.id, user_ids=[people["Ada"].id, people["Ben"].id], actor=ACTOR)
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "join_url": "https://lms.example.edu/join"}
    return {**people, "team": team}


def _signed_in(browser, tool, live_rt, tenant_id: int, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(issue_signin_link(live_rt, tenant_id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Groups").wait_for()
    return context, page


def _workbook(path):
    with open(path, "rb") as fh:  # a download's path has no .xlsx suffix, which openpyxl wants for a path
        return load_workbook(io.BytesIO(fh.read()))


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_batch_upload_article_from_template_to_report(rt, browser, tenant):
    slow = replace(rt.settings, import_chunk_size=1, import_chunk_seconds=0)
    with serving(slow, rt.db) as (tool, _lms, _pages, live_rt):
        world = _seed(live_rt, tenant.id)
        context, page = _signed_in(browser, tool, live_rt, tenant.id)
        steps = Steps(page, "uploads")
        page.get_by_role("link", name="Upload", exact=True).click()
        page.get_by_role("heading", name="Upload a file").wait_for()
        steps.shot("upload-page-kinds-and-templates")

        # 1. Download the sample file (group-based); its header is the one to keep.
        with page.expect_download() as download:
            page.get_by_role("link", name="Excel template: Group-based (a group and its people)").click()
        sheet = _workbook(download.value.path()).active
        assert [c.value for c in sheet[1]][:2] == ["Groupname", "Email"]

        # 2. Upload a group-based file with a wrong email: the format is recognised, each group lists its people.
        page.get_by_label("Members of several groups").check()
        content = _xlsx(
            [
                ["Groupname", "Email", "Email"],
                ["Night Class", "ada@example.edu", "ben@example.edu"],
                ["Team Alpha", "cy@example.edu"],
                ["Team Alpha", "not-an-email"],
            ]
        )
        page.get_by_label("File", exact=True).set_input_files(
            {"name": "groups.xlsx", "mimeType": "application/octet-stream", "buffer": content}
        )
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#import-format")).to_contain_text("Group-based")
        expect(page.locator("#import-read-from")).to_contain_text("header on row 1")
        night = page.locator('li.import-group[data-group="Night Class"]')
        expect(night.locator(".group-counts")).to_contain_text("2 join, 0 leave, 0 stay")
        team = page.locator('li.import-group[data-group="Team Alpha"]')
        team.locator("summary").click()  # the "down arrow": the people of the group
        expect(team.locator(".people-joining")).to_contain_text("Cy Tester")
        expect(team.locator(".people-staying")).to_have_count(0)
        expect(page.locator("#import-errors")).to_contain_text("not-an-email")
        steps.shot("preview-groups-people-and-error")

        # 3. Edit a group's name, remove a person, and leave out the bad row.
        night.locator("summary").click()
        night.get_by_label("Leave out Ben Tester").check()
        night.get_by_label("Rename Night Class to").fill("Night Class 2026")
        page.get_by_label("Leave out row 4").check()
        page.get_by_role("button", name="Apply changes to the preview").click()
        expect(page.locator("#error-rows")).to_have_text("0")
        renamed = page.locator('li.import-group[data-group="Night Class 2026"]')
        expect(renamed.locator(".group-counts")).to_contain_text("1 joins")
        steps.shot("preview-fixed")

        # 4. Commit ("Add Groups"): the progress dialog, then the result in words and the report.
        page.get_by_role("button", name="Commit the import").click()
        page.get_by_role("heading", name="Import").wait_for()
        expect(page.locator("#bar")).to_have_attribute("aria-valuenow", re.compile(r"\d+"))
        steps.shot("progress")
        expect(page.locator("#result-sentence")).to_be_visible(timeout=30_000)
        expect(page.locator("#result-sentence")).to_contain_text("2 added, 0 errors")
        assert page.locator("#bar").get_attribute("aria-valuenow") == "100"
        steps.shot("result")
        with page.expect_download() as report:
            page.get_by_role("link", name="Download the report (CSV)").click()
        assert "cy@example.edu" in open(report.value.path(), encoding="utf-8").read()
        created = groups.list_groups(live_rt, tenant.id, q="Night Class 2026").items
        assert len(created) == 1
        assert {u.email for u, _ in memberships.list_members(live_rt, tenant.id, created[0].id).items} == {
            "ada@example.edu"
        }
        assert "cy@example.edu" in {
            u.email for u, _ in memberships.list_members(live_rt, tenant.id, world["team"].id).items
        }

        # 5. A long upload, stopped from its progress dialog.
        page.get_by_role("link", name="Upload", exact=True).click()
        page.get_by_label("People (create or update accounts)").check()
        rows = "".join(f"new{n}@example.edu,new{n},New,Person{n}\n" for n in range(300))
        page.get_by_label("File", exact=True).set_input_files(
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": ("email,username,first_name,last_name\n" + rows).encode(),
            }
        )
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#import-format")).to_contain_text("People")
        page.get_by_role("button", name="Commit the import").click()
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#op-status")).to_have_text("Stopped", timeout=30_000)
        sentence = page.locator("#result-sentence").inner_text()
        assert sentence.startswith("Stopped after ") and "300" not in sentence.split(":")[0]
        steps.shot("stopped")

        # 6. The user action log, filtered by kind of work; the activity log in words.
        page.get_by_role("link", name="Action log", exact=True).click()
        page.get_by_label("Kind of work").select_option(label="Import")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#operations tbody tr")).to_have_count(2)
        expect(page.locator("#operations")).to_contain_text("2 added, 0 errors")
        steps.shot("action-log")
        page.get_by_role("link", name="Activity", exact=True).click()
        expect(page.locator("#events")).to_contain_text("Added a member to the group")
        assert "group.member_added" not in page.locator("#events").inner_text()
        steps.shot("activity")
        context.close()


def test_bulk_add_members_into_one_group_with_invitations(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    context, page = _signed_in(browser, tool, live_rt, tenant.id)
    steps = Steps(page, "bulkadd")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Bulk add new members to one group, with invitations").check()
    expect(page.get_by_label("Into the group")).to_be_visible()
    with page.expect_download() as download:
        page.locator('a[href*="bulk-add-members.xlsx"]').click()
    header = [c.value for c in _workbook(download.value.path()).active[1]]
    assert header[:2] == ["username", "email"]
    pick(page, "Into the group", "alpha", "Team Alpha")
    content = _xlsx(
        [
            header,
            ["eve.new", "eve@example.edu", "Eve", "New", "fr", "Research"],
            ["ada", "ada@example.edu", "Ada", "Tester", "", ""],
        ]
    )
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "bulk.xlsx", "mimeType": "application/octet-stream", "buffer": content}
    )
    steps.shot("bulk-add-form")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#people-new")).to_contain_text("Eve New")
    page.locator("#people-existing summary").click()
    expect(page.locator("#people-existing")).to_contain_text("already in the group")
    steps.shot("bulk-add-preview")
    page.get_by_role("button", name="Commit the import").click()
    expect(page.locator("#result-sentence")).to_contain_text("1 invitation sent", timeout=30_000)
    steps.shot("bulk-add-result")
    invitations = outbox.list_emails(live_rt, tenant.id, kind="invitation").items
    assert [m.to_address for m in invitations] == ["eve@example.edu"]
    members = {u.email for u, _ in memberships.list_members(live_rt, tenant.id, world["team"].id).items}
    assert {"eve@example.edu", "ada@example.edu"} <= members
    page.get_by_role("link", name="Emails").click()
    email = page.locator("#emails li.email").filter(has_text="eve@example.edu")
    email.locator("summary").click()
    expect(email.locator(".email-body")).to_contain_text("invited to join")
    expect(email.locator(".email-body")).to_contain_text("the personal link is hidden")
    assert "/join/" not in email.locator(".email-body").inner_text()
    steps.shot("email-log-invitation")
    page.get_by_role("link", name="Action log", exact=True).click()
    pick(page, "Group", "alpha", "Team Alpha")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#operations")).to_contain_text("1 invitation sent")
    steps.shot("action-log-by-group")

    # Reports Center: the group's progress, run now; then in the reports' Done list.
    page.get_by_role("link", name="Reports").click()
    pick(page, "Group progress report of", "alpha", "Team Alpha")
    page.get_by_role("button", name="Open the report").click()
    page.get_by_role("heading", name="Progress of Team Alpha").wait_for()
    expect(page.locator("#report-figures")).to_contain_text("3")
    steps.shot("group-report")
    page.get_by_role("button", name="Run the report").click()
    expect(page.locator("#result-sentence")).to_contain_text("Report ready: 3 members", timeout=30_000)
    page.get_by_role("link", name="Back to the group").click()
    page.get_by_role("link", name="All reports").click()
    expect(page.locator("#reports-done")).to_contain_text("Report ready: 3 members")
    steps.shot("reports-done")
    context.close()


def test_the_upload_pages_fit_320_pixels(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    _seed(live_rt, tenant.id)
    context, page = _signed_in(browser, tool, live_rt, tenant.id, width=1280)
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "groups.csv",
            "mimeType": "text/csv",
            "buffer": b"email,Groupname\nada@example.edu,A rather long group name for a narrow panel\nnot-an-email,Team Alpha\n",
        }
    )
    page.get_by_role("button", name="Preview").click()
    page.locator("#import-format").wait_for()
    preview_url = page.url
    page.get_by_role("button", name="Commit the import").click()
    expect(page.locator("#result-sentence")).to_be_visible(timeout=30_000)
    operation_url = page.url
    token = page.evaluate("document.body.getAttribute('data-launch-token')")
    page.set_viewport_size({"width": 320, "height": 800})
    problems = []
    for name, url in (
        ("upload", f"{tool.origin}/ui/imports/new?lt={token}"),
        ("preview", preview_url),
        ("operation", operation_url),
        ("logs", f"{tool.origin}/ui/logs?lt={token}"),
        ("activity", f"{tool.origin}/ui/activity?lt={token}"),
        ("emails", f"{tool.origin}/ui/emails?lt={token}"),
        ("reports", f"{tool.origin}/ui/reports?lt={token}"),
    ):
        page.goto(url)
        page.locator("main h1").wait_for()
        for summary in page.locator("main details > summary").all()[:3]:
            summary.click()
        page.screenshot(path=str(SHOTS / f"uploads-320-{name}.png"), full_page=True)
        if not page.evaluate(NO_SIDEWAYS_SCROLL):
            problems.append(f"{name} scrolls sideways at 320 px")
        assert_accessible(page, f"{name} at 320 px")
    context.close()
    assert problems == []
