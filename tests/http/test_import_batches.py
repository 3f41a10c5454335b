"""User-based (email, FirstName, LastName, Groupname, Groupname, ...) and group-based
(Groupname, Email, Email, ...) batch files: detection, new groups, errors, applying."""

from provisioning import activity
from provisioning.services import groups
from tests.support.api import commit_and_run, preview, report, upload
from tests.support.factories import ADMIN, make_users, member_emails


def _group(rt, tenant_id, name):
    return next(g for g in groups.list_groups(rt, tenant_id, per_page=500).items if g.name == name)


def test_user_based_file_adds_each_user_to_every_group_on_its_row(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    groups.create_group(rt, tenant.id, {"name": "Mathematics"}, ADMIN)
    body = preview(
        client,
        tenant,
        "email,FirstName,LastName,Groupname,Groupname\n"
        "ada@example.com,Ada,Lovelace,Mathematics,Engineering\n"
        "alan@example.com,Alan,Turing,mathematics,\n",
    )
    assert body["format"] == "user-groups" and body["errors"] == []
    assert [(g["name"], g["new"], g["members_after"]) for g in body["groups"]] == [
        ("Engineering", True, 1),
        ("Mathematics", False, 2),
    ]
    assert groups.list_groups(rt, tenant.id).total == 1  # the preview created nothing
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["groups_created"] == 1 and op.result["applied"] == 3
    assert member_emails(rt, tenant.id, _group(rt, tenant.id, "Mathematics").id) == {
        "ada@example.com",
        "alan@example.com",
    }
    engineering = _group(rt, tenant.id, "Engineering")
    assert engineering.source == "csv" and member_emails(rt, tenant.id, engineering.id) == {"ada@example.com"}
    assert len(activity.list_events(rt, tenant.id, action="group.created", channel="job").items) == 1


def test_a_user_repeated_on_a_second_row_is_an_error_for_that_row(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(
        client,
        tenant,
        "email,FirstName,LastName,Groupname,Groupname\nada@example.com,Ada,L,Maths,\nAda@Example.com,Ada,L,Physics,\n",
    )
    assert [(e["row"], e["message"]) for e in body["errors"]] == [(3, "Duplicate: this user is already on row 2.")]
    assert [g["name"] for g in body["groups"]] == ["Maths"]


def test_an_altered_header_of_the_user_based_format_is_a_file_error(client, tenant, rt):
    r = upload(
        client, tenant, "email,FirstName,LastName,Groupname,Group\nada@example.com,A,L,Maths,X\n", format="user-groups"
    )
    assert r.status_code == 400
    assert "'Group'" in r.json["message"] and "email,FirstName,LastName,Groupname,Groupname" in r.json["message"]
    r = upload(client, tenant, "Courriel,FirstName,Groupname\nada@example.com,A,Maths\n", format="user-groups")
    assert r.status_code == 400 and "'Courriel'" in r.json["message"]


def test_group_based_file_creates_groups_with_their_members(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    body = preview(
        client,
        tenant,
        "Groupname;Email;Email;Email\nPhysics;ada@example.com;alan@example.com;\n"
        "Chemistry;grace@example.com;ghost@example.com;ada@example.com\n",
        filename="groups.txt",
    )
    assert body["format"] == "group-users" and body["delimiter"] == ";"
    assert [(e["row"], e["value"]) for e in body["errors"]] == [(3, "ghost@example.com")]
    assert {g["name"]: g["members_after"] for g in body["groups"]} == {"Physics": 2, "Chemistry": 2}
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["applied"] == 4 and op.result["errors"] == 0
    assert member_emails(rt, tenant.id, _group(rt, tenant.id, "Chemistry").id) == {
        "grace@example.com",
        "ada@example.com",
    }
    statuses = sorted((r[0], r[1], r[2]) for r in report(client, tenant, body["id"]))
    assert ("3", "error", "ghost@example.com") in statuses and len(statuses) == 5


def test_preview_edits_rename_a_group_and_drop_rows_before_commit(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    body = preview(
        client,
        tenant,
        "Groupname,Email,Email\nPhysics,ada@example.com,alan@example.com\nChem,grace@example.com,nobody@example.com\n",
    )
    assert body["error_count"] == 1
    r = client.patch(
        f"/api/v1/imports/{body['id']}",
        headers=tenant.admin,
        json={
            "rename_groups": {"chem": "Chemistry"},
            "exclude_rows": [3],
            "exclude_members": [{"group": "Physics", "email": "ALAN@example.com"}],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["error_count"] == 0 and r.json["excluded"] == 3
    assert [(g["name"], g["members_after"]) for g in r.json["groups"]] == [("Physics", 1)]
    bad = client.patch(f"/api/v1/imports/{body['id']}", headers=tenant.admin, json={"rename_groups": {"Nope": "X"}})
    assert bad.status_code == 400 and "Nope" in str(bad.json["errors"])
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["applied"] == 1
    assert [g.name for g in groups.list_groups(rt, tenant.id).items] == ["Physics"]
    assert member_emails(rt, tenant.id, _group(rt, tenant.id, "Physics").id) == {"ada@example.com"}
    again = client.patch(f"/api/v1/imports/{body['id']}", headers=tenant.admin, json={"exclude_rows": [2]})
    assert again.status_code == 409


def test_renaming_a_new_group_in_a_preview_commits_under_the_new_name(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(client, tenant, "email_address\nada@example.com\n", group_name="Cohort 2025")
    r = client.patch(
        f"/api/v1/imports/{body['id']}", headers=tenant.admin, json={"rename_groups": {"Cohort 2025": "Cohort 2026"}}
    )
    assert r.json["groups"][0]["name"] == "Cohort 2026"
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert [g.name for g in groups.list_groups(rt, tenant.id).items] == ["Cohort 2026"]


def test_all_or_nothing_refuses_a_commit_while_errors_remain(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(
        client, tenant, "Groupname,Email,Email\nPhysics,ada@example.com,ghost@example.com\n", all_or_nothing=True
    )
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=tenant.admin)
    assert r.status_code == 400 and "all_or_nothing" in r.json["message"]
    assert groups.list_groups(rt, tenant.id).total == 0
    client.patch(f"/api/v1/imports/{body['id']}", headers=tenant.admin, json={"exclude_emails": ["ghost@example.com"]})
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["applied"] == 1


def test_all_or_nothing_applies_nothing_when_a_user_vanished_after_the_preview(client, tenant, rt, run_jobs):
    from provisioning.models import User

    ids = make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    body = preview(
        client, tenant, "Groupname,Email,Email\nPhysics,ada@example.com,alan@example.com\n", all_or_nothing=True
    )
    op_id = client.post(f"/api/v1/imports/{body['id']}/commit", headers=tenant.admin).json["operation_id"]
    with rt.db.transaction() as s:  # the user leaves between the commit and the job
        s.delete(s.get(User, ids["alan@example.com"]))
    run_jobs()
    from provisioning import operations

    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "failed" and "all_or_nothing" in op.errors[0]["message"]
    assert groups.list_groups(rt, tenant.id).total == 0
    assert client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json["status"] == "failed"
