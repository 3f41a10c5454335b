"""Bulk add members into one group, and member files on automatic groups (issue 17, items 1 and 2).

Each test does one sentence of the reference articles end to end through the admin API, the
import job run by a real RQ worker, and (for invitations) the outbox sent to a real SMTP server:

* user-group-managers: "Click on Bulk add members, download the Excel template ..., and fill in
  the user details in Excel to add users to this specific User Group" / "A username and email are
  required" / "you can track the progress of the bulk action if you go to ... User action log".
* groups-manual-and-automatic-rules: "As a TA, you can associate users to either a manual or an
  automatic group using CSV files" / "If you used a bulk upload to create users, you can use the
  same file to add users to a group."
"""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from jobs.handlers import HANDLERS
from provisioning import activity, operations
from provisioning.errors import InvalidInput
from provisioning.models import EmailMessage, Invitation, Tenant, User
from provisioning.services import groups, memberships
from tests.support.api import commit, commit_and_run, preview, upload
from tests.support.environment import on_postgres
from tests.support.factories import ADMIN, make_users, member_emails
from tests.support.servers import parts

JOIN = "https://lms.example.edu/join"


def _join_url(rt, tenant_id, url=JOIN):
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "join_url": url}


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count(rt, model, **where) -> int:
    with rt.db.read() as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.scalar(stmt) or 0


def _members(client, tenant, group_id):
    r = client.get(f"/api/v1/groups/{group_id}/members?per_page=500", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {m["email"]: m for m in r.json["items"]}


def test_bulk_add_members_from_the_excel_template_creates_invites_and_adds_everyone(client, tenant, rt, run_jobs, mail):
    """ "download the Excel template ..., fill in the user details ... to add users to this specific User Group"."""
    _join_url(rt, tenant.id)
    make_users(rt, tenant.id, "grace@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Sales team"}, ADMIN)
    r = client.get("/api/v1/imports/templates/bulk-add-members.xlsx", headers=tenant.admin)
    assert r.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(r.data)).active.iter_rows())]
    assert header == ["username", "email", "first_name", "last_name", "language", "department"]
    content = _xlsx(
        [
            header,
            ["ada.l", "ada@example.com", "Ada", "Lovelace", "de-AT", "Research"],
            ["alan.t", "alan@example.com", "Alan", "Turing", "", ""],
            ["grace.h", "grace@example.com", "Grace", "Hopper", "", "Navy"],
            ["", "nobody@example.com", "No", "Name", "", ""],
            ["bad", "not-an-email", "", "", "", ""],
        ]
    )
    body = preview(client, tenant, content, "members.xlsx", group_id=group.id)
    # The preview: new users, existing users, errors per row, and the group before and after.
    assert body["format"] == "users" and body["status"] == "previewed"
    assert body["users_new"] == 2 and body["users_matched"] == 1
    assert {(e["row"], e["message"]) for e in body["errors"]} == {
        (5, "A username is required for a new user."),
        (6, next(e["message"] for e in body["errors"] if e["row"] == 6)),
    }
    assert body["groups"] == [
        {"id": group.id, "name": "Sales team", "new": False, "members_before": 0, "members_after": 3, "listed": 3}
    ]
    people = client.get(f"/api/v1/imports/{body['id']}/people", headers=tenant.admin).json
    assert [(p["row"], p["email"], p["new"]) for p in people["items"]] == [
        (2, "ada@example.com", True),
        (3, "alan@example.com", True),
        (4, "grace@example.com", False),
    ]
    new = client.get(f"/api/v1/imports/{body['id']}/people?kind=new", headers=tenant.admin).json
    assert new["total"] == 2 and new["items"][0]["username"] == "ada.l"
    assert _count(rt, User, tenant_id=tenant.id) == 1 and member_emails(rt, tenant.id, group.id) == set()

    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded", op.errors
    assert op.result["users_created"] == 2 and op.result["members_added"] == 3 and op.result["invited"] == 2
    assert op.result["errors"] == 0
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com", "grace@example.com"}
    with rt.db.read() as s:
        created = {u.email: u for u in s.scalars(select(User).where(User.tenant_id == tenant.id))}
    assert created["ada@example.com"].status == "invited" and created["ada@example.com"].username == "ada.l"
    assert created["ada@example.com"].department == "Research" and created["grace@example.com"].department == "Navy"
    # One invitation email per new user, in their language, delivered by the real SMTP server.
    assert sorted(m["To"] for m in mail.received) == ["ada@example.com", "alan@example.com"]
    [ada] = mail.to("ada@example.com")
    assert ada["Subject"] == "Sie sind eingeladen, Acme University beizutreten"
    text, html = parts(ada)
    assert "Hallo Ada" in text and "/join/" in text and '<html lang="de">' in html
    [alan] = mail.to("alan@example.com")
    assert alan["Subject"] == "You are invited to join Acme University" and "Hello Alan" in parts(alan)[0]
    assert _count(rt, Invitation, tenant_id=tenant.id) == 2
    # The user action log (operations) shows the job and its result; the email log ties the emails to it.
    log = client.get("/api/v1/operations?type=import", headers=tenant.admin).json
    assert [(o["id"], o["status"]) for o in log["items"]] == [(op.id, "succeeded")]
    assert log["items"][0]["result"]["invited"] == 2
    emails = client.get(f"/api/v1/emails?operation_id={op.id}", headers=tenant.admin).json
    assert emails["total"] == 2 and {e["status"] for e in emails["items"]} == {"sent"}


def test_the_same_users_file_that_created_users_adds_them_to_a_group(client, tenant, rt, run_jobs, mail):
    """ "If you used a bulk upload to create users, you can use the same file to add users to a group."."""
    _join_url(rt, tenant.id)
    users_file = "email,username,first_name,last_name,role,language,department\n"
    users_file += "ada@example.com,ada,Ada,Lovelace,learner,en,Research\nalan@example.com,alan,Alan,Turing,manager,,\n"
    created = preview(client, tenant, users_file, "users.csv")
    assert created["format"] == "users" and created["group_id"] is None
    op = commit_and_run(client, tenant, run_jobs, rt, created["id"])
    assert op.result["users_created"] == 2 and "invited" not in {k for k, v in op.result.items() if v}
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    # The same file, sent with the group: no longer a 400 "Only with format=members".
    for form in ({"group_id": group.id}, {"group_id": group.id, "format": "users"}):
        r = upload(client, tenant, users_file, "users.csv", **form)
        assert r.status_code == 201, r.json
    body = r.json
    assert body["format"] == "users" and body["users_new"] == 0 and body["users_matched"] == 2
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["members_added"] == 2 and op.result["invited"] == 0
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com"}
    assert mail.received == []  # nobody new: no invitation


def test_a_bulk_add_that_creates_people_needs_the_join_link_before_commit(client, tenant, rt, run_jobs):
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, "username,email\nada,ada@example.com\n", group_id=group.id)
    assert body["users_new"] == 1
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=tenant.admin)
    assert r.status_code == 400 and "join_url" in r.json["message"]
    assert _count(rt, User, tenant_id=tenant.id) == 0


def test_a_users_file_names_no_new_group(client, tenant):
    r = upload(client, tenant, "email,username,language\nada@example.com,ada,en\n", group_name="New one")
    assert r.status_code == 400 and "group_id" in r.json["message"]


def test_a_bulk_add_chunk_retried_after_a_crash_adds_and_invites_each_person_once(client, tenant, rt, run_jobs, mail):
    """Nothing lost or doubled: a worker dies after some chunks, another resumes from the checkpoint."""
    _join_url(rt, tenant.id)
    make_users(rt, tenant.id, *(f"old{i}@example.com" for i in range(5)))
    group = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    lines = ["username,email,first_name,language"]
    lines += [f"old{i},old{i}@example.com,Old{i}," for i in range(5)]
    lines += [f"new{i},new{i}@example.com,New{i},{'de' if i % 2 else 'en'}" for i in range(20)]
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 4, 0  # fixed chunks
    body = preview(client, tenant, "\n".join(lines) + "\n", group_id=group.id)
    op_id = commit(client, tenant, body["id"])
    claimed = operations.claim(rt, op_id, "worker-that-dies")
    checkpoint = dict(claimed.checkpoint or {})
    for _ in range(3):  # start + two chunks of rows, committed with their checkpoint
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    assert 0 < len(member_emails(rt, tenant.id, group.id)) < 25
    rt.settings.operation_stale_seconds = 0
    time.sleep(0.01)
    run_jobs()
    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "succeeded" and op.attempts == 2, op.errors
    assert op.result["users_created"] == 20 and op.result["members_added"] == 25 and op.result["invited"] == 20
    assert len(member_emails(rt, tenant.id, group.id)) == 25
    assert _count(rt, EmailMessage, tenant_id=tenant.id, kind="invitation") == 20
    assert _count(rt, Invitation, tenant_id=tenant.id) == 20
    assert sorted(m["To"] for m in mail.received) == sorted(f"new{i}@example.com" for i in range(20))
    assert sum(1 for m in mail.received if m["Subject"].startswith("Sie sind eingeladen")) == 10
    added = activity.list_events(rt, tenant.id, action="group.member_added", per_page=500)
    assert added.total == 25  # one event per membership: no chunk applied twice


# --- member files on automatic groups ---------------------------------------------------------


def _automatic(rt, tenant_id, name="Physicists"):
    return groups.create_group(
        rt, tenant_id, {"name": name, "kind": "automatic", "rule": 'department eq "Physics"'}, ADMIN
    )


def test_a_member_file_on_an_automatic_group_makes_its_people_always_included(client, tenant, rt, run_jobs):
    """ "you can associate users to either a manual or an automatic group using CSV files"."""
    ids = make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    ids |= make_users(rt, tenant.id, "marie@example.com", department="Physics")
    group = _automatic(rt, tenant.id)
    run_jobs()
    assert member_emails(rt, tenant.id, group.id) == {"marie@example.com"}
    body = preview(client, tenant, "email_address\nada@example.com\nalan@example.com\n", group_id=group.id)
    assert body["format"] == "members"
    [entry] = body["groups"]
    assert entry["automatic"] is True and entry["included_before"] == 0 and entry["included_after"] == 2
    assert any("always-included" in w for w in body["warnings"])
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["included"] == 2 and op.result["applied"] == 2, op.errors
    members = _members(client, tenant, group.id)
    assert set(members) == {"ada@example.com", "alan@example.com", "marie@example.com"}
    assert members["ada@example.com"]["source"] == "included" and members["ada@example.com"]["always_included"]
    assert members["marie@example.com"]["source"] == "rule" and not members["marie@example.com"]["always_included"]
    # Re-evaluating the rule never removes them.
    r = client.post(f"/api/v1/groups/{group.id}/evaluate", headers=tenant.admin)
    assert r.status_code in (200, 202), r.json
    run_jobs()
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com", "marie@example.com"}
    with rt.db.read() as s:
        from provisioning.models import Group

        assert sorted(s.get(Group, group.id).settings["always_include"]) == sorted(
            [ids["ada@example.com"], ids["alan@example.com"]]
        )


def test_replace_mode_on_an_automatic_group_replaces_its_include_list(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    make_users(rt, tenant.id, "marie@example.com", department="Physics")
    group = _automatic(rt, tenant.id)
    run_jobs()
    first = preview(client, tenant, "email\nada@example.com\nalan@example.com\n", group_id=group.id)
    commit_and_run(client, tenant, run_jobs, rt, first["id"])
    body = preview(client, tenant, "email\nalan@example.com\ngrace@example.com\n", group_id=group.id, mode="replace")
    assert body["groups"][0]["included_before"] == 2 and body["groups"][0]["included_after"] == 2
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["removed"] == 1, op.errors
    members = _members(client, tenant, group.id)
    # ada left (no longer included, the rule doesn't match her); marie stays by the rule.
    assert set(members) == {"alan@example.com", "grace@example.com", "marie@example.com"}
    assert {e for e, m in members.items() if m["source"] == "included"} == {"alan@example.com", "grace@example.com"}


def test_a_users_file_on_an_automatic_group_creates_invites_and_includes(client, tenant, rt, run_jobs, mail):
    _join_url(rt, tenant.id)
    group = _automatic(rt, tenant.id)
    body = preview(client, tenant, "username,email,department\nada,ada@example.com,Maths\n", group_id=group.id)
    assert body["format"] == "users" and body["groups"][0]["automatic"] is True
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["included"] == 1 and op.result["invited"] == 1, op.errors
    assert _members(client, tenant, group.id)["ada@example.com"]["source"] == "included"
    assert [m["To"] for m in mail.received] == ["ada@example.com"]


def test_a_member_file_adds_to_a_manual_group_as_before_with_source_csv(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Manual"}, ADMIN)
    memberships.add_members(rt, tenant.id, group.id, emails=["ada@example.com"], actor=ADMIN)
    members = _members(client, tenant, group.id)
    assert members["ada@example.com"]["source"] == "manual" and members["ada@example.com"]["always_included"] is False


def test_the_people_list_is_the_tenants_own_and_names_a_bad_kind(client, tenant, other_tenant, rt):
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, "username,email\nada,ada@example.com\n", group_id=group.id)
    r = client.get(f"/api/v1/imports/{body['id']}/people", headers=other_tenant.admin)
    assert r.status_code == 404
    r = client.get(f"/api/v1/imports/{body['id']}/people?kind=everyone", headers=tenant.admin)
    assert r.status_code in (400, 422) and "kind" in str(r.json)
    r = client.get("/api/v1/imports/templates/bulk-add-members.csv", headers=tenant.admin)
    assert r.status_code == 200 and r.data.decode("utf-8-sig").splitlines()[0] == (
        "username,email,first_name,last_name,language,department"
    )


def test_people_created_by_a_bulk_add_are_invited_even_if_the_group_goes_meanwhile(client, tenant, rt, run_jobs, mail):
    _join_url(rt, tenant.id)
    group = groups.create_group(rt, tenant.id, {"name": "Short-lived"}, ADMIN)
    lines = "username,email\n" + "".join(f"p{i},p{i}@example.com\n" for i in range(6))
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 2, 0  # fixed chunks
    body = preview(client, tenant, lines, group_id=group.id)
    op_id = commit(client, tenant, body["id"])
    claimed = operations.claim(rt, op_id, "worker")
    checkpoint = dict(claimed.checkpoint or {})
    for _ in range(2):  # start + the first chunk
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    groups.delete_group(rt, tenant.id, group.id, ADMIN)
    while checkpoint is not None:
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    assert _count(rt, User, tenant_id=tenant.id) == 6
    assert _count(rt, EmailMessage, tenant_id=tenant.id, kind="invitation") == 6


@on_postgres  # pysqlite's savepoints (INSERT in a SAVEPOINT) commit early: SQLite can't roll a chunk back whole
def test_a_chunk_that_fails_midway_is_rolled_back_whole_and_redone_once(client, tenant, rt, run_jobs, mail):
    """A chunk that breaks after creating and adding its people (here: the join link is gone when it
    invites) leaves nothing behind; the job resumed from its checkpoint creates, adds and invites each once."""
    _join_url(rt, tenant.id)
    group = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    lines = "username,email\n" + "".join(f"p{i},p{i}@example.com\n" for i in range(10))
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 4, 0  # fixed chunks
    body = preview(client, tenant, lines, group_id=group.id)
    op_id = commit(client, tenant, body["id"])
    claimed = operations.claim(rt, op_id, "worker-that-fails")
    checkpoint = dict(claimed.checkpoint or {})
    for _ in range(2):  # start + the first chunk of 4
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    _join_url(rt, tenant.id, "")  # the second chunk creates and adds its people, then can't invite them
    with pytest.raises(InvalidInput, match="join_url"):
        HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    assert _count(rt, User, tenant_id=tenant.id) == 4 and len(member_emails(rt, tenant.id, group.id)) == 4
    assert _count(rt, EmailMessage, tenant_id=tenant.id, kind="invitation") == 4
    _join_url(rt, tenant.id)
    rt.settings.operation_stale_seconds = 0
    time.sleep(0.01)
    run_jobs()
    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "succeeded" and op.attempts == 2, op.errors
    assert op.result["users_created"] == 10 and op.result["members_added"] == 10 and op.result["invited"] == 10
    assert _count(rt, User, tenant_id=tenant.id) == 10 and len(member_emails(rt, tenant.id, group.id)) == 10
    assert _count(rt, EmailMessage, tenant_id=tenant.id, kind="invitation") == 10
    assert sorted(m["To"] for m in mail.received) == sorted(f"p{i}@example.com" for i in range(10))
    created = activity.list_events(rt, tenant.id, action="user.created", per_page=500)
    assert created.total == 10
