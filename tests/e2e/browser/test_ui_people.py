"""The people screens in a real browser: the batch-actions article (select people, each action with its picker,
confirm, the result and the action log), editing a person, and the admins' settings page (set the invitation
link, then invite someone and find the email in the outbox through the admin API).  Every step is a screenshot
under test-artifacts/ui/ and an axe-core check; the new pages are also opened at 320 px."""

from __future__ import annotations

from provisioning import permissions
from provisioning.activity import Actor
from provisioning.lti import registrations
from provisioning.services import groups, memberships, tenant_settings, users
from provisioning.services.signin_links import issue_signin_link
from tests.support.axe import assert_accessible
from tests.support.browser import SHOTS, Steps, expect, needs_chromium, pick, run_batch_action
from tests.support.factories import make_platform

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def _people(rt, tenant_id: int) -> dict:
    made = {
        n: users.create_user(
            rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy", "Dee")
    }
    made["Mia"] = users.create_user(
        rt,
        tenant_id,
        {"email": "mia@example.edu", "given_name": "Mia", "family_name": "Manager", "role": "manager"},
        ACTOR,
    )
    team = groups.create_group(rt, tenant_id, {"name": "Team Alpha"}, ACTOR)
    staff = groups.create_group(rt, tenant_id, {"name": "Staff room"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Science club"}, ACTOR)
    memberships.add_members(rt, tenant_id, team.id, user_ids=[made[n].id for n in ("Ada", "Ben", "Cy")], actor=ACTOR)
    return {"people": made, "team": team, "staff": staff}


def _signed_in(browser, tool, live_rt, tenant_id: int, prefix: str, width: int = 1100):
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.goto(issue_signin_link(live_rt, tenant_id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Groups").wait_for()
    return context, page, Steps(page, prefix)


def test_the_batch_actions_article_with_pickers_and_a_confirmation(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    world = _people(live_rt, tenant.id)
    ppl = world["people"]
    context, page, steps = _signed_in(browser, tool, live_rt, tenant.id, "people-batch")

    # People list: select three, nothing is chosen by default, change their language to Spanish.
    page.get_by_role("link", name="People").click()
    page.get_by_role("heading", name="People").wait_for()
    expect(page.locator("#action")).to_have_value("")
    for n in ("Ada", "Ben", "Cy"):
        page.get_by_label(f"Select {n} Tester").check()
    steps.shot("selected")
    run_batch_action(
        page,
        steps,
        "change_language",
        "language",
        lambda: page.locator("#param-change_language-language").select_option(label="Spanish (es)"),
    )
    expect(page.locator("#result-sentence")).to_have_text("Changed the language of 3 people.")
    assert all(users.get_user(live_rt, tenant.id, ppl[n].id).language == "es" for n in ("Ada", "Ben", "Cy"))

    # Share Dee with a manager, picked by name after a search.
    page.get_by_role("link", name="People").click()
    page.get_by_label("Select Dee Tester").check()
    page.locator("#action").select_option("share")
    pick(page, "Manager", "mia", "Mia Manager (mia@example.edu)")
    steps.shot("share-picker")

    def pick_manager():
        pass  # chosen above, with its suggestions on the screenshot

    run_batch_action(page, steps, "share", "share", pick_manager)
    mia = permissions.principal_for(live_rt, tenant.id, ppl["Mia"].id, "manager")
    assert ppl["Dee"].id in permissions.is_shared_with(live_rt, mia, [ppl["Dee"].id])

    # Change Ben's role to group manager.
    page.get_by_role("link", name="People").click()
    page.get_by_label("Select Ben Tester").check()
    run_batch_action(
        page,
        steps,
        "change_role",
        "role",
        lambda: page.locator("#param-change_role-role").select_option(label="Manager"),
    )
    assert users.get_user(live_rt, tenant.id, ppl["Ben"].id).role == "manager"

    # From a group's members: add two of them to another group, found with the picker's search box.
    page.get_by_role("link", name="Groups").first.click()
    page.get_by_role("link", name="Team Alpha").click()
    page.get_by_label("Select Ada Tester").check()
    page.get_by_label("Select Cy Tester").check()
    page.locator("#action").select_option("add_to_groups")

    def pick_group():
        pick(page, "Groups", "staff", "Staff room")

    run_batch_action(page, steps, "add_to_groups", "add-to-group", pick_group)
    assert sorted(
        memberships.member_ids_among(live_rt, tenant.id, world["staff"].id, [ppl["Ada"].id, ppl["Cy"].id])
    ) == sorted([ppl["Ada"].id, ppl["Cy"].id])

    expect(page.locator("#result-sentence")).to_have_text("Added 2 people to the groups.")
    # The action log lists what was done.
    page.get_by_role("link", name="See it in the action log").click()
    page.locator("main h1").wait_for()
    steps.shot("action-log")
    context.close()


def test_an_admin_edits_a_person_with_errors_beside_the_fields(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    world = _people(live_rt, tenant.id)
    ada = world["people"]["Ada"]
    with live_rt.db.transaction() as s:
        from provisioning.models import Tenant

        t = s.get_one(Tenant, tenant.id)
        t.settings = {**(t.settings or {}), "custom_attributes": [{"name": "location", "type": "string"}]}
    context, page, steps = _signed_in(browser, tool, live_rt, tenant.id, "person-edit")
    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Ada Tester").click()
    page.get_by_role("heading", name="Ada Tester").wait_for()
    steps.shot("person")
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Department").fill("Chemistry")
    page.get_by_label("location").fill("Berlin")
    page.get_by_label("Language").select_option(label="German (de)")
    page.get_by_label("Given name").fill("A" * 201)
    page.get_by_role("button", name="Save").click()
    page.locator("#error-summary").wait_for()
    expect(page.locator("#given_name-error")).to_contain_text("at most 200 characters")
    steps.shot("error-beside-the-field")
    assert users.get_user(live_rt, tenant.id, ada.id).department is None
    page.get_by_label("Given name").fill("Adaline")
    page.get_by_role("button", name="Save").click()
    page.locator("#saved").wait_for()
    steps.shot("saved")
    saved = users.get_user(live_rt, tenant.id, ada.id)
    assert (saved.given_name, saved.department, saved.language) == ("Adaline", "Chemistry", "de")
    assert saved.custom_attributes == {"location": "Berlin"}
    context.close()


def test_the_settings_page_sets_the_invitation_link_and_an_invitation_goes_out(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    world = _people(live_rt, tenant.id)
    spare = make_platform(live_rt, tenant.id, "old-moodle.example.edu", name="Old Moodle")
    context, page, steps = _signed_in(browser, tool, live_rt, tenant.id, "settings")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Settings").wait_for()
    steps.shot("settings")
    page.get_by_label("Invitation link").fill("not a link")
    page.get_by_role("button", name="Save settings").click()
    page.locator("#error-summary").wait_for()
    expect(page.locator("#join_url-error")).to_contain_text("Must be an http(s) URL")
    steps.shot("settings-error")
    page.get_by_label("Invitation link").fill("https://lms.example.edu/login")
    page.get_by_label("Sender name").fill("Acme Learning")
    page.get_by_label("Create groups").check()
    page.get_by_role("button", name="Save settings").click()
    page.locator("#saved").wait_for()
    steps.shot("settings-saved")
    got = tenant_settings.get_settings(live_rt, tenant.id)
    assert got["join_url"] == "https://lms.example.edu/login" and "create_groups" in got["manager_permissions"]

    # Revoke a platform, after a confirmation.
    page.get_by_role("link", name="Revoke Old Moodle").click()
    page.locator("#revoke-text").wait_for()
    steps.shot("revoke-confirm")
    page.get_by_role("button", name="Yes, revoke Old Moodle").click()
    page.locator("#revoked").wait_for()
    steps.shot("revoked")
    assert [r for r in registrations.list_registrations(live_rt, tenant.id, include_revoked=True) if r.id == spare.id][
        0
    ].revoked_at is not None

    # Invite someone new from a group: the invitation email is in the outbox (admin API).
    page.get_by_role("link", name="Groups").first.click()
    page.get_by_role("link", name="Team Alpha").click()
    page.locator('input[name="email"]').fill("newcomer@example.edu")
    page.locator('form[action$="/members"] button[type="submit"]').click()
    page.locator("main h1").wait_for()
    steps.shot("invited")
    log = client.get("/api/v1/emails", headers=tenant.admin).json
    sent = [e for e in log["items"] if e["to"] == "newcomer@example.edu"]
    assert sent and sent[0]["kind"] == "invitation", log
    assert world["team"].id
    context.close()


def test_the_new_pages_fit_320_pixels_and_pass_axe(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    world = _people(live_rt, tenant.id)
    ada = world["people"]["Ada"]
    problems = []
    for width in (320, 1280):
        context, page, _steps = _signed_in(browser, tool, live_rt, tenant.id, f"people-{width}", width=width)
        token = page.evaluate("document.body.getAttribute('data-launch-token')")
        for name, path in (
            ("person-edit", f"/ui/people/{ada.id}/edit"),
            ("settings", "/ui/settings"),
            ("people", "/ui/people"),
        ):
            page.goto(f"{tool.origin}{path}?lt={token}")
            page.locator("main h1").wait_for()
            page.screenshot(path=str(SHOTS / f"width-{width}-{name}.png"), full_page=True)
            if not page.evaluate(NO_SIDEWAYS_SCROLL):
                problems.append(f"{name} at {width} px scrolls sideways")
            assert_accessible(page, f"{name} at {width} px")
        context.close()
    assert not problems, problems
