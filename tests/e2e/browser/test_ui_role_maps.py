"""An administrator edits the tenant's role maps on the settings page in a real browser, at 1280 and 320 px: adds
a row, fills "role the identity provider sends -> tenant role", sees a mistake beside its row, fixes it and saves.
Every step runs axe-core and leaves a screenshot in test-artifacts/ui/ (role-maps-<px>-NN-<step>.png)."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import tenant_settings
from tests.support.browser import Steps, expect, needs_chromium, signed_in

pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def test_an_admin_maps_identity_provider_roles_to_tenant_roles(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    for width in (1280, 320):
        tenant_settings.update_settings(live_rt, tenant.id, {}, Actor("test", "api"), unset=["scim_role_map"])
        context, page = signed_in(browser, tool, live_rt, tenant.id, width=width)
        steps = Steps(page, f"role-maps-{width}")
        page.goto(f"{tool.origin}/ui/settings")
        editor = page.locator("#f-scim_role_map")
        editor.scroll_into_view_if_needed()
        page.get_by_label("Role value the identity provider sends 1").fill("Faculty")
        page.get_by_label("Tenant role 1").first.select_option("curator")
        with page.expect_navigation():  # the form comes back with one more row (nothing saved)
            editor.get_by_role("button", name="Add a row").click()
        page.get_by_label("Role value the identity provider sends 2").fill("faculty ")
        editor.get_by_label("Tenant role 2").select_option("reporter")
        page.locator("#f-scim_role_map").scroll_into_view_if_needed()
        steps.shot("two-rows")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#scim_role_map-1-error")).to_contain_text("'faculty' is listed twice.")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"/ui/settings scrolls sideways at {width} px"
        steps.shot("error-beside-the-row")
        page.get_by_label("Role value the identity provider sends 2").fill("Dean")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#saved")).to_be_visible()
        page.locator("#f-scim_role_map").scroll_into_view_if_needed()
        steps.shot("saved")
        got = tenant_settings.get_settings(live_rt, tenant.id)["scim_role_map"]
        assert got == {"Faculty": "curator", "Dean": "reporter"}
        context.close()
