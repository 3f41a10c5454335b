"""Issue 19: a group manager adds members by email, one answer for every email, consent for anyone
outside their scope (provisioning/services/group_invitations.py, docs/PERMISSIONS.md), driven as the
LMS's instructor launched over LTI 1.3 (tests/support/personas.py)."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from provisioning.lti import launch as lti_launch
from provisioning.models import EmailMessage, LtiContext, Membership, User
from provisioning.services import groups, users
from tests.support.lti_platform import INSTRUCTOR, LEARNER
from tests.support.personas import SETUP, is_member, school

LINK = re.compile(r"http://localhost/join/[A-Za-z0-9_.\-]+")


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    return school(rt, app, client, tenant, platform)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _emails_to(rt, address: str) -> list[EmailMessage]:
    with rt.db.read() as s:
        return list(s.scalars(select(EmailMessage).where(EmailMessage.to_address == address).order_by(EmailMessage.id)))


def _link(rt, address: str) -> str:
    [link] = LINK.findall(_emails_to(rt, address)[-1].text_body)
    return link.removeprefix("http://localhost")


def _user_id(rt, tenant_id: int, email: str) -> int | None:
    with rt.db.read() as s:
        return s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.email == email))


def _invitation_rows(page: str) -> list[str]:
    block = re.search(r'id="invitations"[^>]*>(.*?)</ul>', page, re.S)
    return (
        [re.sub(r"\s+", " ", row) for row in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)] if block else []
    )


def test_an_unknown_email_and_another_courses_person_get_the_same_answer_page_and_invitation(rt, sch):
    tia, tom = sch.manager_own.session, sch.manager_other
    tenant_id = sch.group.tenant_id
    path = f"/ui/groups/{sch.group.id}/members"
    known = tia.post(path, {"email": tom.email})
    unknown = tia.post(path, {"email": "newbie@example.edu"})
    assert known.status_code == unknown.status_code == 302
    answers = [_text(tia.client.get(r.headers["Location"])) for r in (known, unknown)]
    assert all("Invitation sent to" in a for a in answers)
    # The answer pages differ only by the address typed (and its place in the list of invitations).
    said = [re.search(r'id="invited">(.*?)</div>', a, re.S).group(1) for a in answers]
    assert said[0].replace(tom.email, "X") == said[1].replace("newbie@example.edu", "X")
    rows = _invitation_rows(answers[1])
    assert [r.replace(tom.email, "X").replace("newbie@example.edu", "X") for r in rows] == [
        rows[0].replace("newbie@example.edu", "X")
    ] * 2
    # Nobody joined: the new address became an invited person, and both got an invitation to this group.
    newbie = _user_id(rt, tenant_id, "newbie@example.edu")
    assert newbie is not None and users.get_user(rt, tenant_id, newbie).status == "invited"
    assert not is_member(rt, sch.group.id, tom.user_id) and not is_member(rt, sch.group.id, newbie)
    for address in (tom.email, "newbie@example.edu"):
        [email] = _emails_to(rt, address)
        assert email.kind == "invitation" and "Course A seminar" in email.subject
        assert "invited you to join the group Course A seminar" in email.text_body
        assert "You join the group only if you accept" in email.text_body


def test_the_person_joins_when_they_use_the_single_use_link_and_only_then(rt, client, sch):
    tia, tom = sch.manager_own.session, sch.manager_other
    tia.post(f"/ui/groups/{sch.group.id}/members", {"email": tom.email})
    link = _link(rt, tom.email)
    shown = client.get(link)
    assert shown.status_code == 200 and "Join the group Course A seminar" in _text(shown)
    assert not is_member(rt, sch.group.id, tom.user_id)  # opening it (or a mail scanner) is not consent
    used = client.post(link)
    assert used.status_code == 200 and "You have joined Course A seminar" in _text(used)
    assert is_member(rt, sch.group.id, tom.user_id)
    assert client.post(link).status_code == 410  # once only
    page = _text(tia.get(f"/ui/groups/{sch.group.id}"))
    assert tom.email not in "".join(_invitation_rows(page))  # no longer waiting
    # Now in her scope, Tom's place in her group is hers to manage; his account still is not (staff).
    assert tia.get(f"/ui/people/{tom.user_id}").status_code == 200


def test_a_new_person_invited_by_a_manager_joins_through_the_same_link(rt, client, sch):
    tia = sch.manager_own.session
    tia.post(f"/ui/groups/{sch.group.id}/members", {"email": "Nora@Example.edu"})
    link = _link(rt, "Nora@Example.edu")
    assert client.post(link).status_code == 200
    nora = _user_id(rt, sch.group.tenant_id, "Nora@Example.edu")
    assert nora is not None and is_member(rt, sch.group.id, nora)


def test_a_resend_replaces_the_link_and_the_sends_are_bounded(rt, client, sch):
    tia, tom = sch.manager_own.session, sch.manager_other
    for _ in range(7):
        assert tia.post(f"/ui/groups/{sch.group.id}/members", {"email": tom.email}).status_code == 302
    sent = _emails_to(rt, tom.email)
    assert len(sent) == 5  # limits.GROUP_INVITATION_SENDS: the answer stays the same after that
    first = LINK.findall(sent[0].text_body)[0].removeprefix("http://localhost")
    assert client.post(first).status_code == 410  # superseded by the later sends
    assert client.post(_link(rt, tom.email)).status_code == 200


def test_people_of_the_managers_scope_are_added_at_once_with_the_same_answer(rt, sch):
    tia = sch.manager_own.session
    response = tia.post(f"/ui/groups/{sch.group.id}/members", {"email": "kim@example.edu"})
    assert response.status_code == 302 and "invited=kim" in response.headers["Location"]
    assert is_member(rt, sch.group.id, sch.kim.id)
    assert _emails_to(rt, "kim@example.edu") == []  # nothing to accept: she was already theirs to manage


def test_what_is_wrong_with_the_address_itself_is_said_whoever_has_it(sch):
    tia = sch.manager_own.session
    for value, words in (("", "Enter the email address"), ("not-an-email", "is not an email address")):
        response = tia.post(f"/ui/groups/{sch.group.id}/members", {"email": value})
        assert response.status_code == 400 and words in _text(response)


def test_people_added_to_a_roster_group_stay_when_the_roster_is_synced(rt, app, client, sch, platform, run_jobs):
    platform.members = [
        {"user_id": "tia", "status": "Active", "roles": [INSTRUCTOR], "email": "tia@example.edu"},
        {"user_id": "lou", "status": "Active", "roles": [LEARNER], "email": "lou@example.edu"},
    ]
    run_jobs()
    with rt.db.read() as s:
        roster_id = s.scalar(
            select(LtiContext.roster_group_id).where(
                LtiContext.course_id == sch.course.id, LtiContext.roster_group_id.is_not(None)
            )
        )
    tia = sch.manager_own.session
    assert tia.post(f"/ui/groups/{roster_id}/members", {"email": "kim@example.edu"}).status_code == 302
    tia.post(f"/ui/groups/{roster_id}/members", {"email": sch.manager_other.email})
    client.post(_link(rt, sch.manager_other.email))  # Tom accepts: he joins by hand, too
    # A sync whose list names neither Kim nor Tom keeps them: only the roster's own members can leave.
    platform.members = [
        {"user_id": "tia", "status": "Active", "roles": [INSTRUCTOR], "email": "tia@example.edu"},
    ]
    assert tia.post(f"/ui/groups/{roster_id}/sync").status_code == 302
    run_jobs()
    with rt.db.read() as s:
        members = dict(
            s.execute(select(Membership.user_id, Membership.source).where(Membership.group_id == roster_id)).all()
        )
    assert members[sch.kim.id] == members[sch.manager_other.user_id] == "manual"
    page = _text(tia.get(f"/ui/groups/{roster_id}"))
    assert "Added by hand" in page


def test_an_admin_still_adds_anyone_directly(rt, sch):
    ada, tom = sch.admin.session, sch.manager_other
    assert ada.post(f"/ui/groups/{sch.group.id}/members", {"email": tom.email}).status_code == 302
    assert is_member(rt, sch.group.id, tom.user_id)


# --- bulk add from the members template -----------------------------------------------------------


def _upload(session, group_id: int, content: bytes, name: str = "members.csv"):
    return session.post(
        f"/ui/groups/{group_id}/members/bulk",
        {"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_bulk_add_from_the_template_adds_the_managers_people_and_invites_everyone_else(rt, client, sch, run_jobs):
    tia, tom = sch.manager_own.session, sch.manager_other
    template = tia.get("/ui/imports/templates/members.xlsx")
    assert template.status_code == 200
    # The downloaded template, filled in (its header kept, the example rows replaced).
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for email, first in (("kim@example.edu", "Kim"), (tom.email, "Tom"), ("nia@example.edu", "Nia")):
        sheet.append([{"email_address": email, "first_name": first}.get(h, "") for h in header])
    filled = io.BytesIO()
    book.save(filled)
    lab = groups.create_group(rt, sch.group.tenant_id, {"name": "Course A lab"}, SETUP)
    lti_launch.add_course_group(rt, sch.group.tenant_id, sch.course.id, lab.id)
    started = _upload(tia, lab.id, filled.getvalue(), "members.xlsx")
    assert started.status_code == 302 and "/ui/operations/" in started.headers["Location"]
    run_jobs()
    assert is_member(rt, lab.id, sch.kim.id)  # hers already: joined at once
    assert not is_member(rt, lab.id, tom.user_id)  # another course's: invited only
    nia = _user_id(rt, sch.group.tenant_id, "nia@example.edu")
    assert nia is not None and not is_member(rt, lab.id, nia)
    assert len(_emails_to(rt, tom.email)) == len(_emails_to(rt, "nia@example.edu")) == 1
    client.post(_link(rt, "nia@example.edu"))
    assert is_member(rt, lab.id, nia)
    # The user action log lists it by its type, with its progress, filtered by type and date.
    log = _text(tia.get("/ui/logs", type="members_bulk_add", since=date.today().isoformat()))
    row = re.search(r'<tr data-type="members_bulk_add">(.*?)</tr>', log, re.S)
    assert row and "Bulk add members" in row.group(1) and "3 of 3" in row.group(1), log[-3000:]


def test_a_bulk_file_with_rows_that_are_not_addresses_changes_nothing_and_names_the_rows(rt, sch):
    tia = sch.manager_own.session
    response = _upload(tia, sch.group.id, b"email_address,first_name\nkim@example.edu,Kim\nnot an address,X\n")
    assert response.status_code == 400 and "Row 3" in _text(response)
    no_column = _upload(tia, sch.group.id, b"name\nKim\n")
    assert no_column.status_code == 400 and "no email_address column" in _text(no_column)


def test_the_managers_activity_log_tells_a_new_address_from_a_known_one_no_more_than_the_answer(sch):
    tia, tom = sch.manager_own.session, sch.manager_other

    def events() -> str:
        return _text(tia.get("/ui/activity")).split("<tbody>")[1].split("</tbody>")[0]

    created_before = events().count("Person created")
    for address in (tom.email, "newbie@example.edu"):
        tia.post(f"/ui/groups/{sch.group.id}/members", {"email": address})
    after = events()
    assert after.count("Invitation to a group sent") == 2
    assert after.count("Person created") == created_before  # the new person's creation is not hers to see
    assert "group.invitation" not in after  # words, never the event's internal name
