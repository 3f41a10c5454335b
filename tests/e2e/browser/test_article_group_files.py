"""The two articles on groups kept from files, in Chromium from the UI alone, with the row actions of the
groups list (group-management-csv-groups.txt: create a group and upload its CSV with an ``email_address``
header, check the learners, save; search and filter; the pencil, download and envelope icons; Replace CSV
then Refresh) and groups-manual-and-automatic-rules.txt (associate users with a manual *or an automatic*
group through a CSV, from the sample file; export the list).  A group manager then keeps her own group
current from a file and downloads it.  Outcomes are checked through the admin API; every step runs axe-core
and leaves test-artifacts/ui/article-files-NN-*.png (the manager's: article-files-manager-NN-*.png)."""

from __future__ import annotations

import csv
import io

from provisioning.activity import Actor
from provisioning.services import group_managers, groups, memberships, users
from tests.support.browser import Steps, downloaded, expect, needs_chromium, pick, signed_in, signed_in_as

ACTOR = Actor("test", "api")
pytestmark = needs_chromium


def _seed(rt, tenant_id: int) -> dict:
    people = {
        n: users.create_user(
            rt,
            tenant_id,
            {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Learner", "department": "Nursing"},
            ACTOR,
        )
        for n in ("Ada", "Ben", "Cy", "Dee")
    }
    mia = users.create_user(
        rt, tenant_id, {"email": "mia@example.edu", "given_name": "Mia", "family_name": "Lead"}, ACTOR
    )
    automatic = groups.create_group(
        rt, tenant_id, {"name": "Engineers", "kind": "automatic", "rule": 'department eq "Engineering"'}, ACTOR
    )
    groups.create_group(rt, tenant_id, {"name": "Alumni"}, ACTOR)
    return {**people, "Mia": mia, "automatic": automatic}


def _members(client, tenant, group_id: int) -> dict[str, str]:
    """Email -> how they are a member (source), through the admin API."""
    got = client.get(f"/api/v1/groups/{group_id}/members?per_page=100", headers=tenant.admin)
    assert got.status_code == 200, got.get_data(as_text=True)
    return {m["email"]: m["source"] for m in got.get_json()["items"]}


def _csv_rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _commit(page) -> None:
    page.get_by_role("button", name="Commit the import").click()
    expect(page.locator("#result-sentence")).to_be_visible(timeout=30_000)
    expect(page.locator("#op-status")).to_have_text("Finished")


def _group_row(page, origin: str, name: str):
    """The groups list searched for ``name``; its row, with the row's actions menu open."""
    page.goto(f"{origin}/ui/groups")
    page.get_by_label("Name contains").fill(name)
    page.get_by_role("button", name="Search").click()
    row = page.locator("#groups tbody tr", has_text=name)
    expect(row).to_have_count(1)
    row.get_by_role("button", name=f"Actions for {name}").click()
    return row


def test_an_admin_keeps_groups_from_csv_files_with_the_row_actions(live, browser, tenant, client, tmp_path):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    context, page = signed_in(browser, tool, live_rt, tenant.id, accept_downloads=True)
    steps = Steps(page, "article-files")

    # + Create Group: a name, Create.
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name", exact=True).fill("Night shift")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("heading", name="Night shift").wait_for()
    gid = next(g.id for g in groups.list_groups(live_rt, tenant.id, q="Night shift").items)

    # Upload CSV (a header row named email_address), check the learners, save ("Update": commit).
    page.get_by_role("link", name="Replace members from a file").click()
    page.get_by_role("heading", name="Upload a file into Night shift").wait_for()
    with page.expect_download() as sample:
        page.locator('#kind-group ~ .templates a[href*="members.csv"]').click()
    assert sample.value.suggested_filename.endswith(".csv")
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "night-shift.csv",
            "mimeType": "text/csv",
            "buffer": b"email_address\nada@example.edu\nben@example.edu\ncy@example.edu\n",
        }
    )
    steps.shot("upload-csv-into-new-group")
    page.get_by_role("button", name="Preview").click()
    night = page.locator('li.import-group[data-group="Night shift"]')
    expect(night.locator(".group-counts")).to_contain_text("3 join, 0 leave, 0 stay")
    expect(night.locator(".people-joining")).to_contain_text("Ben Learner")
    steps.shot("check-the-learners")
    _commit(page)
    steps.shot("group-saved")
    assert _members(client, tenant, gid) == {
        "ada@example.edu": "csv",
        "ben@example.edu": "csv",
        "cy@example.edu": "csv",
    }

    # Search by name and filter by populated, then by kind.
    page.goto(f"{tool.origin}/ui/groups")
    page.get_by_label("Members").select_option("yes")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#groups tbody tr")).to_have_count(1)
    expect(page.locator("#groups")).to_contain_text("Night shift")
    page.get_by_label("Members").select_option("")
    page.get_by_label("Kind").select_option(label="Automatic")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#groups tbody tr")).to_have_count(1)
    expect(page.locator("#groups")).to_contain_text("Engineers")
    steps.shot("filter-by-kind")

    # The pencil icon: edit the group from its row.
    row = _group_row(page, tool.origin, "Night shift")
    steps.shot("row-actions")
    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Description").fill("Staff on the night rota.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#alerts")).to_contain_text("Your changes to the group were saved.")
    got = client.get(f"/api/v1/groups/{gid}", headers=tenant.admin).get_json()
    assert got["description"] == "Staff on the night rota."

    # The download icon: the group's data as CSV, from its row.
    row = _group_row(page, tool.origin, "Night shift")
    rows = _csv_rows(downloaded(page, row.get_by_role("link", name="Download CSV"), tmp_path / "night.csv"))
    assert sorted((r["First name"], r["Last name"], r["Email"]) for r in rows) == [
        ("Ada", "Learner", "ada@example.edu"),
        ("Ben", "Learner", "ben@example.edu"),
        ("Cy", "Learner", "cy@example.edu"),
    ]

    # The envelope icon: Subject and Message, then Send.
    row = _group_row(page, tool.origin, "Night shift")
    row.get_by_role("link", name="Message").click()
    page.locator("#msg-subject").fill("Rota for December")
    page.locator("#msg-body").fill("The December rota is on the board.")
    steps.shot("message-form")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#op-status")).to_have_text("Finished", timeout=30_000)
    emails = client.get("/api/v1/emails", headers=tenant.admin).get_json()["items"]
    assert sorted(e["to"] for e in emails if e["subject"] == "Rota for December") == [
        "ada@example.edu",
        "ben@example.edu",
        "cy@example.edu",
    ]

    # Replace CSV (a .txt file this time) then Refresh: the preview names who leaves before anything changes.
    page.goto(f"{tool.origin}/ui/groups/{gid}")
    page.get_by_role("link", name="Replace members from a file").click()
    expect(page.get_by_label("Replace: the file is the whole member list")).to_be_checked()
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "night-shift.txt",
            "mimeType": "text/plain",
            "buffer": b"email_address\nben@example.edu\ndee@example.edu\n",
        }
    )
    page.get_by_role("button", name="Preview").click()
    night = page.locator('li.import-group[data-group="Night shift"]')
    expect(night.locator(".group-counts")).to_contain_text("1 joins, 2 leave, 1 stays")
    expect(night.locator(".people-leaving")).to_contain_text("Ada Learner")
    expect(night.locator(".people-joining")).to_contain_text("Dee Learner")
    steps.shot("replace-preview")
    _commit(page)
    steps.shot("refreshed")
    assert set(_members(client, tenant, gid)) == {"ben@example.edu", "dee@example.edu"}

    # Associate users with an automatic group through a CSV: they are always included, whatever the rule.
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Members of one group").check()
    pick(page, "Into the group", "Engineers", "Engineers")
    page.get_by_label("Replace: the file is the whole member list").uncheck()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "engineers.csv", "mimeType": "text/csv", "buffer": b"email\nada@example.edu\n"}
    )
    page.get_by_role("button", name="Preview").click()
    engineers = page.locator('li.import-group[data-group="Engineers"]')
    expect(engineers).to_contain_text("automatic: always included 0 → 1")
    steps.shot("automatic-group-preview")
    _commit(page)
    assert _members(client, tenant, world["automatic"].id) == {"ada@example.edu": "included"}
    page.goto(f"{tool.origin}/ui/groups/{world['automatic'].id}")
    expect(page.locator("#members-table")).to_contain_text("Always included")
    steps.shot("automatic-group-always-included")

    # Export the users' list as CSV from the group's page.
    target = downloaded(page, page.get_by_role("link", name="Download members (CSV)"), tmp_path / "engineers.csv")
    assert [r["Email"] for r in _csv_rows(target)] == ["ada@example.edu"]
    context.close()


def test_a_group_manager_refreshes_her_group_from_a_file_and_downloads_it(live, browser, tenant, client, tmp_path):
    tool, _lms, _pages, live_rt = live
    world = _seed(live_rt, tenant.id)
    ward = groups.create_group(live_rt, tenant.id, {"name": "Ward 7"}, ACTOR)
    memberships.add_members(live_rt, tenant.id, ward.id, user_ids=[world["Ada"].id, world["Ben"].id], actor=ACTOR)
    group_managers.assign_manager(
        live_rt, tenant.id, ward.id, world["Mia"].id, ["view_users", "upload", "export"], ACTOR
    )
    context, page = signed_in_as(browser, tool, live_rt, tenant.id, world["Mia"].id, accept_downloads=True)
    steps = Steps(page, "article-files-manager")
    expect(page.locator("#groups tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Ward 7").click()
    page.get_by_role("link", name="Replace members from a file").click()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "ward7.csv", "mimeType": "text/csv", "buffer": b"email_address\nben@example.edu\n"}
    )
    page.get_by_role("button", name="Preview").click()
    ward_item = page.locator('li.import-group[data-group="Ward 7"]')
    expect(ward_item.locator(".group-counts")).to_contain_text("0 join, 1 leaves, 1 stays")
    expect(page.locator("#import-refusals")).to_have_count(0)
    steps.shot("replace-preview")
    _commit(page)
    steps.shot("refreshed")
    assert set(_members(client, tenant, ward.id)) == {"ben@example.edu"}

    row = _group_row(page, tool.origin, "Ward 7")
    expect(row.get_by_role("link", name="Delete")).to_have_count(0)
    steps.shot("row-actions")
    target = downloaded(page, row.get_by_role("link", name="Download CSV"), tmp_path / "ward7.csv")
    assert [r["Email"] for r in _csv_rows(target)] == ["ben@example.edu"]
    context.close()
