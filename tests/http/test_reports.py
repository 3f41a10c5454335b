"""Group progress reports (issue 17 #4): figures, CSV and Excel rows, runs in the activity log, schedules."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from provisioning.activity import Actor
from provisioning.reports.runs import next_after, start_due_reports
from provisioning.services import courses
from tests.support.factories import make_user
from tests.support.servers import parts

ADMIN = Actor("test admin", "api")


def _fixture(rt, client, tenant):
    """Sales (ann, bob, cy): ann completed c1 and is enrolled in c2, bob is in progress in c1, cy has nothing.
    dave, outside the group, completed c1 and dropped c2: neither counts."""
    people = {n: make_user(rt, tenant.id, n, given_name=n.title()) for n in ("ann", "bob", "cy", "dave")}
    for ext, title in (("c1", "Course One"), ("c2", None)):
        assert (
            client.post("/api/v1/courses", json={"external_id": ext, "title": title}, headers=tenant.admin).status_code
            == 201
        )
    courses.enroll_many(
        rt,
        tenant.id,
        [
            {"email": "ann@example.edu", "course_id": "c1", "status": "completed", "completed_at": "2025-03-01"},
            {"email": "ann@example.edu", "course_id": "c2"},
            {"email": "bob@example.edu", "course_id": "c1", "status": "in_progress"},
            {"email": "dave@example.edu", "course_id": "c1", "status": "completed"},
            {"email": "dave@example.edu", "course_id": "c2", "status": "dropped"},
        ],
        ADMIN,
    )
    group = client.post("/api/v1/groups", json={"name": "Sales"}, headers=tenant.admin).json
    ids = [people[n].id for n in ("ann", "bob", "cy")]
    assert (
        client.post(f"/api/v1/groups/{group['id']}/members", json={"user_ids": ids}, headers=tenant.admin).status_code
        == 200
    )
    return group["id"], people


def test_the_group_progress_report_counts_members_enrollments_and_completion(rt, client, tenant):
    group_id, _ = _fixture(rt, client, tenant)
    r = client.get(f"/api/v1/groups/{group_id}/progress", headers=tenant.admin)
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["group_name"], body["members"], body["enrolled_members"]) == ("Sales", 3, 2)
    assert (body["completed_enrollments"], body["completion_rate"]) == (1, 0.3333)
    assert [
        (c["external_id"], c["title"], c["enrolled"], c["in_progress"], c["completed"], c["completion_rate"])
        for c in body["courses"]
    ] == [("c2", "c2", 1, 0, 0, 0.0), ("c1", "Course One", 2, 1, 1, 0.5)]
    assert all(c["last_activity"] for c in body["courses"]) and body["last_activity"]
    assert client.get("/api/v1/groups/999999/progress", headers=tenant.admin).status_code == 404


def test_the_per_member_rows_download_as_csv_and_excel(rt, client, tenant):
    group_id, _ = _fixture(rt, client, tenant)
    r = client.get(f"/api/v1/groups/{group_id}/progress.csv", headers=tenant.admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="Sales-progress.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:7] == ["First name", "Last name", "Email", "Username", "Course", "Course id", "Status"]
    assert [(row[0], row[5], row[6], row[7][:10]) for row in rows[1:]] == [
        ("Ann", "c1", "completed", "2025-03-01"),
        ("Ann", "c2", "enrolled", ""),
        ("Bob", "c1", "in_progress", ""),
        ("Cy", "", "", ""),
    ]
    x = client.get(f"/api/v1/groups/{group_id}/progress.xlsx", headers=tenant.admin)
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert sheet.title == "Sales" and len(values) == 5 and values[3][6] == "in_progress"


def test_a_report_run_is_an_operation_filterable_by_type_status_and_date(rt, client, tenant, run_jobs):
    group_id, _ = _fixture(rt, client, tenant)
    r = client.post(
        "/api/v1/reports/runs", json={"report_type": "group_progress", "group_id": group_id}, headers=tenant.admin
    )
    assert r.status_code == 202, r.json
    run_id = r.json["operation_id"]
    waiting = client.get("/api/v1/reports/runs?status=in_progress", headers=tenant.admin).json
    assert [x["id"] for x in waiting["items"]] == [run_id] and waiting["items"][0]["status"] == "queued"
    run_jobs()
    run = client.get(f"/api/v1/reports/runs/{run_id}", headers=tenant.admin).json
    assert run["status"] == "succeeded" and run["report_type"] == "group_progress" and run["rows"] == 4
    assert (run["result"]["members"], run["result"]["completion_rate"]) == (3, 0.3333)
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/api/v1/reports/runs/{run_id}/rows.csv", headers=tenant.admin).get_data(as_text=True)
            )
        )
    )
    assert rows[0][0] == "First name" and [row[0] for row in rows[1:]] == ["Ann", "Ann", "Bob", "Cy"]
    assert client.get("/api/v1/reports/runs?status=in_progress", headers=tenant.admin).json["items"] == []
    today = datetime.now(UTC).date()
    found = client.get(
        "/api/v1/reports/runs",
        query_string={"report_type": "group_progress", "status": "succeeded", "since": today.isoformat()},
        headers=tenant.admin,
    ).json
    assert [x["id"] for x in found["items"]] == [run_id]
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert client.get(f"/api/v1/reports/runs?since={tomorrow}", headers=tenant.admin).json["items"] == []
    ops = client.get("/api/v1/operations?type=report", headers=tenant.admin).json["items"]
    assert [o["id"] for o in ops] == [run_id]
    bad = client.get("/api/v1/reports/runs?status=upcoming", headers=tenant.admin)
    assert bad.status_code == 400 and "status" in bad.json["errors"]


def test_a_weekly_schedule_is_listed_as_upcoming_and_the_worker_runs_it_once(rt, client, tenant, run_jobs, mail):
    group_id, _ = _fixture(rt, client, tenant)
    make_user(rt, tenant.id, "meg", role="manager", given_name="Meg")
    refused = client.post(
        "/api/v1/reports/schedules",
        json={
            "report_type": "group_progress",
            "group_id": group_id,
            "frequency": "weekly",
            "recipients": ["bob@example.edu"],
        },
        headers=tenant.admin,
    )
    assert refused.status_code == 400 and "recipients.0" in refused.json["errors"]
    r = client.post(
        "/api/v1/reports/schedules",
        json={
            "report_type": "group_progress",
            "group_id": group_id,
            "frequency": "weekly",
            "recipients": ["meg@example.edu"],
        },
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    weekly = r.json
    next_run = datetime.fromisoformat(weekly["next_run_at"])
    assert next_run.weekday() == 0 and next_run.hour == 0 and next_run > datetime.now(UTC)
    daily = client.post(
        "/api/v1/reports/schedules",
        json={"report_type": "group_progress", "group_id": group_id, "frequency": "daily"},
        headers=tenant.admin,
    ).json
    upcoming = client.get("/api/v1/reports/schedules", headers=tenant.admin).json["items"]
    assert [s["id"] for s in upcoming] == sorted(
        [weekly["id"], daily["id"]],
        key=lambda i: {weekly["id"]: next_run, daily["id"]: datetime.fromisoformat(daily["next_run_at"])}[i],
    )
    # The worker's schedule at the weekly time: both are due, each starts once however often it looks.
    moment = next_run + timedelta(seconds=1)
    started = start_due_reports(rt, now=moment)
    assert len(started) == 2 and start_due_reports(rt, now=moment) == []
    run_jobs()
    after = {s["id"]: s for s in client.get("/api/v1/reports/schedules", headers=tenant.admin).json["items"]}
    assert datetime.fromisoformat(after[weekly["id"]]["next_run_at"]) == next_run + timedelta(days=7)
    assert after[weekly["id"]]["last_run_id"] in started
    runs = client.get("/api/v1/reports/runs?status=succeeded", headers=tenant.admin).json["items"]
    assert sorted(x["schedule_id"] for x in runs) == sorted([weekly["id"], daily["id"]])
    [message] = mail.to("meg@example.edu")
    assert message["Subject"] == "Group progress report: Sales"
    text, _ = parts(message)
    assert "Course One: 1 of 2 completed (50.0%)" in text and "/api/v1/reports/runs/" in text
    assert client.delete(f"/api/v1/reports/schedules/{daily['id']}", headers=tenant.admin).status_code == 204
    assert [s["id"] for s in client.get("/api/v1/reports/schedules", headers=tenant.admin).json["items"]] == [
        weekly["id"]
    ]


def test_next_run_times_are_the_start_of_the_next_day_week_or_month():
    moment = datetime(2026, 1, 31, 15, 30, tzinfo=UTC)  # a Saturday
    assert next_after("daily", moment) == datetime(2026, 2, 1, tzinfo=UTC)
    assert next_after("weekly", moment) == datetime(2026, 2, 2, tzinfo=UTC)
    assert next_after("monthly", moment) == datetime(2026, 2, 1, tzinfo=UTC)
    assert next_after("monthly", datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_workers_report_scheduler_starts_a_due_schedule_on_its_own(rt, client, tenant, run_jobs):
    from jobs.schedule import ReportScheduler
    from tests.support.jobs import wait_for

    group_id, _ = _fixture(rt, client, tenant)
    r = client.post(
        "/api/v1/reports/schedules",
        json={
            "report_type": "group_progress",
            "group_id": group_id,
            "frequency": "daily",
            "first_run_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        },
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    scheduler = ReportScheduler(rt, every=0.1).start()
    try:
        wait_for(lambda: client.get("/api/v1/reports/runs", headers=tenant.admin).json["total"] == 1, timeout=10)
    finally:
        scheduler.stop()
    run_jobs()
    [run] = client.get("/api/v1/reports/runs", headers=tenant.admin).json["items"]
    assert run["status"] == "succeeded" and run["schedule_id"] == r.json["id"]
    [schedule] = client.get("/api/v1/reports/schedules", headers=tenant.admin).json["items"]
    assert datetime.fromisoformat(schedule["next_run_at"]) > datetime.now(UTC)


def test_a_groups_own_managers_receive_its_report_whatever_their_tenant_role(rt, client, tenant):
    """An instructor of the group's course and a person assigned to manage it are learners by tenant role
    (an LTI launch leaves them so) and may still be sent the group's report; a learner who manages another
    group may not."""
    from sqlalchemy import select

    from provisioning.lti import launch as lti_launch
    from provisioning.models import Course
    from provisioning.services import group_managers

    group_id, _ = _fixture(rt, client, tenant)
    other = client.post("/api/v1/groups", json={"name": "Other"}, headers=tenant.admin).json["id"]
    ivy, ria, oz = (make_user(rt, tenant.id, n, given_name=n.title()) for n in ("ivy", "ria", "oz"))
    courses.enroll_many(rt, tenant.id, [{"email": "ivy@example.edu", "course_id": "c1", "role": "Instructor"}], ADMIN)
    with rt.db.read() as s:
        c1 = s.scalar(select(Course.id).where(Course.tenant_id == tenant.id, Course.external_id == "c1"))
    lti_launch.add_course_group(rt, tenant.id, c1, group_id)
    group_managers.assign_manager(rt, tenant.id, group_id, ria.id, [], ADMIN)
    group_managers.assign_manager(rt, tenant.id, other, oz.id, [], ADMIN)

    def schedule(*emails: str):
        body = {"report_type": "group_progress", "group_id": group_id, "frequency": "weekly", "recipients": emails}
        return client.post("/api/v1/reports/schedules", json=body, headers=tenant.admin)

    made = schedule(ivy.email, ria.email)
    assert made.status_code == 201, made.json
    assert made.json["recipients"] == ["ivy@example.edu", "ria@example.edu"]
    refused = schedule(oz.email)
    assert (
        refused.status_code == 400
        and "not an active manager of this group" in refused.json["errors"]["recipients.0"][0]
    )
