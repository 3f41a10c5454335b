"""The groups article's "populate the group ... by copying users from a branch" (a branch is this service's
department) in a real browser (headless Chromium), as an admin: the People list narrowed to one department
from the list of the tenant's departments, then a group page's "Copy the people of a department", followed
to its result; the same screens at 320 px without sideways scrolling.  Each step runs axe-core and leaves
test-artifacts/ui/departments-<px>-NN-<step>.png; outcomes are checked through the admin API.  Scoping
for a manager is proven over HTTP in tests/http/test_ui_departments.py."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, users
from tests.support.browser import Steps, expect, needs_chromium, signed_in

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _seed(rt, tenant_id: int) -> int:
    """Kim and Sam in Sales, Dee in Sales but deactivated, Eli in Engineering; an empty group."""
    for name, department in (("Kim", "Sales"), ("Sam", "Sales"), ("Dee", "Sales"), ("Eli", "Engineering")):
        person = users.create_user(
            rt,
            tenant_id,
            {
                "email": f"{name.lower()}@example.edu",
                "given_name": name,
                "family_name": "Branch",
                "department": department,
            },
            ACTOR,
        )
        if name == "Dee":
            users.update_user(rt, tenant_id, person.id, {"status": "deactivated"}, ACTOR)
    return groups.create_group(rt, tenant_id, {"name": "Sales kickoff"}, ACTOR).id


def _members(client, tenant, group_id: int) -> set[str]:
    r = client.get(f"/api/v1/groups/{group_id}/members?per_page=500", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {m["email"] for m in r.json["items"]}


def test_an_admin_finds_a_departments_people_and_copies_them_into_a_group(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    gid = _seed(live_rt, tenant.id)
    context, page = signed_in(browser, tool, live_rt, tenant.id)
    steps = Steps(page, "departments-1280")

    # The People list, narrowed to one department chosen from the tenant's departments.
    page.goto(f"{tool.origin}/ui/people")
    page.get_by_role("heading", name="People").wait_for()
    page.get_by_label("Department").select_option("Sales")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_label("Department")).to_have_value("Sales")
    rows = page.locator("#people tbody tr")
    expect(rows).to_have_count(3)
    for name in ("Kim Branch", "Sam Branch", "Dee Branch"):
        expect(page.locator("#people")).to_contain_text(name)
    expect(page.locator("#people")).not_to_contain_text("Eli Branch")
    steps.shot("people-in-sales")

    # The group page: copy the department's active people in, as one operation followed to its result.
    page.goto(f"{tool.origin}/ui/groups/{gid}")
    page.get_by_role("heading", name="Sales kickoff").wait_for()
    page.get_by_label("Copy the people of a department").select_option("Sales")
    steps.shot("copy-department")
    page.locator("#copy-department").get_by_role("button", name="Copy").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(page.locator("#op-status")).to_have_text("Finished")
    expect(page.locator("main")).to_contain_text("Add users to groups")
    steps.shot("copy-department-result")
    assert _members(client, tenant, gid) == {"kim@example.edu", "sam@example.edu"}  # Dee is deactivated

    page.goto(f"{tool.origin}/ui/groups/{gid}")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    steps.shot("group-with-department")

    # At 320 px (a narrow LMS side panel) the same screens stack instead of scrolling sideways.
    token = page.evaluate("document.body.getAttribute('data-launch-token')")
    narrow = browser.new_context(viewport={"width": 320, "height": 800})
    small = narrow.new_page()
    small_steps = Steps(small, "departments-320")
    problems = []
    for name, path in (("people-in-sales", "/ui/people?department=Sales"), ("group", f"/ui/groups/{gid}")):
        small.goto(f"{tool.origin}{path}{'&' if '?' in path else '?'}lt={token}")
        small.locator("main h1").wait_for()
        if not small.evaluate(NO_SIDEWAYS_SCROLL):
            problems.append(f"{name} at 320 px scrolls sideways")
        small_steps.shot(name)
    narrow.close()
    context.close()
    assert not problems, problems
