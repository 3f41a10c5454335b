"""Enrollments as a CSV through the import flow (format "enrollments"): preview, errors, job, rules."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from provisioning import activity
from provisioning.models import Enrollment, Membership
from provisioning.services import courses
from tests.support.api import commit_and_run, preview, report, upload
from tests.support.factories import ADMIN, make_users

HEADER = "email,user_id,course_id,role,status,completed_at\n"


def _courses(rt, tenant_id, *external_ids):
    for external_id in external_ids:
        courses.create_course(rt, tenant_id, external_id, external_id.title(), ADMIN)


def _enrollments(rt, tenant_id):
    with rt.db.read() as s:
        rows = s.execute(
            select(Enrollment.user_id, Enrollment.status, Enrollment.role, Enrollment.completed_at).where(
                Enrollment.tenant_id == tenant_id
            )
        ).all()
    return {
        user_id: (status, role, None if done is None else done.date().isoformat())
        for user_id, status, role, done in rows
    }


def test_templates_name_the_enrollment_columns(client, tenant):
    csv_file = client.get("/api/v1/imports/templates/enrollments.csv", headers=tenant.admin)
    assert csv_file.status_code == 200
    assert csv_file.get_data(as_text=True).splitlines()[0] == HEADER.strip()
    xlsx = client.get("/api/v1/imports/templates/enrollments.xlsx", headers=tenant.admin)
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == HEADER.strip().split(",")


def test_the_format_is_detected_and_every_bad_row_names_its_row_and_column(client, tenant, rt):
    ids = make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    _courses(rt, tenant.id, "driver-safety")
    body = preview(
        client,
        tenant,
        HEADER
        + "ada@example.com,,driver-safety,Learner,completed,2024-05-31\n"  # 2: fine
        + f",{ids['alan@example.com']},driver-safety,,in_progress,\n"  # 3: fine, by id
        + "ghost@example.com,,driver-safety,,enrolled,\n"  # 4: unknown email
        + ",999999,driver-safety,,enrolled,\n"  # 5: unknown id
        + "ada@example.com,,no-such-course,,enrolled,\n"  # 6: unknown course
        + "alan@example.com,,driver-safety,,finished,\n"  # 7: bad status
        + "alan@example.com,,driver-safety,,completed,31/05/2024\n"  # 8: bad date
        + ",,driver-safety,,enrolled,\n"  # 9: no user
        + "ada@example.com,,driver-safety,,enrolled,\n",  # 10: duplicate
        filename="enrollments.csv",
    )
    assert body["format"] == "enrollments" and body["groups"] == []
    errors = {e["row"]: (e["column"], e["value"], e["message"]) for e in body["errors"]}
    assert set(errors) == {4, 5, 6, 7, 8, 9, 10}
    assert errors[4][:2] == ("email", "ghost@example.com") and "No user" in errors[4][2]
    assert errors[5][:2] == ("user_id", "999999") and "No user of this tenant has id 999999" in errors[5][2]
    assert errors[6][:2] == ("course_id", "no-such-course") and "No course" in errors[6][2]
    assert errors[7][:2] == ("status", "finished") and "enrolled, in_progress, completed, dropped" in errors[7][2]
    assert errors[8][:2] == ("completed_at", "31/05/2024") and "ISO 8601" in errors[8][2]
    assert errors[9][0] == "email" and "email or user_id" in errors[9][2]
    assert errors[10][2] == "Duplicate: this user and course is already on row 2."
    assert body["users_matched"] == 2 and _enrollments(rt, tenant.id) == {}  # the preview changes nothing


def test_commit_upserts_the_enrollments_records_events_and_reports_each_row(client, tenant, rt, run_jobs):
    ids = make_users(rt, tenant.id, "ada@example.com", "alan@example.com", "grace@example.com")
    _courses(rt, tenant.id, "driver-safety")
    courses.enroll_many(
        rt,
        tenant.id,
        [
            {"email": "alan@example.com", "course_id": "driver-safety", "role": "Learner", "status": "enrolled"},
            {
                "email": "grace@example.com",
                "course_id": "driver-safety",
                "role": "Mentor",
                "status": "completed",
                "completed_at": "2024-01-02T00:00:00Z",
            },
        ],
        ADMIN,
    )
    body = preview(
        client,
        tenant,
        HEADER
        + "ada@example.com,,driver-safety,Learner,completed,2024-05-31T12:00:00Z\n"
        + f",{ids['alan@example.com']},driver-safety,,in_progress,\n"
        + "grace@example.com,,driver-safety,Mentor,completed,2024-01-02\n"
        + "nobody@example.com,,driver-safety,,enrolled,\n",
        filename="enrollments.csv",
    )
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded", op.errors
    assert (op.result["applied"], op.result["skipped"], op.result["errors"]) == (2, 1, 0)
    assert _enrollments(rt, tenant.id) == {
        ids["ada@example.com"]: ("completed", "Learner", "2024-05-31"),
        ids["alan@example.com"]: ("in_progress", "Learner", None),  # a blank role keeps the current one
        ids["grace@example.com"]: ("completed", "Mentor", "2024-01-02"),
    }
    assert [(r[0], r[1]) for r in report(client, tenant, body["id"])] == [
        ("2", "applied"),
        ("3", "applied"),
        ("4", "skipped"),
        ("5", "error"),
    ]
    events = activity.list_events(rt, tenant.id, action="enrollment.saved").items
    assert sorted((e.object_id, e.details["course"], e.details["status"]) for e in events) == sorted(
        [
            (str(ids["ada@example.com"]), "driver-safety", "completed"),
            (str(ids["alan@example.com"]), "driver-safety", "in_progress"),
        ]
    )
    assert {e.details["import_id"] for e in events} == {body["id"]}


def test_automatic_groups_follow_the_enrollments_an_import_saves(client, tenant, rt, run_jobs):
    ids = make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    _courses(rt, tenant.id, "driver-safety")
    r = client.post(
        "/api/v1/groups",
        json={
            "name": "Safe drivers",
            "kind": "automatic",
            "rule": 'enrollments[course eq "driver-safety" and status eq "completed"]',
        },
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    run_jobs()
    body = preview(
        client,
        tenant,
        HEADER + "ada@example.com,,driver-safety,,completed,2024-05-31\n"
        "alan@example.com,,driver-safety,,in_progress,\n",
        filename="e.csv",
    )
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    with rt.db.read() as s:
        members = set(s.scalars(select(Membership.user_id).where(Membership.group_id == r.json["id"])))
    assert members == {ids["ada@example.com"]}


def test_replace_mode_is_refused_for_enrollments(client, tenant, rt):
    _courses(rt, tenant.id, "c1")
    r = upload(client, tenant, HEADER + "ada@example.com,,c1,,enrolled,\n", filename="e.csv", mode="replace")
    assert r.status_code == 400 and "enrollments" in r.json["message"]


def test_a_header_without_a_user_column_is_a_file_error_naming_it(client, tenant, rt):
    r = upload(client, tenant, "course_id,status\nc1,enrolled\n", filename="e.csv")
    assert r.status_code == 400 and "user_id" in r.json["message"] and "email" in r.json["message"]
