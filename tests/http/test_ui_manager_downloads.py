"""Downloads a manager launched over LTI 1.3 makes from the UI (issue 19, "Downloads that work"):
the CSV of a batch "Export as CSV", linked from the operation's page once it has finished, within the
manager's scope only; and the Excel members download of an LTI roster group whose name has a colon."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from provisioning.models import LtiContext
from tests.support.lti_platform import INSTRUCTOR, LEARNER, launch, register_platform
from tests.support.personas import school
from tests.support.signin import UiSession


def _export_operation(sch) -> int:
    manager = sch.manager_own.session
    started = manager.post(
        f"/ui/groups/{sch.group.id}/batch",
        {"action": "export_csv", "user_ids": str(sch.kim.id), "confirmed": "yes"},
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    return int(re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1))


def test_a_finished_export_is_linked_from_its_page_and_downloads_as_csv(rt, app, client, tenant, platform, run_jobs):
    sch = school(rt, app, client, tenant, platform)
    op_id = _export_operation(sch)
    manager = sch.manager_own.session
    assert manager.get(f"/ui/operations/{op_id}/export.csv").status_code == 409  # not run yet
    run_jobs()
    page = manager.get(f"/ui/operations/{op_id}").get_data(as_text=True)
    link = re.search(r'id="export-link" href="([^"]+)"', page)
    assert link and f"/ui/operations/{op_id}/export.csv" in link.group(1)
    assert (
        manager.get(f"/ui/operations/{op_id}.json")
        .get_json()["export_url"]
        .startswith(f"/ui/operations/{op_id}/export.csv")
    )
    download = manager.get(f"/ui/operations/{op_id}/export.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "kim@example.edu" in download.get_data(as_text=True)
    # Outside the scope of the operation's page: the same 404 as an operation that does not exist.
    for persona in ("learner", "manager_other"):
        assert sch.persona(persona).session.get(f"/ui/operations/{op_id}/export.csv").status_code == 404
    assert sch.admin.session.get(f"/ui/operations/{op_id}/export.csv").status_code == 200


def test_a_finished_operation_that_is_no_export_offers_no_download(rt, app, client, tenant, platform, run_jobs):
    sch = school(rt, app, client, tenant, platform)
    started = sch.manager_own.session.post(
        f"/ui/groups/{sch.group.id}/batch",
        {"action": "add_task", "user_ids": str(sch.kim.id), "title": "Read", "confirmed": "yes"},
    )
    op_id = int(re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1))
    run_jobs()
    page = sch.manager_own.session.get(f"/ui/operations/{op_id}").get_data(as_text=True)
    assert 'id="result-sentence"' in page and 'id="export-link"' not in page
    assert sch.manager_own.session.get(f"/ui/operations/{op_id}/export.csv").status_code == 404


def test_the_excel_members_download_works_for_a_roster_group_whose_name_has_a_colon(
    rt, client, tenant, platform, run_jobs
):
    register_platform(rt, tenant.id, platform)
    platform.context_id = "bio-101"
    platform.context_title = "Course: Biology 101"
    platform.members = [{"user_id": "stu-1", "status": "Active", "roles": [LEARNER], "email": "stu@example.edu"}]
    landing = launch(client, platform, sub="tina", email="tina@example.edu", roles=[INSTRUCTOR])
    run_jobs()
    manager = UiSession(client, re.search(r'name="launch-token" content="([^"]+)"', landing.get_data(as_text=True))[1])
    with rt.db.read() as s:
        group_id = s.scalar(select(LtiContext.roster_group_id).where(LtiContext.context_id == "bio-101"))
    assert group_id is not None
    page = manager.get(f"/ui/groups/{group_id}").get_data(as_text=True)
    assert "Course: Biology 101" in page
    links = re.findall(r'href="([^"]*members\.xlsx[^"]*)"', page)
    assert links, page
    download = manager.get(f"/ui/groups/{group_id}/members.xlsx")
    assert download.status_code == 200, download.get_data(as_text=True)[:500]
    sheet = load_workbook(io.BytesIO(download.get_data())).active
    assert sheet is not None
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row]
    assert any("stu" in c for c in cells)
