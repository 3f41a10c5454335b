"""An administrator manages the tenant's roles in a real browser (/ui/roles), at 320 and 1280 px: reads what
each built-in role allows, creates a custom role, gives it to a person through the admin API, is refused
deleting it while that person has it, and deletes it once nobody does.  Every step runs axe-core and leaves
a screenshot in test-artifacts/ui/ (roles-<px>-NN-<step>.png)."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import roles, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.browser import Steps, expect, needs_chromium, open_menu

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def test_an_admin_creates_gives_and_deletes_a_custom_role(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    ann = users.create_user(live_rt, tenant.id, {"email": "ann@example.edu", "given_name": "Ann"}, ACTOR)
    for width in (320, 1280):
        label = f"Auditor {width}"
        key = f"auditor_{width}"
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        steps = Steps(page, f"roles-{width}")
        page.goto(issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Groups").wait_for()
        if width < 768:
            open_menu(page)
        page.get_by_role("link", name="Roles").click()
        page.get_by_role("heading", name="Roles", exact=True).wait_for()
        expect(page.locator("#roles")).to_contain_text("Report viewer")
        expect(page.locator("#roles")).to_contain_text("Sees every group, person, member list, report and log")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"/ui/roles scrolls sideways at {width} px"
        steps.shot("built-in-roles")

        page.get_by_label("Name", exact=True).fill(label)
        page.get_by_label("Description").fill("Reads the logs")
        page.get_by_label("See the action, activity and email logs").check()
        page.get_by_label("See the list of people").check()
        steps.shot("new-role-filled")
        page.get_by_role("button", name="Create role").click()
        expect(page.get_by_role("status")).to_contain_text(f"The role {label} was created.")
        expect(page.locator("#roles")).to_contain_text("Reads the logs")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"/ui/roles with a custom role scrolls sideways at {width} px"
        steps.shot("custom-role-created")
        assert roles.get_role(live_rt, tenant.id, key).permissions == ("view_users", "view_activity")

        r = client.patch(f"/api/v1/users/{ann.id}", json={"role": label}, headers=tenant.admin)
        assert r.status_code == 200 and r.json["role"] == key
        page.reload()
        page.get_by_role("button", name=f"Delete {label}").click()
        expect(page.get_by_role("alert")).to_contain_text("1 person has it")
        steps.shot("delete-refused")

        client.patch(f"/api/v1/users/{ann.id}", json={"role": "learner"}, headers=tenant.admin)
        page.get_by_role("button", name=f"Delete {label}").click()
        expect(page.get_by_role("status")).to_contain_text("The role was deleted.")
        expect(page.locator("#roles")).not_to_contain_text(label)
        steps.shot("custom-role-deleted")
        assert key not in [r.key for r in roles.list_tenant_roles(live_rt, tenant.id)]
        context.close()
