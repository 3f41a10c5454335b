"""Issue 19, defects 1, 2, 3 and 5: least privilege on every request, as people launched over LTI 1.3.

Each test drives the server as the LMS's instructor or learner would (tests/support/personas.py),
whatever the page shows: the forms the page hides are posted anyway.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from provisioning.batch import actions as batch_actions
from provisioning.errors import Forbidden
from provisioning.lti import launch as lti_launch
from provisioning.models import Group, LtiContext, Operation
from provisioning.services import groups, memberships, users
from tests.support.lti_platform import INSTRUCTOR, LEARNER
from tests.support.personas import SETUP, is_member, school, status_of, ui_actor


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    return school(rt, app, client, tenant, platform)


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- defect 1: a manager pulls anyone into their group, then acts on them ----------------------------


def test_adding_an_email_outside_the_managers_scope_pulls_nobody_in_and_answers_like_an_unknown_email(rt, sch):
    """The answer is the same whoever has the email; the person outside the scope is only invited
    (tests/http/test_ui_manager_add_members.py follows the invitation to its link)."""
    tia, tom = sch.manager_own.session, sch.manager_other
    path = f"/ui/groups/{sch.group.id}/members"
    known = tia.post(path, {"email": tom.email})  # the other course's instructor
    unknown = tia.post(path, {"email": "nobody@example.edu"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"].replace("tom", "X") == unknown.headers["Location"].replace("nobody", "X")
    assert not is_member(rt, sch.group.id, tom.user_id)
    # Their profile stays closed, and a batch action naming them is refused.
    assert tia.get(f"/ui/people/{tom.user_id}").status_code == 403
    refused = tia.post("/ui/people/batch", {"action": "deactivate", "user_ids": str(tom.user_id), "confirmed": "yes"})
    assert refused.status_code == 403 and status_of(rt, tom.user_id) == "active"
    # People of the manager's own scope are added at once, here to another group of the course.
    lab = groups.create_group(rt, sch.group.tenant_id, {"name": "Course A lab"}, SETUP)
    lti_launch.add_course_group(rt, sch.group.tenant_id, sch.course.id, lab.id)
    assert tia.post(f"/ui/groups/{lab.id}/members", {"email": "kim@example.edu"}).status_code == 302
    assert is_member(rt, lab.id, sch.kim.id)


def test_a_manager_may_not_deactivate_another_courses_instructor_an_admin_put_in_their_group(rt, sch):
    tia, tom = sch.manager_own.session, sch.manager_other
    memberships.add_members(rt, sch.group.tenant_id, sch.group.id, user_ids=[tom.user_id], actor=SETUP)
    for path in (f"/ui/groups/{sch.group.id}/batch", "/ui/people/batch"):
        for confirmed in ("", "yes"):
            response = tia.post(path, {"action": "deactivate", "user_ids": str(tom.user_id), "confirmed": confirmed})
            assert response.status_code == 403 and "staff or belong to groups you do not manage" in _text(response)
    assert status_of(rt, tom.user_id) == "active"
    # A learner who is also in another course's group is as far out of reach.
    memberships.add_members(rt, sch.group.tenant_id, sch.other_group.id, user_ids=[sch.kim.id], actor=SETUP)
    response = tia.post(
        f"/ui/groups/{sch.group.id}/batch", {"action": "deactivate", "user_ids": str(sch.kim.id), "confirmed": "yes"}
    )
    assert response.status_code == 403 and status_of(rt, sch.kim.id) == "active"
    # Actions on their place in the manager's own group still work.
    task = tia.post(
        f"/ui/groups/{sch.group.id}/batch", {"action": "add_task", "user_ids": str(tom.user_id), "title": "Read"}
    )
    assert task.status_code == 200


def test_a_manager_adds_to_a_roster_group_only_by_hand_and_may_not_remove_the_lms_roster(
    rt, app, client, sch, platform, run_jobs
):
    platform.members = [
        {"user_id": "tia", "status": "Active", "roles": [INSTRUCTOR], "email": "tia@example.edu"},
        {"user_id": "lou", "status": "Active", "roles": [LEARNER], "email": "lou@example.edu"},
    ]
    run_jobs()  # the launches' roster syncs make the course's roster group
    with rt.db.read() as s:
        roster_id = s.scalar(
            select(LtiContext.roster_group_id).where(
                LtiContext.course_id == sch.course.id, LtiContext.roster_group_id.is_not(None)
            )
        )
        assert s.get(Group, roster_id).kind == "roster"
    tia = sch.manager_own.session
    page = tia.get(f"/ui/groups/{roster_id}")
    assert page.status_code == 200 and 'id="add-email"' in _text(page)
    assert "stay when the roster is synced" in _text(page)
    # The LMS's own roster member can't be removed here, whatever the page shows (it hides the button).
    lou = sch.learner.user_id
    assert f"/members/{lou}/remove" not in _text(page)
    assert tia.post(f"/ui/groups/{roster_id}/members/{lou}/remove").status_code == 409
    assert is_member(rt, roster_id, lou)


# --- defect 2: the upload preview leaks other groups and which emails exist ----------------------------


def test_the_upload_preview_shows_neither_other_groups_counts_nor_which_emails_exist(rt, sch):
    tia, tom = sch.manager_own.session, sch.manager_other
    memberships.add_members(rt, sch.group.tenant_id, sch.other_group.id, user_ids=[tom.user_id], actor=SETUP)
    content = (
        f"email,Groupname\nkim@example.edu,{sch.group.name}\n{tom.email},{sch.group.name}\n"
        f"nobody@example.edu,{sch.group.name}\nlou@example.edu,{sch.other_group.name}\n"
        "tia@example.edu,No Such Group\n"
    ).encode()
    uploaded = tia.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "groups.csv")}, content_type="multipart/form-data"
    )
    assert uploaded.status_code == 302, _text(uploaded)
    import_id = int(re.search(r"/ui/imports/(\d+)", uploaded.headers["Location"]).group(1))
    preview = _text(tia.get(f"/ui/imports/{import_id}"))
    assert re.search(r'id="users-matched">3<', preview)  # Kim, Lou and Tia: her own people only
    rows = dict(re.findall(r'<td class="text-break">([^<@]+@example\.edu)</td><td>([^<]+)</td></tr>', preview))
    assert rows[tom.email] == rows["nobody@example.edu"]  # the same words for a known and an unknown email
    groups_list = preview.split('id="import-groups">')[1]

    def group_item(name: str) -> str:  # (a group not hers lists no people: no inner list items)
        return re.search(
            rf'<li class="card mb-2 import-group" data-group="{name}">(.*?)</li>', groups_list, re.S
        ).group(1)

    other_row, missing_row = group_item(sch.other_group.name), group_item("No Such Group")
    assert "not one of your groups" in other_row and "members:" not in other_row and "join" not in other_row
    # Another course's group and a name nobody uses read alike, in the list and in the refusals.
    assert other_row == missing_row.replace("No Such Group", sch.other_group.name)
    refusals = re.search(r'id="import-refusals">(.*?)</div>', preview, re.S).group(1)
    assert f"&#39;{sch.other_group.name}&#39; is not one of your groups, and" in refusals
    assert "&#39;No Such Group&#39; is not one of your groups, and" in refusals
    assert tia.post(f"/ui/imports/{import_id}/commit").status_code == 403


def test_a_managers_file_changes_no_ones_name_and_the_preview_says_so(rt, sch):
    """Issue 18, defect 7: names in a membership file are applied for admins; a manager doesn't edit people."""
    tia = sch.manager_own.session
    content = f"email,FirstName,LastName,Groupname\nkim@example.edu,Kimberly,Changed,{sch.group.name}\n".encode()
    uploaded = tia.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "groups.csv")}, content_type="multipart/form-data"
    )
    assert uploaded.status_code == 302, _text(uploaded)
    preview = _text(tia.get(uploaded.headers["Location"]))
    assert "only administrators change people&#39;s names" in preview
    assert re.search(r'id="names-changing">0<', preview)


# --- defect 3: a learner sees every classmate ----------------------------------------------------------


def test_a_learner_opening_their_group_by_url_sees_its_name_and_their_membership_only(rt, sch):
    lou = sch.learner.session
    page = lou.get(f"/ui/groups/{sch.group.id}")
    assert page.status_code == 200
    text = _text(page)
    assert sch.group.name in text and "You are a member of this group." in text
    for leak in ("kim@example.edu", "Kim", "last login", "Last login", "status-active", "Courses"):
        assert leak not in text
    for path in ("members.csv", "members.xlsx"):
        assert lou.get(f"/ui/groups/{sch.group.id}/{path}").status_code == 403
    assert lou.get(f"/ui/people/{sch.kim.id}").status_code == 403
    assert lou.get(f"/ui/groups/{sch.other_group.id}").status_code == 403


# --- defect 5: a manager deactivates themselves --------------------------------------------------------


def test_nobody_ends_their_own_access_from_a_batch_action(rt, sch):
    tia = sch.manager_own
    memberships.add_members(rt, sch.group.tenant_id, sch.group.id, user_ids=[tia.user_id], actor=SETUP)
    for path in (f"/ui/groups/{sch.group.id}/batch", "/ui/people/batch"):
        response = tia.session.post(path, {"action": "deactivate", "user_ids": str(tia.user_id), "confirmed": "yes"})
        assert response.status_code == 403 and "yourself" in _text(response)
    admin = sch.admin
    response = admin.session.post(
        "/ui/people/batch", {"action": "change_role", "user_ids": str(admin.user_id), "role": "learner"}
    )
    assert response.status_code == 403 and "yourself" in _text(response)
    assert status_of(rt, tia.user_id) == "active"


def test_the_core_refuses_it_for_every_channel_and_a_group_selection_skips_the_actor(rt, sch, run_jobs):
    tenant_id, tia = sch.group.tenant_id, sch.manager_own
    me = ui_actor(tia)
    with pytest.raises(Forbidden):
        users.update_user(rt, tenant_id, tia.user_id, {"active": False}, me)
    with pytest.raises(Forbidden):
        users.update_user(rt, tenant_id, tia.user_id, {"role": "admin"}, me)
    with pytest.raises(Forbidden):
        users.delete_user(rt, tenant_id, tia.user_id, me)
    with pytest.raises(Forbidden):
        batch_actions.request_batch_action(rt, tenant_id, "deactivate", {}, me, user_ids=[tia.user_id])
    memberships.add_members(rt, tenant_id, sch.group.id, user_ids=[tia.user_id], actor=SETUP)
    op = batch_actions.request_batch_action(rt, tenant_id, "deactivate", {}, me, group_id=sch.group.id)
    run_jobs()
    assert status_of(rt, tia.user_id) == "active" and status_of(rt, sch.kim.id) == "deactivated"
    with rt.db.read() as s:
        errors = s.get(Operation, op.id).errors
    assert any(e["user_id"] == tia.user_id and "yourself" in e["message"] for e in errors)
    # Someone else may still do it.
    users.update_user(rt, tenant_id, sch.kim.id, {"active": True}, ui_actor(sch.admin))


def test_the_batch_picker_opens_on_no_action_and_an_empty_choice_starts_nothing(rt, sch):
    tia = sch.manager_own.session
    page = _text(tia.get(f"/ui/groups/{sch.group.id}"))
    picker = re.search(r'<select id="action" name="action" required[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r"<option[^>]*>", picker)[0] == '<option value="" selected>'
    response = tia.post(f"/ui/groups/{sch.group.id}/batch", {"user_ids": str(sch.kim.id), "confirmed": "yes"})
    assert response.status_code == 400 and "Choose a batch action" in _text(response)
    with rt.db.read() as s:
        assert s.scalar(select(Operation.id).where(Operation.type == "batch_action")) is None
