"""Spreadsheets as people make them (issue 18, defects 6-9), through the admin API on real XLSX files.

Real files put a title or blank rows above the header and an instructions sheet before the data
(the reference articles' templates come with one); the header row and sheet are found, and the
preview says which were used.  Every figure after a run is the run's own; a row number that is
not in the preview is refused; an enrollment completed without a time gets the time of the change.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
from sqlalchemy import select

from jobs.handlers import HANDLERS
from provisioning import operations
from provisioning.models import Enrollment, User
from provisioning.services import courses, groups
from tests.support.api import commit, commit_and_run, preview, upload
from tests.support.factories import ADMIN, make_users, member_emails


def xlsx(*sheets: tuple[str, list[list[object]]]) -> bytes:
    """A workbook written by openpyxl: (title, rows) per sheet, in order."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


INSTRUCTIONS = [
    ["How to fill in this file"],
    ["email – the user's email address (mandatory)"],
    ["FirstName, LastName – optional"],
    ["Groupname – the groups to add the user to; add Groupname columns for more groups."],
]


# --- defect 6: the header row and the sheet ------------------------------------------------------


def test_a_title_and_blank_rows_above_the_header_are_skipped_and_the_preview_says_which_row(
    client, tenant, rt, run_jobs
):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    content = xlsx(
        (
            "Members",
            [
                [],
                ["Maths members, spring term"],
                [],
                ["email_address", "first_name"],
                ["ada@example.com", "Ada"],
                ["alan@example.com", "Alan"],
            ],
        )
    )
    body = preview(client, tenant, content, "members.xlsx", group_id=group.id)
    assert (body["format"], body["sheet"], body["header_row"]) == ("members", "Members", 4)
    assert body["errors"] == [] and body["users_matched"] == 2 and body["rows"] == 2
    assert any("row 4 of the sheet 'Members'" in w for w in body["warnings"])
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com"}


def test_the_data_sheet_behind_an_instructions_sheet_is_read(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    content = xlsx(
        ("Instructions", INSTRUCTIONS),
        (
            "Groups",
            [
                ["Staff groups"],
                ["email", "FirstName", "LastName", "Groupname"],
                ["ada@example.com", "Ada", "Lovelace", "Maths"],
                ["nobody"],
            ],
        ),
    )
    body = preview(client, tenant, content, "groups.xlsx")
    assert (body["format"], body["sheet"], body["header_row"]) == ("user-groups", "Groups", 2)
    assert [g["name"] for g in body["groups"]] == ["Maths"]
    # Row numbers are the sheet's own: the bad row is row 4 of "Groups".
    assert [(e["row"], e["value"]) for e in body["errors"]] == [(4, "nobody")]
    assert any("'Groups'" in w and "'Instructions'" in w for w in body["warnings"])


def test_a_csv_with_a_title_line_and_a_blank_line_finds_its_semicolon_header(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(client, tenant, "Group upload\n\nGroupname;Email;Email\nMaths;ada@example.com;\n", "groups.csv")
    assert (body["format"], body["delimiter"], body["header_row"], body["sheet"]) == ("group-users", ";", 3, None)
    assert body["errors"] == [] and body["groups"][0]["name"] == "Maths"


def test_a_table_drawn_from_column_b_under_a_title_is_read_in_place(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    rows: list[list[object]] = [
        ["Groups for the spring term"],
        [],
        [None, "Groupname", "Email", "Email"],
        [None, "Maths", "ada@example.com", "alan@example.com"],
        ["note: Physics starts in May", "Physics", "ada@example.com", None],
    ]
    body = preview(client, tenant, xlsx(("Sheet1", rows)), "groups.xlsx")
    assert (body["format"], body["header_row"]) == ("group-users", 3)
    assert body["errors"] == [] and {g["name"]: g["listed"] for g in body["groups"]} == {"Maths": 2, "Physics": 1}


def test_a_file_without_a_known_header_in_its_first_rows_is_still_refused(client, tenant):
    content = xlsx(("Sheet1", [["Name", "Phone"], ["Ada", "123"]]), ("Sheet2", [["Notes"]]))
    r = upload(client, tenant, content, "x.xlsx")
    assert r.status_code == 400 and "does not name an email column" in r.json["message"]
    assert "No header row was found in the first 10 rows of any sheet" in r.json["message"]
    assert "row 1 of the sheet 'Sheet1'" in r.json["message"]


def test_a_header_below_the_first_ten_rows_is_not_looked_for(client, tenant):
    rows: list[list[object]] = [[f"note {i}"] for i in range(10)] + [["email", "Groupname"], ["a@example.com", "G"]]
    r = upload(client, tenant, xlsx(("Sheet1", rows)), "x.xlsx")
    assert r.status_code == 400 and "does not name an email column" in r.json["message"]


# --- defect 9: exclude_rows and completed_at -----------------------------------------------------


def test_excluding_a_row_the_preview_does_not_have_is_a_400_naming_the_row(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, "email\nada@example.com\nnobody@example.com\n", group_id=group.id)
    r = client.patch(f"/api/v1/imports/{body['id']}", json={"exclude_rows": [3, 999]}, headers=tenant.admin)
    assert r.status_code == 400, r.json
    assert "999" in r.json["message"] and "999" in " ".join(r.json["errors"]["exclude_rows"])
    # Nothing was changed: row 3 is still an error, not excluded.
    again = client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json
    assert again["excluded"] == 0 and again["error_rows"] == 1
    # The same for the other edits: an email or a member the preview doesn't have is named, nothing changes.
    typo = {"exclude_emails": ["nobody@example.com", "ada@exmple.com"]}
    r = client.patch(f"/api/v1/imports/{body['id']}", json=typo, headers=tenant.admin)
    assert r.status_code == 400 and r.json["errors"] == {
        "exclude_emails": [
            "ada@exmple.com: no row of this import has this email (exclude a row by its number instead)."
        ]
    }
    member = {"exclude_members": [{"group": "Physics", "email": "ada@example.com"}]}
    r = client.patch(f"/api/v1/imports/{body['id']}", json=member, headers=tenant.admin)
    assert r.status_code == 400 and "ada@example.com in Physics" in r.json["errors"]["exclude_members"][0]
    assert client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json["excluded"] == 0
    ok = client.patch(f"/api/v1/imports/{body['id']}", json={"exclude_rows": [3]}, headers=tenant.admin)
    assert ok.status_code == 200 and ok.json["excluded"] == 1
    # Excluding it again names a row the preview has: accepted, still one row excluded.
    again = client.patch(f"/api/v1/imports/{body['id']}", json={"exclude_rows": [3]}, headers=tenant.admin)
    assert again.status_code == 200 and again.json["excluded"] == 1


def _completed_at(rt, tenant_id):
    with rt.db.read() as s:
        return s.scalar(select(Enrollment.completed_at).where(Enrollment.tenant_id == tenant_id))


def test_an_enrollment_sent_completed_without_a_time_gets_the_time_of_the_change(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com")
    courses.create_course(rt, tenant.id, "safety", "Safety", ADMIN)
    sent = {"email": "ada@example.com", "course_id": "safety"}
    assert client.post("/api/v1/enrollments", json=sent, headers=tenant.admin).status_code == 201
    assert _completed_at(rt, tenant.id) is None
    before = datetime.now(UTC)
    r = client.post("/api/v1/enrollments", json={**sent, "status": "completed"}, headers=tenant.admin)
    assert r.status_code == 201 and r.json["completed_at"] is not None
    done = _completed_at(rt, tenant.id)
    assert before <= done <= datetime.now(UTC)
    # Sent completed again (an LMS re-sync): the enrollment keeps the time it was completed.
    r = client.post("/api/v1/enrollments", json=[{**sent, "status": "completed"}], headers=tenant.admin)
    assert r.status_code == 200 and _completed_at(rt, tenant.id) == done
    # A time that is given wins.
    given = {**sent, "status": "completed", "completed_at": "2024-05-31T12:00:00Z"}
    assert client.post("/api/v1/enrollments", json=given, headers=tenant.admin).status_code == 201
    assert _completed_at(rt, tenant.id) == datetime(2024, 5, 31, 12, tzinfo=UTC)


def test_an_imported_enrollment_completed_without_a_time_gets_the_time_of_the_change(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    courses.create_course(rt, tenant.id, "safety", "Safety", ADMIN)
    content = xlsx(
        (
            "Enrollments",
            [["email", "course_id", "status", "completed_at"], ["ada@example.com", "safety", "completed", None]],
        )
    )
    before = datetime.now(UTC)
    body = preview(client, tenant, content, "enrollments.xlsx")
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    done = _completed_at(rt, tenant.id)
    assert done is not None and before <= done <= datetime.now(UTC)
    # The same file again changes nothing: the row is unchanged, the completion time kept.
    body = preview(client, tenant, content, "enrollments.xlsx")
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["skipped"] == 1 and _completed_at(rt, tenant.id) == done


# --- defect 7: first and last names in membership files ------------------------------------------


def _names(rt, tenant_id) -> dict[str, tuple[str | None, str | None]]:
    with rt.db.read() as s:
        rows = s.execute(select(User.email, User.given_name, User.family_name).where(User.tenant_id == tenant_id))
        return {email: (given, family) for email, given, family in rows}


def test_names_in_a_user_based_file_update_existing_users_and_the_preview_counts_them(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    before = _names(rt, tenant.id)
    content = xlsx(
        (
            "Groups",
            [
                ["email", "FirstName", "LastName", "Groupname", "Groupname"],
                ["ada@example.com", "Ada", "Lovelace", "Maths", "Engineering"],  # a new name, two groups
                ["alan@example.com", "", "", "Maths", ""],  # blank cells keep the name
                ["grace@example.com", before["grace@example.com"][0], "Hopper", "Maths", ""],  # last name only
            ],
        )
    )
    body = preview(client, tenant, content, "groups.xlsx")
    assert body["format"] == "user-groups" and body["names_changing"] == 2
    assert _names(rt, tenant.id) == before  # the preview changes nothing
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["users_updated"] == 2 and op.result["applied"] == 4
    after = _names(rt, tenant.id)
    assert after["ada@example.com"] == ("Ada", "Lovelace")
    assert after["alan@example.com"] == before["alan@example.com"]
    assert after["grace@example.com"] == (before["grace@example.com"][0], "Hopper")
    # Already members with the same names: nothing more changes.
    again = preview(client, tenant, content, "groups.xlsx")
    assert again["names_changing"] == 0


def test_a_member_list_renames_people_already_in_the_group(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    first = preview(client, tenant, "email_address\nada@example.com\n", group_id=group.id)
    assert commit_and_run(client, tenant, run_jobs, rt, first["id"]).status == "succeeded"
    body = preview(client, tenant, "email_address,first_name,last_name\nada@example.com,Ada,Byron\n", group_id=group.id)
    assert body["names_changing"] == 1
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["skipped"] == 1 and op.result["users_updated"] == 1
    assert _names(rt, tenant.id)["ada@example.com"] == ("Ada", "Byron")


# --- defect 8: the figures after a run are the run's own -----------------------------------------


def test_after_stop_the_import_reports_the_runs_figures_and_labels_the_forecast(client, tenant, rt, run_jobs):
    emails = [f"user{i:02d}@example.com" for i in range(30)]
    make_users(rt, tenant.id, *emails)
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 10, 0  # fixed chunks
    body = preview(client, tenant, "email\n" + "\n".join(emails) + "\n", group_id=group.id)
    assert body["groups"][0]["members_after"] == 30 and body["result"] is None
    op_id = commit(client, tenant, body["id"])
    # A worker applies the first chunk; then the admin presses Stop and the job stops between chunks.
    claimed = operations.claim(rt, op_id, "worker")
    checkpoint = dict(claimed.checkpoint or {})
    for _ in range(2):  # create groups (none), then the first chunk of 10 rows
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    assert client.post(f"/api/v1/operations/{op_id}/cancel", headers=tenant.admin).status_code in (200, 202)
    rt.settings.operation_stale_seconds = 0
    run_jobs()
    op = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin).json
    assert op["status"] == "cancelled" and op["result"]["applied"] == 10
    assert len(member_emails(rt, tenant.id, group.id)) == 10
    shown = client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json
    assert shown["status"] == "cancelled"
    assert shown["result"]["applied"] == 10 and shown["result"]["stopped"] is True
    assert shown["result"]["rows_done"] == 10 and shown["result"]["rows_total"] == 30
    (maths,) = shown["groups"]
    assert (maths["members_before"], maths["members_after"], maths["preview_members_after"]) == (0, 10, 30)
    listed = client.get("/api/v1/imports", headers=tenant.admin).json["items"][0]
    assert listed["groups"][0]["members_after"] == 10 and listed["result"]["applied"] == 10
