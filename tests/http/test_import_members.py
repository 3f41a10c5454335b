"""Member-list imports (format "members") through the admin API, applied by the RQ job."""

from provisioning import activity
from provisioning.services import groups
from tests.support.api import commit_and_run, preview, report, upload
from tests.support.factories import ADMIN, make_users, member_emails


def test_preview_changes_nothing_and_commit_adds_the_listed_members(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(
        client,
        tenant,
        "email_address,first_name,last_name\nada@example.com,Ada,Lovelace\nALAN@example.com,Alan,Turing\n",
        group_id=group.id,
    )
    assert body["format"] == "members" and body["encoding"] == "utf-8" and body["delimiter"] == ","
    assert body["groups"] == [
        {"id": group.id, "name": "Maths", "new": False, "members_before": 0, "members_after": 2, "listed": 2}
    ]
    assert body["users_matched"] == 2 and body["errors"] == [] and body["status"] == "previewed"
    assert member_emails(rt, tenant.id, group.id) == set()
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded", op.errors
    assert op.result["applied"] == 2 and op.result["errors"] == 0
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com"}
    events = activity.list_events(rt, tenant.id, action="group.member_added").items
    assert len(events) == 2 and {e.channel for e in events} == {"job"}
    assert client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json["status"] == "applied"


def test_unknown_emails_are_row_errors_and_the_valid_rows_still_apply(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, "Email\nada@example.com\nnobody@example.com\nnot-an-email\n", group_id=group.id)
    errors = {(e["row"], e["column"], e["value"]): e["message"] for e in body["errors"]}
    assert set(errors) == {(3, "Email", "nobody@example.com"), (4, "Email", "not-an-email")}
    assert "No user of this tenant has this email" in errors[(3, "Email", "nobody@example.com")]
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["applied"] == 1
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com"}
    rows = report(client, tenant, body["id"])
    assert [(r[0], r[1]) for r in rows] == [("2", "applied"), ("3", "error"), ("4", "error")]


def test_replace_mode_leaves_exactly_the_listed_members(client, tenant, rt, run_jobs):
    ids = make_users(rt, tenant.id, "a@example.com", "b@example.com", "c@example.com", "d@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    from provisioning.services import memberships

    memberships.add_members(rt, tenant.id, group.id, user_ids=[ids["a@example.com"], ids["b@example.com"]], actor=ADMIN)
    body = preview(
        client, tenant, "email\nb@example.com\nc@example.com\nd@example.com\n", group_id=group.id, mode="replace"
    )
    assert body["groups"][0]["members_before"] == 2 and body["groups"][0]["members_after"] == 3
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded"
    assert member_emails(rt, tenant.id, group.id) == {"b@example.com", "c@example.com", "d@example.com"}
    assert op.result["removed"] == 1 and op.result["applied"] == 2 and op.result["skipped"] == 1
    removed = activity.list_events(rt, tenant.id, action="group.member_removed").items
    assert [e.details["user_id"] for e in removed] == [ids["a@example.com"]]


def test_a_member_list_can_create_its_group(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(client, tenant, "email_address\nada@example.com\n", group_name="New cohort")
    assert body["groups"][0]["new"] is True and body["groups"][0]["name"] == "New cohort"
    assert groups.list_groups(rt, tenant.id).total == 0
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    [group] = groups.list_groups(rt, tenant.id).items
    assert group.name == "New cohort" and group.source == "csv" and group.member_count == 1


def test_duplicate_and_ragged_rows_are_reported_with_their_row_numbers(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(
        client,
        tenant,
        "email,first_name,last_name\nada@example.com,Ada,L\nalan@example.com,Alan\n"
        "ADA@example.com,Ada,L\nalan@example.com,Alan,T,extra\n",
        group_id=group.id,
    )
    messages = {e["row"]: e["message"] for e in body["errors"]}
    assert set(messages) == {3, 4, 5}
    assert "Row 3 has 2 cells but the header has 3" in messages[3]
    assert messages[4] == "Duplicate: this user is already on row 2."
    assert "Row 5 has 4 cells" in messages[5]


def test_header_variants_are_matched_ignoring_case_spaces_and_underscores(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    for header in ("Email", "EMAIL_ADDRESS", "Email Address", " e-mail ", "email_address"):
        body = preview(client, tenant, f"{header},First Name,LAST_NAME\nada@example.com,Ada,L\n", group_id=group.id)
        assert body["format"] == "members" and body["users_matched"] == 1, header


def test_a_missing_email_header_is_a_file_error_naming_the_expected_header(client, tenant, rt):
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    r = upload(client, tenant, "mail_adress,first_name\nada@example.com,Ada\n", group_id=group.id)
    assert r.status_code == 400
    assert "email_address" in r.json["message"] and "file" in r.json["errors"]


def test_a_member_list_needs_a_group(client, tenant, rt):
    r = upload(client, tenant, "email_address\nada@example.com\n")
    assert r.status_code == 400 and "group_id" in r.json["errors"]


def test_another_tenants_group_and_import_are_not_found(client, tenant, other_tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    theirs = groups.create_group(rt, other_tenant.id, {"name": "Theirs"}, ADMIN)
    assert upload(client, tenant, "email\nada@example.com\n", group_id=theirs.id).status_code == 404
    mine = groups.create_group(rt, tenant.id, {"name": "Mine"}, ADMIN)
    body = preview(client, tenant, "email\nada@example.com\n", group_id=mine.id)
    for method, path in (("get", ""), ("get", "/errors"), ("get", "/report.csv"), ("post", "/commit"), ("patch", "")):
        kwargs = {"json": {"exclude_rows": [2]}} if method == "patch" else {}
        r = getattr(client, method)(f"/api/v1/imports/{body['id']}{path}", headers=other_tenant.admin, **kwargs)
        assert r.status_code == 404, (method, path)
    assert client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json["status"] == "previewed"


def test_imports_are_listed_newest_first_with_their_status(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    first = preview(client, tenant, "email\nada@example.com\n", group_name="One")
    commit_and_run(client, tenant, run_jobs, rt, first["id"])
    second = preview(client, tenant, "email\nada@example.com\n", group_name="Two")
    listing = client.get("/api/v1/imports", headers=tenant.admin).json
    assert [(i["id"], i["status"]) for i in listing["items"]] == [(second["id"], "previewed"), (first["id"], "applied")]
    assert listing["total"] == 2 and listing["items"][0]["group_name"] == "Two"


def test_a_committed_import_cannot_be_committed_twice(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(client, tenant, "email\nada@example.com\n", group_name="Once")
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    again = client.post(f"/api/v1/imports/{body['id']}/commit", headers=tenant.admin)
    assert again.status_code == 409 and "already committed" in again.json["message"]
