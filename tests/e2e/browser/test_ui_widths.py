"""The main pages from a narrow LMS side panel (320 px) to a desktop (1280 px): nothing scrolls sideways,
axe-core finds no serious or critical violation, and each page and width leaves a screenshot in
test-artifacts/ui/ (width-<px>-<page>.png) for a person to look at."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.axe import assert_accessible
from tests.support.browser import SHOTS, needs_chromium, open_menu

ACTOR = Actor("test", "api")
WIDTHS = (320, 1280)
pytestmark = needs_chromium

NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _world(rt, tenant_id: int) -> dict[str, str]:
    """A group with long names and emails (the hard case for a narrow screen), a person, an operation."""
    people = [
        users.create_user(
            rt,
            tenant_id,
            {"email": f"{n.lower()}.with.a.rather.long.address@example.edu", "given_name": n, "family_name": "Tester"},
            ACTOR,
        )
        for n in ("Ada", "Ben", "Cy")
    ]
    team = groups.create_group(
        rt, tenant_id, {"name": "Team Alpha", "description": "Everyone who starts in the spring term."}, ACTOR
    )
    empty = groups.create_group(rt, tenant_id, {"name": "Team Empty"}, ACTOR)
    testers = groups.create_group(
        rt, tenant_id, {"name": "Testers", "kind": "automatic", "rule": 'name.familyName eq "Tester"'}, ACTOR
    )
    memberships.add_members(rt, tenant_id, team.id, user_ids=[u.id for u in people], actor=ACTOR)
    op = batch_actions.request_batch_action(rt, tenant_id, "export_csv", {}, ACTOR, user_ids=[u.id for u in people])
    return {
        "groups": "/ui/groups",
        "group": f"/ui/groups/{team.id}",
        "empty-group": f"/ui/groups/{empty.id}",
        "new-group": "/ui/groups/new",
        "edit-group": f"/ui/groups/{team.id}/edit",
        "delete-group": f"/ui/groups/{team.id}/delete",
        "edit-rule": f"/ui/groups/{testers.id}/rule",
        "people": "/ui/people",
        "person": f"/ui/people/{people[0].id}",
        "person-edit": f"/ui/people/{people[0].id}/edit",
        "settings": "/ui/settings",
        "notifications": "/ui/settings/notifications",
        "notification": "/ui/settings/notifications/group_added",
        "upload": "/ui/imports/new",
        "logs": "/ui/logs",
        "activity": "/ui/activity",
        "emails": "/ui/emails",
        "operation": f"/ui/operations/{op.id}",
        "my-page": "/ui/me",
        "roles": "/ui/roles",
    }


def test_the_main_pages_fit_from_320_to_1280_pixels_and_pass_axe(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    paths = _world(live_rt, tenant.id)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        # What the CSP blocked (an inline style or script in a template would show here).
        page.on(
            "console",
            lambda m, w=width: (
                problems.append(f"at {w} px the CSP refused: {m.text}") if "Content Security Policy" in m.text else None
            ),
        )
        page.goto(issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Groups").wait_for()
        token = page.evaluate("document.body.getAttribute('data-launch-token')")
        for name, path in paths.items():
            page.goto(f"{tool.origin}{path}?lt={token}")
            page.locator("main h1").wait_for()
            page.screenshot(path=str(SHOTS / f"width-{width}-{name}.png"), full_page=True)
            if not page.evaluate(NO_SIDEWAYS_SCROLL):
                wide = page.evaluate("document.scrollingElement.scrollWidth")
                problems.append(f"{name} at {width} px scrolls sideways ({wide} px wide)")
            assert_accessible(page, f"{name} at {width} px")
        if width < 768:  # below md the navbar folds behind its toggler, which opens it
            open_menu(page)
            page.get_by_role("link", name="People").click()
            page.get_by_role("heading", name="People").wait_for()
        context.close()
    assert problems == []
