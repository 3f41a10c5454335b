"""The groups articles' "drag and drop it into the upload section" (issue 16): a file dropped on an upload form's
drop zone fills its file input (ui/static/js/dropzone.js), its name is shown, and the form then works as if the
file had been chosen: the replace-from-file upload shows its preview."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, memberships, users
from tests.support.browser import Steps, expect, needs_chromium, signed_in

ACTOR = Actor("test", "api")
pytestmark = needs_chromium

# Dispatch the events a real drag from the desktop makes, each carrying one DataTransfer with the file.
DRAG = """([selector, name, content, events]) => {
    const zone = document.querySelector(selector).closest("[data-drop-zone]");
    window.dragged = window.dragged || new DataTransfer();
    if (!window.dragged.files.length) { window.dragged.items.add(new File([content], name, {type: "text/csv"})); }
    return events.map(type => zone.dispatchEvent(
        new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: window.dragged})));
}"""


def _drag(page, selector: str, name: str, content: str, *events: str) -> list[bool]:
    """The dispatch results: False where the page called preventDefault (the drop zone took the event)."""
    return page.evaluate(DRAG, [selector, name, content, list(events)])


def test_a_file_dropped_on_the_upload_form_is_uploaded_and_previewed(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    ada, ben = (
        users.create_user(live_rt, tenant.id, {"email": f"{n}@example.edu", "given_name": n.title()}, ACTOR)
        for n in ("ada", "ben")
    )
    team = groups.create_group(live_rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
    memberships.add_members(live_rt, tenant.id, team.id, user_ids=[ada.id, ben.id], actor=ACTOR)
    context, page = signed_in(browser, tool, live_rt, tenant.id)
    steps = Steps(page, "drop-zone")

    row = page.locator("#groups tbody tr", has_text="Team Alpha")
    row.get_by_role("button", name="Actions for Team Alpha").click()
    row.get_by_role("link", name="Manage members").click()
    page.get_by_role("heading", name="Team Alpha").wait_for()

    # The group page's bulk add: the hint shows once the script runs; a dropped file fills the input.
    bulk = page.locator("#bulk-add [data-drop-zone]")
    expect(bulk).to_contain_text("or drag and drop a file here")
    assert _drag(page, "#bulk-file", "more.csv", "email\ncy@example.edu\n", "dragenter", "dragover", "drop") == [
        False,
        False,
        False,
    ]
    expect(bulk.locator("[data-drop-name]")).to_have_text("Chosen file: more.csv")
    assert page.locator("#bulk-file").evaluate("input => input.files[0].name") == "more.csv"
    steps.shot("bulk-add-dropped")

    # Replace members from a file: drag over the zone (it lights up), drop, and preview.
    page.get_by_role("link", name="Replace members from a file").click()
    page.get_by_role("heading", name="Upload a file").wait_for()
    page.evaluate("() => { window.dragged = undefined; }")
    zone = page.locator("#file").locator("xpath=ancestor::*[@data-drop-zone][1]")
    _drag(page, "#file", "members.csv", "email\nada@example.edu\ncy@example.edu\n", "dragenter", "dragover")
    expect(zone).to_have_class("drop-zone drop-zone-over")
    steps.shot("upload-dragged-over")
    _drag(page, "#file", "members.csv", "", "drop")
    expect(zone).to_have_class("drop-zone")
    expect(zone.locator("[data-drop-name]")).to_have_text("Chosen file: members.csv")
    steps.shot("upload-dropped")
    # The input is still an ordinary, focusable file input.
    page.locator("#file").focus()
    expect(page.locator("#file")).to_be_focused()

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#import-format")).to_be_visible()
    expect(page.locator("main")).to_contain_text("members.csv")
    # What was dropped is what was read: Ada stays, Ben is not in the file, Cy has no account (an error row).
    counts = page.locator('li.import-group[data-group="Team Alpha"] .group-counts')
    expect(counts).to_contain_text("0 join, 1 leaves, 1 stays")
    steps.shot("upload-preview")
    context.close()
