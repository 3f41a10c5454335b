"""The group picker in a real browser, in a tenant with 5,000 groups: typed, chosen with the keyboard, at 320
and 1280 px, each step a screenshot and an axe-core check; the batch action then adds the person to it."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from provisioning.models import Group
from provisioning.services import memberships
from tests.e2e.browser.test_ui_people import _people, _signed_in
from tests.support.browser import expect, needs_chromium

pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", [320, 1280])
def test_a_group_beyond_the_first_500_is_picked_by_typing_and_the_keyboard(live, browser, tenant, width):
    tool, _lms, _pages, live_rt = live
    ppl = _people(live_rt, tenant.id)["people"]
    with live_rt.db.transaction() as s:
        s.execute(insert(Group), [{"tenant_id": tenant.id, "name": f"Group {n:04d}"} for n in range(1, 5001)])
        wanted = s.scalar(select(Group.id).where(Group.tenant_id == tenant.id, Group.name == "Group 4321"))
    context, page, steps = _signed_in(browser, tool, live_rt, tenant.id, f"picker-{width}", width=width)
    page.goto(page.url.split("/ui/")[0] + "/ui/people")
    page.get_by_label("Select Dee Tester").check()
    page.locator("#action").select_option("add_to_groups")
    box = page.get_by_role("combobox", name="Groups")
    box.press_sequentially("4321", delay=30)
    option = page.get_by_role("option", name="Group 4321")
    option.wait_for()
    steps.shot("suggestions")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    box.press("Enter")
    chip = page.locator("#param-add_to_groups-group_ids-chosen")
    expect(chip).to_contain_text("Group 4321")
    expect(page.get_by_role("button", name="Remove Group 4321")).to_be_visible()
    steps.shot("chosen")
    page.get_by_role("button", name="Apply to selected").click()
    page.locator("#confirm-examples").wait_for()
    expect(page.locator("main")).to_contain_text("Group 4321")
    page.locator("#confirm").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    steps.shot("result")
    assert memberships.member_ids_among(live_rt, tenant.id, wanted, [ppl["Dee"].id]) == [ppl["Dee"].id]
    context.close()
