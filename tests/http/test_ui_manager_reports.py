"""Issue 19, the group-managers article's Reports Center and Activity Log, as the course's instructor launched
over LTI 1.3: their groups' reports only (in the query, not the page), filtered by type and date; a group's
progress report with each member's courses, status and completion; a weekly schedule to themselves."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from provisioning.reports import runs as report_runs
from tests.support.personas import SETUP, school, ui_actor


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    return school(rt, app, client, tenant, platform)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_manager_sees_only_their_groups_reports_and_filters_them_by_type_and_date(rt, sch, run_jobs):
    tenant_id = sch.group.tenant_id
    theirs = report_runs.request_report(rt, tenant_id, "group_progress", sch.group.id, ui_actor(sch.manager_own))
    others = report_runs.request_report(rt, tenant_id, "group_progress", sch.other_group.id, SETUP)
    report_runs.create_schedule(rt, tenant_id, "group_progress", sch.other_group.id, "weekly", [], SETUP)
    run_jobs()
    tia = sch.manager_own.session
    page = _text(tia.get("/ui/reports"))
    assert f'data-report-run="{theirs.id}"' in page and f'data-report-run="{others.id}"' not in page
    assert "Course B seminar" not in page and "Group progress" in page
    today = date.today()
    same_day = _text(tia.get("/ui/reports", type="group_progress", since=today.isoformat(), until=today.isoformat()))
    assert f'data-report-run="{theirs.id}"' in same_day
    tomorrow = _text(tia.get("/ui/reports", since=(today + timedelta(days=1)).isoformat()))
    assert f'data-report-run="{theirs.id}"' not in tomorrow
    bad = tia.get("/ui/reports", type="salaries")
    assert bad.status_code == 400 and "Choose the type of report from the list." in bad.get_data(as_text=True)
    assert tia.get("/ui/reports", since="31/12/2026").status_code == 400


def test_the_group_report_lists_each_members_courses_with_status_and_completion(rt, client, tenant, sch):
    done = client.post(
        "/api/v1/enrollments",
        json=[{"user_id": sch.kim.id, "course_id": "course-a", "status": "completed"}],
        headers=tenant.admin,
    )
    assert done.status_code in (200, 201), done.json
    page = _text(sch.manager_own.session.get(f"/ui/groups/{sch.group.id}/report"))
    members = re.search(r'id="report-members".*?</table>', page, re.S).group(0)
    kim = re.search(r"<tr><td>Kim</td>(.*?)</tr>", members, re.S)
    assert kim and "kim@example.edu" in kim.group(1) and "Completed" in kim.group(1), members
    assert sch.learner.email in members  # the learner, launched into the course
    assert sch.manager_own.session.get(f"/ui/groups/{sch.other_group.id}/report").status_code in (403, 404)


def test_a_manager_schedules_a_weekly_report_to_themselves_and_sees_it_upcoming(rt, sch):
    tia = sch.manager_own.session
    made = tia.post(
        f"/ui/groups/{sch.group.id}/report/schedule", {"frequency": "weekly", "recipients": sch.manager_own.email}
    )
    assert made.status_code == 302, made.get_data(as_text=True)[-1500:]
    upcoming = re.search(r'id="reports-upcoming".*?</table>', _text(tia.get("/ui/reports")), re.S).group(0)
    assert "Course A seminar" in upcoming and "Every week" in upcoming and sch.manager_own.email in upcoming
    refused = tia.post(f"/ui/groups/{sch.other_group.id}/report/schedule", {"frequency": "weekly"})
    assert refused.status_code in (403, 404)
