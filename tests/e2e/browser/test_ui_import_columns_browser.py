"""The groups article's step 6, "Map your headers, then import the file", walked in Chromium from the UI alone.

A member list whose columns are named in German is refused as it stands, its columns are named on the mapping
step (first without the email column: the page says what is missing), then it is previewed and committed.
Every step runs axe-core and leaves a screenshot in test-artifacts/ui/ (mapheaders-NN-*.png); the mapping page
is checked at 320 px too.
"""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.browser import Steps, expect, needs_chromium, pick, serving

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
GERMAN = b"E-Mail Adresse;Vorname\nada@example.edu;Ada\nben@example.edu;Benedikt\n"


def test_a_file_with_german_headers_is_mapped_previewed_and_committed(rt, browser, tenant):
    with serving(rt.settings, rt.db) as (tool, _lms, _pages, live_rt):
        for name in ("ada", "ben"):
            users.create_user(live_rt, tenant.id, {"email": f"{name}@example.edu", "given_name": name}, ACTOR)
        team = groups.create_group(live_rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Groups").wait_for()
        steps = Steps(page, "mapheaders")

        page.get_by_role("link", name="Upload", exact=True).click()
        page.get_by_label("Members of one group").check()
        pick(page, "Into the group", "alpha", "Team Alpha")
        page.get_by_label("File", exact=True).set_input_files(
            {"name": "leute.csv", "mimeType": "text/csv", "buffer": GERMAN}
        )
        page.get_by_role("button", name="Preview").click()
        page.get_by_role("heading", name="Say what each column holds").wait_for()
        expect(page.locator("#columns-error")).to_contain_text("names we don't know")
        expect(page.locator("#column-0-samples")).to_contain_text("ada@example.edu, ben@example.edu")
        steps.shot("columns-of-the-file")

        # Only the first name chosen: the page says what is missing, the choice kept.
        page.get_by_label("Column “Vorname”").select_option(label="First name")
        page.get_by_role("button", name="Preview with these columns").click()
        expect(page.locator("#columns-error")).to_contain_text("Choose which column holds the email address.")
        expect(page.get_by_label("Column “Vorname”")).to_have_value("given_name")
        steps.shot("email-column-missing")

        page.set_viewport_size({"width": 320, "height": 800})
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "the mapping page scrolls sideways at 320 px"
        steps.shot("columns-at-320px")
        page.set_viewport_size({"width": 1280, "height": 900})

        page.get_by_label("Column “E-Mail Adresse”").select_option(label="Email address")
        page.get_by_role("button", name="Preview with these columns").click()
        page.locator("#import-format").wait_for()
        team_row = page.locator('li.import-group[data-group="Team Alpha"]')
        expect(team_row.locator(".group-counts")).to_contain_text("2 join")
        steps.shot("preview-after-mapping")

        page.get_by_role("button", name="Commit the import").click()
        expect(page.locator("#result-sentence")).to_be_visible(timeout=30_000)
        expect(page.locator("#result-sentence")).to_contain_text("2 added")
        steps.shot("result")
        context.close()
        members = memberships.list_members(live_rt, tenant.id, team.id).items
        assert sorted((u.email, u.given_name) for u, _ in members) == [
            ("ada@example.edu", "Ada"),
            ("ben@example.edu", "Benedikt"),
        ]
