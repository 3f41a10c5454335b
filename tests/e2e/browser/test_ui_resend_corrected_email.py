"""The batch-actions article's "Resend invite" after an invitation went to a mistyped address (issue 16): the
admin adds a person by a mistyped email on a group page, opens the person, corrects the email, resends the
invitation from the group's members, and the new invitation in the outbox is addressed to the corrected email."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, tenant_settings
from tests.support.browser import Steps, expect, needs_chromium, run_batch_action, signed_in

ACTOR = Actor("test", "api")
pytestmark = needs_chromium


def _invitations(client, tenant) -> list[str]:
    got = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin)
    assert got.status_code == 200, got.get_data(as_text=True)
    return [e["to"] for e in got.get_json()["items"]]


def test_an_admin_corrects_a_mistyped_email_and_resends_the_invitation(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    groups.create_group(live_rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
    tenant_settings.update_settings(live_rt, tenant.id, {"join_url": "https://lms.example.edu/join"}, ACTOR)
    context, page = signed_in(browser, tool, live_rt, tenant.id)
    steps = Steps(page, "resend-corrected-email")

    # On the group page, the admin adds Ivo by a mistyped address: an invited member, invited there.
    row = page.locator("#groups tbody tr", has_text="Team Alpha")
    row.get_by_role("button", name="Actions for Team Alpha").click()
    row.get_by_role("link", name="Manage members").click()
    page.get_by_role("heading", name="Team Alpha").wait_for()
    page.get_by_label("Add member by email").fill("ivo@exmaple.edu")
    page.get_by_role("button", name="Add", exact=True).click()
    member = page.locator("#members-table tbody tr", has_text="ivo@exmaple.edu")
    expect(member).to_contain_text("invited")
    steps.shot("added-mistyped")
    assert _invitations(client, tenant) == ["ivo@exmaple.edu"]

    # Open the person, then their edit form, and correct the address.
    member.get_by_role("link", name="ivo@exmaple.edu").first.click()
    page.locator("#edit-person").click()
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_value("ivo@exmaple.edu")
    # A slip while correcting it is said beside the field, and nothing is saved.
    email.fill("ivo.example.edu")
    page.locator("#save-person").click()
    expect(page.locator("#email-error")).to_contain_text("is not an email address")
    steps.shot("email-refused")
    email = page.get_by_label("Email", exact=True)
    email.fill("ivo@example.edu")
    steps.shot("email-corrected")
    page.locator("#save-person").click()
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("main")).to_contain_text("ivo@example.edu")
    steps.shot("person-saved")

    # Back on the group, tick Ivo and resend the invitation: it goes to the corrected address.
    page.locator("#person-groups").get_by_role("link", name="Team Alpha").click()
    member = page.locator("#members-table tbody tr", has_text="ivo@example.edu")
    member.locator('input[name="user_ids"]').check()
    run_batch_action(page, steps, "resend_invite", "resend-invite")
    assert sorted(_invitations(client, tenant)) == ["ivo@example.edu", "ivo@exmaple.edu"]
    context.close()
