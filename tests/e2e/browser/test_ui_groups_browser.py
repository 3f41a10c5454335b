"""The groups article's flow in a real browser (headless Chromium): an admin creates a group, edits it,
assigns a manager with the person picker, copies members in, downloads them, messages them and deletes
the group; the assigned manager signs in and manages exactly that group.  Every step leaves a
screenshot in test-artifacts/ui/ (groups-<px>-NN-<step>.png) and runs axe-core; the group pages are
also checked at 320 px for sideways scrolling.  Outcomes are checked through the admin API."""

from __future__ import annotations

import csv
import io

from provisioning.activity import Actor
from provisioning.services import groups, memberships, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.browser import Steps, expect, needs_chromium, pick, signed_in_as

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _seed(rt, tenant_id: int) -> dict:
    people = [
        users.create_user(
            rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy")
    ]
    ria = users.create_user(
        rt,
        tenant_id,
        {"email": "ria.okafor.with.a.long.address@example.edu", "given_name": "Ria", "family_name": "Okafor"},
        ACTOR,
    )
    alpha = groups.create_group(
        rt, tenant_id, {"name": "Team Alpha", "description": "Everyone who starts in the spring term."}, ACTOR
    )
    groups.create_group(rt, tenant_id, {"name": "Team Empty"}, ACTOR)
    memberships.add_members(rt, tenant_id, alpha.id, user_ids=[u.id for u in people], actor=ACTOR)
    return {"people": people, "ria": ria, "alpha": alpha}


def _fits(page, problems: list[str], what: str) -> None:
    if not page.evaluate(NO_SIDEWAYS_SCROLL):
        problems.append(f"{what} scrolls sideways ({page.evaluate('document.scrollingElement.scrollWidth')} px)")


def test_an_admin_walks_the_groups_article_and_the_assigned_manager_manages_their_group(
    live, browser, tenant, client, tmp_path
):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    steps = Steps(page, "groups-1280")
    page.goto(issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Groups").wait_for()
    steps.shot("list")

    # Create: name, description, manual.
    page.get_by_role("link", name="New group").click()
    page.get_by_role("heading", name="Create group").wait_for()
    page.get_by_role("button", name="Create group").click()  # no name: the error sits by the field
    expect(page.locator("#name-error")).to_contain_text("Must not be empty")
    steps.shot("create-error")
    page.get_by_label("Name", exact=True).fill("Onboarding 2026")
    page.get_by_label("Description").fill("New starters of 2026.")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("heading", name="Onboarding 2026").wait_for()
    expect(page.locator("#alerts")).to_contain_text("The group was created.")
    expect(page.locator("#no-members")).to_be_visible()
    expect(page.locator("#message")).to_have_count(0)  # nobody to message yet
    steps.shot("created")
    gid = next(g.id for g in groups.list_groups(live_rt, tenant.id, q="Onboarding").items)

    # Edit.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Description").fill("Everyone who starts in 2026.")
    steps.shot("edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#alerts")).to_contain_text("Your changes to the group were saved.")
    got = client.get(f"/api/v1/groups/{gid}", headers=tenant.admin).get_json()
    assert got["description"] == "Everyone who starts in 2026."

    # Assign a manager: the person picker (htmx), the permissions, a confirmation.
    page.get_by_label("Find a person by name or email").fill("okafor")
    page.get_by_role("radio", name="Ria Okafor").wait_for()
    page.get_by_label("Send messages to the members").uncheck()
    steps.shot("manager-picker")
    page.get_by_role("button", name="Assign manager…").click()
    expect(page.locator("#confirm-text")).to_contain_text("Ria Okafor")
    steps.shot("manager-confirm")
    page.get_by_role("button", name="Yes, make Ria Okafor a manager").click()
    expect(page.locator("#alerts")).to_contain_text("Ria Okafor now manages this group.")
    expect(page.locator("#manager-names")).to_have_text("Ria Okafor")
    steps.shot("manager-assigned")
    managers = client.get(f"/api/v1/groups/{gid}/managers", headers=tenant.admin).get_json()["managers"]
    assert [(m["name"], m["how"]) for m in managers] == [("Ria Okafor", "assigned")]
    assert "message" not in managers[0]["permissions"] and "export" in managers[0]["permissions"]

    # Copy members from another group (a picker of groups by name).
    pick(page, "Copy members from another group", "alpha", "Team Alpha")
    page.get_by_role("button", name="Copy", exact=True).click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(page.locator("#op-status")).to_have_text("Finished")
    steps.shot("copied")
    assert client.get(f"/api/v1/groups/{gid}", headers=tenant.admin).get_json()["member_count"] == 3
    page.goto(f"{tool.origin}/ui/groups/{gid}")
    page.get_by_role("heading", name="Onboarding 2026").wait_for()
    expect(page.locator("#members-table tbody tr")).to_have_count(3)
    steps.shot("dashboard-with-members")

    # Download CSV and Excel.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download members (CSV)").click()
    target = tmp_path / "members.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert sorted(r["Email"] for r in rows) == ["ada@example.edu", "ben@example.edu", "cy@example.edu"]
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel", exact=True).click()
    assert info.value.suggested_filename.endswith(".xlsx")

    # Message the group: the recipients are counted before sending.
    expect(page.locator("#msg-recipients")).to_contain_text("It goes to 3 people")
    page.locator("#msg-subject").fill("Welcome")
    page.locator("#msg-body").fill("See you on Monday.")
    steps.shot("message")
    page.get_by_role("button", name="Send message").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(page.locator("#op-status")).to_have_text("Finished")
    steps.shot("message-sent")
    emails = client.get("/api/v1/emails", headers=tenant.admin).get_json()["items"]
    assert sum(1 for e in emails if e.get("subject") == "Welcome") == 3

    # The list: kinds, courses, managers and the row actions menu.
    page.goto(f"{tool.origin}/ui/groups")
    row = page.locator("#groups tbody tr", has_text="Onboarding 2026")
    expect(row).to_contain_text("Ria Okafor")
    row.get_by_role("button", name="Actions").click()
    expect(row.get_by_role("link", name="Delete")).to_be_visible()
    steps.shot("list-actions-menu")

    # At 320 px the group pages stack instead of scrolling sideways.
    narrow = browser.new_context(viewport={"width": 320, "height": 800})
    small = narrow.new_page()
    token = page.evaluate("document.body.getAttribute('data-launch-token')")
    small_steps = Steps(small, "groups-320")
    for name, path in (
        ("list", "/ui/groups"),
        ("dashboard", f"/ui/groups/{gid}"),
        ("edit", f"/ui/groups/{gid}/edit"),
        ("delete-confirm", f"/ui/groups/{gid}/delete"),
    ):
        small.goto(f"{tool.origin}{path}?lt={token}")
        small.locator("main h1").wait_for()
        _fits(small, problems, f"{name} at 320 px")
        small_steps.shot(name)
    narrow.close()

    # The assigned manager: her launch made her a learner; the assignment makes her this group's manager.
    ria_context, ria_page = signed_in_as(browser, tool, live_rt, tenant.id, world["ria"].id)
    ria_steps = Steps(ria_page, "groups-manager-1280")
    expect(ria_page.locator("#groups tbody tr")).to_have_count(1)
    expect(ria_page.locator("#groups")).to_contain_text("Onboarding 2026")
    ria_row = ria_page.locator("#groups tbody tr", has_text="Onboarding 2026")
    ria_row.get_by_role("button", name="Actions").click()
    expect(ria_row.get_by_role("link", name="Download CSV")).to_be_visible()
    expect(ria_row.get_by_role("link", name="Delete")).to_have_count(0)
    expect(ria_row.get_by_role("link", name="Message")).to_have_count(0)
    ria_steps.shot("manager-list")
    ria_row.get_by_role("link", name="Manage members").click()
    ria_page.get_by_role("heading", name="Onboarding 2026").wait_for()
    expect(ria_page.locator("#members-table tbody tr")).to_have_count(3)
    expect(ria_page.locator("#edit-group")).to_have_count(0)
    ria_page.get_by_label("Add member by email").fill("ria.okafor.with.a.long.address@example.edu")
    ria_page.get_by_role("button", name="Add", exact=True).click()
    expect(ria_page.locator("#alerts")).to_contain_text("Invitation sent to ria.okafor")
    ria_steps.shot("manager-dashboard")
    ria_page.goto(f"{tool.origin}/ui/groups/{world['alpha'].id}")
    expect(ria_page.locator("main")).to_contain_text("You don't have access to this group.")
    ria_steps.shot("manager-refused-elsewhere")
    ria_context.close()

    # Delete: the confirmation names the group and its members and says they stay.
    page.goto(f"{tool.origin}/ui/groups/{gid}")
    page.get_by_role("link", name="Delete this group").click()
    expect(page.locator("#delete-text")).to_contain_text("Onboarding 2026")
    expect(page.locator("#delete-text")).to_contain_text("4 members")
    steps.shot("delete-confirm")
    page.get_by_role("button", name="Yes, delete Onboarding 2026").click()
    expect(page.locator("#alerts")).to_contain_text("The group Onboarding 2026 was deleted.")
    steps.shot("deleted")
    assert client.get(f"/api/v1/groups/{gid}", headers=tenant.admin).status_code == 404
    assert client.get(f"/api/v1/users/{world['people'][0].id}", headers=tenant.admin).status_code == 200
    context.close()
    assert not problems, problems
