"""The batch-actions article (shared/reference/batch-actions-on-members.txt), the actions the other browser
tests leave out, in Chromium from the UI alone: find the group, View members, tick people, choose each batch
action (resend invite, add task, notification message to someone not joined yet, assign certificate, export
CSV, password reset email, deactivate, reactivate, delete), confirm, read the result; then the user action
log filtered by bulk action type and date, and the email log with the message's body.  A group manager then
runs the actions their permission set allows on their own group.  Outcomes are checked through the admin API;
every step runs axe-core and leaves test-artifacts/ui/article-batch-NN-*.png (the manager's:
article-batch-manager-NN-*.png).  Share, add to teams, change role and change language are walked in
test_ui_people.py; deactivate with its confirmation also in test_ui_browser.py."""

from __future__ import annotations

import csv
import io
from datetime import date

from provisioning.activity import Actor
from provisioning.batch.registry import ACTIONS
from provisioning.services import group_managers, groups, memberships, tenant_settings, users
from tests.support.browser import Steps, downloaded, expect, needs_chromium, run_batch_action, signed_in, signed_in_as

ACTOR = Actor("test", "api")
pytestmark = needs_chromium


def _seed(rt, tenant_id: int) -> dict:
    people = {
        n: users.create_user(
            rt, tenant_id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy")
    }
    mia = users.create_user(
        rt, tenant_id, {"email": "mia@example.edu", "given_name": "Mia", "family_name": "Lead"}, ACTOR
    )
    team = groups.create_group(rt, tenant_id, {"name": "Team Alpha"}, ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Team Beta"}, ACTOR)
    memberships.add_members(rt, tenant_id, team.id, user_ids=[u.id for u in people.values()], actor=ACTOR)
    tenant_settings.update_settings(
        rt,
        tenant_id,
        {"join_url": "https://lms.example.edu/join", "password_reset_url": "https://lms.example.edu/reset"},
        ACTOR,
    )
    return {**people, "Mia": mia, "team": team}


def _tick(page, *emails: str) -> None:
    """Tick the checkbox on the left of each member's row (found by their email)."""
    for email in emails:
        page.locator("#members-table tbody tr", has_text=email).locator('input[name="user_ids"]').check()


def _fill(page, values: dict[str, str]):
    """A ``fill`` for run_batch_action: type each value into the field with that id."""
    return lambda: [page.locator(f"#{field}").fill(value) for field, value in values.items()]


def _back_to_group(page) -> None:
    page.get_by_role("link", name="Back to the group").click()
    page.locator("#members-table").wait_for()


def _api(client, tenant, path: str):
    got = client.get(f"/api/v1{path}", headers=tenant.admin)
    assert got.status_code == 200, got.get_data(as_text=True)
    return got.get_json()


def test_an_admin_runs_each_batch_action_of_the_article_on_a_groups_members(live, browser, tenant, client, tmp_path):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    ada, ben, cy = world["Ada"], world["Ben"], world["Cy"]
    context, page = signed_in(browser, tool, live_rt, tenant.id, accept_downloads=True)
    steps = Steps(page, "article-batch")

    # Find the group, then "View members" from its row's actions.
    page.get_by_label("Name contains").fill("alpha")
    page.get_by_role("button", name="Search").click()
    row = page.locator("#groups tbody tr", has_text="Team Alpha")
    expect(page.locator("#groups tbody tr")).to_have_count(1)
    row.get_by_role("button", name="Actions for Team Alpha").click()
    steps.shot("find-group-actions")
    row.get_by_role("link", name="Manage members").click()
    page.get_by_role("heading", name="Team Alpha").wait_for()

    # Someone who has not joined yet: added by email, so invited.
    page.get_by_label("Add member by email").fill("ivo@example.edu")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#members-table tbody tr", has_text="ivo@example.edu")).to_contain_text("invited")
    ivo_id = next(u["id"] for u in _api(client, tenant, "/users?q=ivo")["items"] if u["email"] == "ivo@example.edu")

    # The list of batch actions: every one the article names, in words.
    options = page.locator("#action option").all_inner_texts()[1:]
    assert options == [str(a.label) for a in ACTIONS.values()]
    _tick(page, "ivo@example.edu", "ada@example.edu")
    steps.shot("members-ticked")

    # Resend invite: Ivo gets the invitation again; Ada, active, gets none.
    run_batch_action(page, steps, "resend_invite", "resend-invite")
    invitations = _api(client, tenant, "/emails?kind=invitation")["items"]
    assert sum(1 for e in invitations if e["to"] == "ivo@example.edu") == 2
    assert all(e["to"] != "ada@example.edu" for e in invitations)

    # Notification message: kept for Ivo until he joins, delivered to Ada now.
    _back_to_group(page)
    _tick(page, "ivo@example.edu", "ada@example.edu")

    message = {"param-notify-subject": "Fire drill", "param-notify-body": "Thursday at 10, meet in the car park."}
    run_batch_action(page, steps, "notify", "notification", _fill(page, message), confirms=("Fire drill",))
    ivo_notes = _api(client, tenant, f"/users/{ivo_id}/notifications")["items"]
    assert [(n["subject"], n["delivered_at"]) for n in ivo_notes] == [("Fire drill", None)]
    ada_notes = _api(client, tenant, f"/users/{ada.id}/notifications")["items"]
    assert ada_notes[0]["subject"] == "Fire drill" and ada_notes[0]["delivered_at"] is not None

    # Add task, with a due date.
    _back_to_group(page)
    _tick(page, "ada@example.edu", "ben@example.edu")

    task = {"param-add_task-title": "Read the safety handbook", "param-add_task-due_date": "2030-03-01"}
    confirms = ("Read the safety handbook", "Mar 1, 2030")  # what was typed, repeated before it is sent
    run_batch_action(page, steps, "add_task", "add-task", _fill(page, task), confirms=confirms)
    for person in (ada, ben):
        tasks = _api(client, tenant, f"/users/{person.id}/tasks")["items"]
        assert [(t["title"], t["due_date"]) for t in tasks] == [("Read the safety handbook", "2030-03-01")]

    # Assign certificate: shown on the person's page too.
    _back_to_group(page)
    _tick(page, "ada@example.edu")

    certificate = {
        "param-assign_certificate-name": "First aid",
        "param-assign_certificate-issued_on": str(date.today()),
    }
    run_batch_action(page, steps, "assign_certificate", "certificate", _fill(page, certificate))
    certs = _api(client, tenant, f"/users/{ada.id}/certificates")["items"]
    assert [(c["name"], c["issued_on"]) for c in certs] == [("First aid", date.today().isoformat())]
    _back_to_group(page)
    page.get_by_role("link", name="Ada Tester").first.click()
    expect(page.locator("#person-certificates")).to_contain_text("First aid")
    steps.shot("person-certificate")
    page.go_back()
    page.locator("#members-table").wait_for()

    # Export CSV of the selected people, downloaded from the result.
    _tick(page, "ada@example.edu", "ben@example.edu", "cy@example.edu")
    run_batch_action(page, steps, "export_csv", "export-csv")
    target = downloaded(page, page.locator("#export-link"), tmp_path / "export.csv")
    exported = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert sorted(r["email"] for r in exported) == ["ada@example.edu", "ben@example.edu", "cy@example.edu"]

    # Send password reset email (active people only).
    _back_to_group(page)
    _tick(page, "ben@example.edu")
    run_batch_action(page, steps, "password_reset", "password-reset")
    resets = [e for e in _api(client, tenant, "/emails?kind=password_reset")["items"]]
    assert [e["to"] for e in resets] == ["ben@example.edu"]

    # Deactivate (the open task goes, the certificate stays), then reactivate.
    _back_to_group(page)
    _tick(page, "ben@example.edu")
    run_batch_action(page, steps, "deactivate", "deactivate")
    assert _api(client, tenant, f"/users/{ben.id}")["status"] == "deactivated"
    _back_to_group(page)
    _tick(page, "ben@example.edu")
    run_batch_action(page, steps, "reactivate", "reactivate")
    assert _api(client, tenant, f"/users/{ben.id}")["status"] == "active"

    # Delete, permanently, after a confirmation that names the person.
    _back_to_group(page)
    _tick(page, "cy@example.edu")
    page.locator("#action").select_option("delete")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("#confirm-examples")).to_have_text("Cy Tester")
    expect(page.locator("#confirm")).to_have_text("Yes, delete 1 user")
    steps.shot("delete-confirm")
    page.locator("#confirm").click()
    expect(page.locator("#op-status")).to_contain_text("Finished", timeout=30_000)
    steps.shot("delete-result")
    assert client.get(f"/api/v1/users/{cy.id}", headers=tenant.admin).status_code == 404
    _back_to_group(page)
    expect(page.locator("#members-table")).not_to_contain_text("cy@example.edu")

    # The user action log, filtered by bulk action type and date.
    page.get_by_role("link", name="Action log", exact=True).click()
    page.get_by_label("Bulk action type").select_option(label="Deactivate users")
    page.get_by_label("From").fill(date.today().isoformat())
    page.get_by_label("Until").fill(date.today().isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#operations tbody tr")).to_have_count(1)
    expect(page.locator("#operations")).to_contain_text("Deactivate users")
    steps.shot("action-log-by-type-and-date")
    page.get_by_label("From").fill("2020-01-01")
    page.get_by_label("Until").fill("2020-01-31")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#operations tbody")).to_have_text("Nothing in the log matches these filters.")

    # The email log: the password reset email, opened to read its body.
    page.get_by_role("link", name="Emails", exact=True).click()
    email = page.locator("#emails li.email", has_text="ben@example.edu").filter(has_text="password")
    email.locator("summary").first.click()
    expect(email.locator(".email-body")).to_be_visible()
    assert email.locator(".email-body").inner_text().strip()
    # The batch action's notification is named as one, not as an automatic (triggered) notification.
    expect(page.locator("#emails li.email", has_text="Fire drill").locator(".email-why")).to_have_text(
        "Notification message"
    )
    steps.shot("email-log-body")
    context.close()


def test_a_group_manager_runs_the_batch_actions_their_permission_set_allows(live, browser, tenant, client):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    team = world["team"]
    group_managers.assign_manager(
        live_rt, tenant.id, team.id, world["Mia"].id, ["view_users", "batch_actions", "export", "message"], ACTOR
    )
    context, page = signed_in_as(browser, tool, live_rt, tenant.id, world["Mia"].id)
    steps = Steps(page, "article-batch-manager")
    expect(page.locator("#groups tbody tr")).to_have_count(1)  # only her group
    row = page.locator("#groups tbody tr", has_text="Team Alpha")
    row.get_by_role("button", name="Actions for Team Alpha").click()
    row.get_by_role("link", name="Manage members").click()
    page.get_by_role("heading", name="Team Alpha").wait_for()

    # The account-changing actions only an administrator may start are not offered.
    options = page.locator("#action option").all_inner_texts()[1:]
    for admin_only in ("Delete", "Change role", "Share with a manager"):
        assert admin_only not in options, options
    assert {"Add task", "Notification message", "Export as CSV", "Deactivate"} <= set(options)
    _tick(page, "ada@example.edu", "cy@example.edu")
    steps.shot("members-ticked")
    run_batch_action(page, steps, "add_task", "add-task", _fill(page, {"param-add_task-title": "Book a mentor"}))
    for person in (world["Ada"], world["Cy"]):
        tasks = _api(client, tenant, f"/users/{person.id}/tasks")["items"]
        assert [t["title"] for t in tasks] == ["Book a mentor"]
        assert tasks[0]["assigned_by"]
    expect(page.locator("#result-sentence")).to_contain_text("2")
    context.close()
