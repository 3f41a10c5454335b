"""An administrator sets up an automatic notification in a real browser (issue 17 #3): opens Settings →
Automatic notifications, switches "Added to a group" on, writes an English subject with a placeholder, previews
it (htmx swaps the preview in), saves, adds a member on a group's page, and finds the email in the email log
with its trigger and the new subject.  Then the pages at 320 px, a refused placeholder beside its field
included, without sideways scrolling.  Every step runs axe-core and leaves a screenshot in test-artifacts/ui/
(notifications-NN-<step>.png, notifications-320-NN-<step>.png)."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, users
from tests.support.browser import Steps, expect, needs_chromium, open_menu, signed_in

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
SUBJECT = "Welcome to {group}, {first_name}"


def test_an_admin_switches_on_edits_previews_and_sees_the_email_in_the_log(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    users.create_user(live_rt, tenant.id, {"email": "ann@example.edu", "given_name": "Ann"}, ACTOR)
    team = groups.create_group(live_rt, tenant.id, {"name": "Sales team"}, ACTOR)
    context, page = signed_in(browser, tool, live_rt, tenant.id, width=1280)
    steps = Steps(page, "notifications")

    # Settings → Automatic notifications: the five, in words, all off.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Settings", exact=True).wait_for()
    expect(page.locator("#notifications-hint")).to_contain_text("is added to a group")
    steps.shot("settings")
    page.locator("#settings-tabs").get_by_role("link", name="Automatic notifications").click()
    page.get_by_role("heading", name="Automatic notifications").wait_for()
    rows = page.locator("#triggers tbody tr")
    expect(rows).to_have_count(5)
    row = page.locator("#trigger-group_added")
    expect(row).to_contain_text("When someone is added to a group")
    expect(row.locator(".trigger-state")).to_have_text("Off")
    steps.shot("list")

    # Switch "Added to a group" on.
    row.get_by_role("button", name="Switch on Added to a group").click()
    expect(page.locator("#switched")).to_contain_text("“Added to a group” is on")
    expect(page.locator("#trigger-group_added .trigger-state")).to_have_text("On")
    steps.shot("switched-on")

    # Its page: the placeholders it offers, the English text; a subject with placeholders, previewed.
    page.locator("#trigger-group_added").get_by_role("link", name="Added to a group", exact=True).click()
    page.get_by_role("heading", name="Automatic notification: Added to a group").wait_for()
    expect(page.locator("#placeholders")).to_contain_text("{group}")
    expect(page.locator("#placeholders")).not_to_contain_text("{course}")
    expect(page.locator("#trigger-state")).to_contain_text("On")
    steps.shot("trigger-page")
    page.locator("#subject-en").fill(SUBJECT)
    page.get_by_role("button", name="Preview English (en)").click()
    preview = page.locator("#preview-en")
    expect(preview).to_contain_text("Welcome to Sales team, Ann")
    expect(preview).to_contain_text("Hello Ann,")
    expect(page.locator("#subject-en")).to_have_value(SUBJECT)  # the card came back with what was typed
    assert page.url.endswith("/ui/settings/notifications/group_added")  # htmx swapped the card in place
    expect(preview).to_be_focused()
    steps.shot("preview")

    page.get_by_role("button", name="Save English (en)").click()
    expect(page.locator("#saved")).to_contain_text("The English (en) text was saved")
    expect(page.locator("#lang-en .text-state")).to_have_text("Your own text")
    steps.shot("saved")

    # A member added on the group's page gets the email; the email log shows it with its trigger.
    page.goto(f"{tool.origin}/ui/groups/{team.id}")
    page.get_by_role("heading", name="Sales team").wait_for()
    page.get_by_label("Add member by email").fill("ann@example.edu")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#members-table tbody tr", has_text="ann@example.edu")).to_be_visible()
    steps.shot("member-added")
    page.get_by_role("link", name="Emails").click()
    page.get_by_role("heading", name="Email log").wait_for()
    email = page.locator("#emails li.email", has_text="Welcome to Sales team, Ann")
    expect(email).to_have_count(1)
    expect(email.locator(".email-why")).to_have_text("Automatic: Added to a group")
    expect(email).to_contain_text("to ann@example.edu")
    steps.shot("email-log")
    context.close()


def test_the_notification_pages_fit_320_px(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    context, page = signed_in(browser, tool, live_rt, tenant.id, width=320)
    steps = Steps(page, "notifications-320")
    open_menu(page)
    expect(page.locator("#ui-nav").get_by_role("link", name="Settings")).to_be_visible()
    page.goto(f"{tool.origin}/ui/settings")
    page.get_by_role("heading", name="Settings", exact=True).wait_for()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "/ui/settings scrolls sideways at 320 px"
    page.locator("#settings-tabs").get_by_role("link", name="Automatic notifications").click()
    page.get_by_role("heading", name="Automatic notifications").wait_for()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "/ui/settings/notifications scrolls sideways at 320 px"
    steps.shot("list")
    page.locator("#trigger-enrolled").get_by_role("link", name="Enrolled in a course", exact=True).click()
    page.get_by_role("heading", name="Automatic notification: Enrolled in a course").wait_for()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "a notification's page scrolls sideways at 320 px"
    steps.shot("trigger-page")
    # A placeholder this notification lacks: refused beside the field, with where it is; nothing saved.
    page.locator("#body-de").fill("Hallo {first_name},\n\nwillkommen in {group}.")
    page.locator("#subject-de").fill("Willkommen in {course}")
    page.get_by_role("button", name="Save German (de)").click()
    expect(page.locator("#body-de-error")).to_contain_text(
        "Placeholder {group} at position 36 (line 3, column 15) is not available"
    )
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "a refusal scrolls sideways at 320 px"
    steps.shot("refused")
    page.locator("#body-de").fill("Hallo {first_name},\n\nwillkommen in {course}.")
    page.get_by_role("button", name="Preview German (de)").click()
    expect(page.locator("#preview-de")).to_contain_text("willkommen in Driver safety.")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "a preview scrolls sideways at 320 px"
    steps.shot("preview")
    context.close()
