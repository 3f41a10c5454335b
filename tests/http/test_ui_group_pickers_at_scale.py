"""Every group picker reaches every group the person may see, in a tenant with 5,000 groups: group #4,321 is
picked by name in each flow (batch add and remove, copy from, the upload target, reports, the log filters);
the suggestions are scoped by tenant and permissions; a name that is unknown or only part of some is a 400
that says so."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, insert, select

from provisioning.models import Group
from provisioning.services import memberships
from tests.http.test_ui_batch_pickers import suggested
from tests.support.personas import SETUP, school

GROUPS = 5000
WANTED = "Group 4321"


@pytest.fixture
def crowded(rt, app, client, tenant, platform):
    """The school personas in a tenant with 5,000 more hand-edited groups (one INSERT), and the 4,321st's id."""
    sch = school(rt, app, client, tenant, platform)
    with rt.db.transaction() as s:
        s.execute(insert(Group), [{"tenant_id": tenant.id, "name": f"Group {n:04d}"} for n in range(1, GROUPS + 1)])
        wanted = s.scalar(select(Group.id).where(Group.tenant_id == tenant.id, Group.name == WANTED))
        assert s.scalar(select(func.count()).select_from(Group).where(Group.tenant_id == tenant.id)) > GROUPS
    return sch, wanted


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _operation(response) -> str:
    assert response.status_code == 302, _text(response)[-1500:]
    return response.headers["Location"]


def test_the_suggestions_reach_a_group_beyond_the_first_500_and_name_it_in_words(crowded):
    sch, wanted = crowded
    assert suggested(sch.admin.session, "groups", "4321") == [(str(wanted), WANTED)]
    found = _text(sch.admin.session.get("/ui/pick/groups", field="q", q="group 432"))
    assert found.count('role="option"') == 10 and ">Group 4320 <" in found and "· Manual" in found
    assert str(wanted) not in re.sub(r'(id|data-value)="[^"]*"', "", found)  # ids only in attributes


def test_a_manager_is_suggested_only_their_own_groups_and_cannot_type_another(crowded):
    sch, wanted = crowded
    assert suggested(sch.manager_own.session, "groups", "group") == []
    assert suggested(sch.manager_own.session, "groups", "seminar") == [(str(sch.group.id), "Course A seminar")]
    data = {"action": "add_to_groups", "user_ids": [str(sch.kim.id)], "group_ids_find": WANTED}
    refused = sch.manager_own.session.post(f"/ui/groups/{sch.group.id}/batch", data)
    assert refused.status_code == 400 and "No group you can choose here is called “Group 4321”." in _text(refused)


def test_batch_add_and_remove_pick_group_4321_by_name(rt, tenant, crowded, run_jobs):
    sch, wanted = crowded
    data = {"action": "add_to_groups", "user_ids": [str(sch.kim.id)], "group_ids_find": "group 4321"}
    confirm = _text(sch.admin.session.post("/ui/people/batch", data))
    assert "<dt>Group</dt><dd>Group 4321</dd>" in confirm
    _operation(sch.admin.session.post("/ui/people/batch", {**data, "confirmed": "yes"}))
    run_jobs()
    assert memberships.member_ids_among(rt, tenant.id, wanted, [sch.kim.id]) == [sch.kim.id]
    data = {"action": "remove_from_group", "user_ids": [str(sch.kim.id)], "group_id_find": WANTED, "confirmed": "yes"}
    _operation(sch.admin.session.post("/ui/people/batch", data))
    run_jobs()
    assert memberships.member_ids_among(rt, tenant.id, wanted, [sch.kim.id]) == []


def test_copy_members_from_group_4321(rt, tenant, crowded, run_jobs):
    sch, wanted = crowded
    memberships.add_members(rt, tenant.id, wanted, user_ids=[sch.curator.user_id], actor=SETUP)
    page = _text(sch.admin.session.get(f"/ui/groups/{sch.group.id}"))
    assert 'name="from_group_id_find"' in page and f"exclude={sch.group.id}" in page
    _operation(sch.admin.session.post(f"/ui/groups/{sch.group.id}/copy", {"from_group_id_find": WANTED}))
    run_jobs()
    assert memberships.member_ids_among(rt, tenant.id, sch.group.id, [sch.curator.user_id]) == [sch.curator.user_id]


def test_an_upload_into_group_4321_by_name(crowded):
    sch, wanted = crowded
    response = sch.admin.session.post(
        "/ui/imports/new",
        {"file": (io.BytesIO(b"email\nkim@example.edu\n"), "m.csv"), "kind": "group", "group_id_find": WANTED},
        content_type="multipart/form-data",
    )
    preview = _text(sch.admin.session.get(_operation(response)))
    assert WANTED in preview and "kim@example.edu" in preview or "Kim" in preview


def test_reports_and_log_filters_pick_group_4321_by_name(crowded):
    sch, wanted = crowded
    response = sch.admin.session.get("/ui/reports", group_find=WANTED)
    assert response.status_code == 302 and f"/ui/groups/{wanted}/report" in response.headers["Location"]
    for page in ("/ui/logs", "/ui/activity"):
        shown = _text(sch.admin.session.get(page, group_find=WANTED))
        assert re.search(r'name="group_find" value="Group 4321"', shown), page  # the filter shows its choice
        assert f'name="group" value="{wanted}"' in shown


def test_a_typed_name_that_is_unknown_or_only_part_of_some_is_refused_in_words(crowded):
    sch, wanted = crowded
    data = {"action": "add_to_groups", "user_ids": [str(sch.kim.id)], "group_ids_find": "Group 432"}
    refused = _text(sch.admin.session.post("/ui/people/batch", data))
    assert "No group is called exactly “Group 432”. Groups whose names contain it: Group 4320, Group 4321," in refused
    refused = _text(sch.admin.session.get("/ui/logs", group_find="Nope"))
    assert "No group you can choose here is called “Nope”." in refused
