"""Uploads, progress and logs in the UI, in words (issue 16 items 1 and 4, issue 17's UI, issue 19's logs)."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.mail import triggers
from provisioning.services import groups, memberships, users

ACTOR = Actor("test", "api")


@pytest.fixture
def people(rt, tenant):
    made = {
        n: users.create_user(
            rt, tenant.id, {"email": f"{n.lower()}@example.edu", "given_name": n, "family_name": "Tester"}, ACTOR
        )
        for n in ("Ada", "Ben", "Cy", "Dee")
    }
    team = groups.create_group(rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
    memberships.add_members(rt, tenant.id, team.id, user_ids=[made["Ada"].id, made["Ben"].id], actor=ACTOR)
    return {**made, "team": team}


def _upload(session, content: bytes, name: str = "file.csv", **fields):
    return session.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), name), **fields}, content_type="multipart/form-data"
    )


def _import_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _list(page: str, kind: str, group: str) -> list[str]:
    block = re.search(
        rf'<ul class="list-group list-group-flush people-{kind}" data-group="{group}">(.*?)</ul>', page, re.S
    )
    return re.findall(r'<span class="fw-semibold">([^<]+)</span>', block.group(1)) if block else []


def test_the_upload_page_says_what_each_file_is_with_its_templates(owner):
    page = _text(owner.get("/ui/imports/new"))
    for words in (
        "Members of several groups",
        "Members of one group",
        "Bulk add new members to one group, with invitations",
        "People (create or update accounts)",
        "Course enrollments",
    ):
        assert words in page
    for template in ("user-groups", "group-users", "members", "users", "enrollments"):
        assert f"/ui/imports/templates/{template}.xlsx" in page and f"/ui/imports/templates/{template}.csv" in page
    assert 'id="group_id"' in page
    assert "column_mapping" not in page and "group_id</" not in page


def test_a_replace_preview_lists_who_joins_who_leaves_and_who_stays(owner, people):
    team = people["team"]
    imp = _import_id(
        _upload(owner, b"email\nben@example.edu\ncy@example.edu\n", kind="group", group_id=str(team.id), mode="replace")
    )
    page = _text(owner.get(f"/ui/imports/{imp}"))
    assert "1 joins, 1 leaves, 1 stays" in page and "members: 2 → 2" in page
    assert _list(page, "joining", "Team Alpha") == ["Cy Tester"]
    assert _list(page, "leaving", "Team Alpha") == ["Ada Tester"]
    assert _list(page, "staying", "Team Alpha") == ["Ben Tester"]
    assert "Members of one group" in page and "replaces the member list" in page and "header on row 1" in page


def test_a_person_is_left_out_from_the_people_list_of_a_group(owner, rt, tenant, people, run_jobs):
    content = b"Groupname,Email,Email\nTeam Alpha,cy@example.edu,dee@example.edu\nNight Class,ada@example.edu,\n"
    imp = _import_id(_upload(owner, content))
    page = _text(owner.get(f"/ui/imports/{imp}"))
    assert _list(page, "joining", "Team Alpha") == ["Cy Tester", "Dee Tester"]
    assert _list(page, "joining", "Night Class") == ["Ada Tester"]
    dee = re.search(r"name=\"exclude_member\" value='([^']+)' id=\"[^\"]+\" aria-label=\"Leave out Dee Tester\"", page)
    assert json.loads(dee.group(1)) == {"group": "Team Alpha", "email": "dee@example.edu"}
    edited = owner.post(f"/ui/imports/{imp}/edit", {"exclude_member": dee.group(1)})
    assert edited.status_code == 302
    page = _text(owner.get(f"/ui/imports/{imp}"))
    assert _list(page, "joining", "Team Alpha") == ["Cy Tester"] and re.search(r'id="excluded">1<', page)
    assert owner.post(f"/ui/imports/{imp}/commit").status_code == 302
    run_jobs()
    members = memberships.list_members(rt, tenant.id, people["team"].id).items
    assert {u.email for u, _ in members} == {"ada@example.edu", "ben@example.edu", "cy@example.edu"}


def test_rows_are_left_out_by_number_and_a_wrong_number_is_said_in_words(owner, people):
    imp = _import_id(_upload(owner, b"email,Groupname\nada@example.edu,Night Class\nben@example.edu,Night Class\n"))
    assert owner.post(f"/ui/imports/{imp}/edit", {"exclude_row_numbers": "3"}).status_code == 302
    assert _list(_text(owner.get(f"/ui/imports/{imp}")), "joining", "Night Class") == ["Ada Tester"]
    refused = owner.post(f"/ui/imports/{imp}/edit", {"exclude_row_numbers": "two"})
    assert refused.status_code == 400 and "“two” is not a row number" in _text(refused)
    refused = owner.post(f"/ui/imports/{imp}/edit", {"exclude_row_numbers": "99"})
    body = _text(refused)
    assert refused.status_code == 400 and "99" in body and "exclude_rows" not in body


def test_a_picture_gets_one_clear_message(owner):
    response = _upload(owner, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.png")
    body = _text(response)
    assert response.status_code == 400 and "“photo.png” is not a spreadsheet (PNG)" in body
    assert body.count('role="alert"') == 1 and "UTF-8" not in body
    renamed = _upload(owner, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.csv")
    text = _text(renamed)
    assert renamed.status_code == 400 and "can't be read as a spreadsheet" in text and "Upload CSV, TXT" not in text


def test_errors_name_no_api_fields(owner, people):
    unknown = _upload(owner, b"email,shoe size\nada@example.edu,42\n", kind="users")
    body = _text(unknown)
    assert unknown.status_code == 400 and "columns this kind of upload doesn't know" in body
    assert "column_mapping" not in body and "shoe size" in body
    no_group = _upload(owner, b"email\nada@example.edu\n", kind="group")
    body = _text(no_group)
    assert no_group.status_code == 400 and "Choose the group the file goes into" in body
    assert "group_id" not in body.split('id="upload-error"')[1].split("</div>")[0]


def test_a_managers_kinds_leave_out_what_only_admins_upload(client, app, rt, tenant, people):
    from tests.support.signin import launch_as

    ben = people["Ben"]
    tia = launch_as(client, app, tenant.id, ben.id, "manager", None)
    page = _text(tia.get("/ui/imports/new"))
    assert "Members of one group" in page and "People (create or update accounts)" not in page
    refused = _upload(tia, b"email,username\nx@example.edu,x\n", kind="users")
    assert refused.status_code == 400 and "Choose what the file is" in _text(refused)


def test_the_progress_card_says_the_result_in_words_with_the_runs_figures(owner, people, run_jobs):
    content = b"email,Groupname\nada@example.edu,Team Alpha\ncy@example.edu,Team Alpha\nnobody,Team Alpha\n"
    imp = _import_id(_upload(owner, content))
    committed = owner.post(f"/ui/imports/{imp}/commit")
    op_path = committed.headers["Location"].split("?")[0]
    waiting = _text(owner.get(op_path))
    assert 'hx-trigger="every 1s"' in waiting and 'id="stop"' in waiting and 'aria-valuenow="0"' in waiting
    run_jobs()
    card = _text(owner.get(f"{op_path}/progress"))
    assert "hx-trigger" not in card and 'aria-valuenow="100"' in card
    sentence = re.search(r'id="result-sentence" class="lead">([^<]+)<', card).group(1)
    assert sentence == "Imported 3 rows: 1 added, 1 error. Also: 1 already there."
    labels = re.findall(r"<dt>([^<]+)</dt>", card)
    assert labels == [
        "Rows read",
        "Added or updated",
        "Already done (nothing to change)",
        "Errors while applying",
        "Rows with errors in the file (skipped)",
    ]
    assert f"/ui/imports/{imp}/report.csv" in card
    preview = _text(owner.get(f"/ui/imports/{imp}"))
    assert re.search(r'id="run-sentence">Imported 3 rows: 1 added, 1 error\.', preview)
    # The action log says the same, with the same figures.
    assert "Imported 3 rows: 1 added, 1 error. Also: 1 already there." in _text(owner.get("/ui/logs", type="import"))


def test_stop_through_htmx_answers_with_the_card(owner, rt, tenant, people):
    op = batch_actions.request_batch_action(rt, tenant.id, "reactivate", {}, ACTOR, user_ids=[people["Ada"].id])
    stopped = owner.client.post(
        f"/ui/operations/{op.id}/stop",
        data={"lt": owner.token, "csrf": owner.csrf()},
        headers={"HX-Request": "true"},
    )
    body = _text(stopped)
    assert stopped.status_code == 200 and body.startswith('<div id="progress-live"')
    # A queued operation stops at once: nothing is left to stop, so Stop's area is emptied out of band.
    assert '<div id="stop-area" hx-swap-oob="true"></div>' in body and 'data-status="cancelled"' in body
    assert "Stopped" in body or "stopping after the current step" in body


def test_a_batch_actions_result_is_a_sentence_without_bookkeeping(owner, rt, tenant, people, run_jobs):
    op = batch_actions.request_batch_action(rt, tenant.id, "deactivate", {}, ACTOR, user_ids=[people["Cy"].id])
    run_jobs()
    page = _text(owner.get(f"/ui/operations/{op.id}"))
    assert "Deactivated 1 person." in page
    assert "done" not in re.search(r'id="result-facts">(.*?)</dl>', page, re.S).group(1).lower()
    log = _text(owner.get("/ui/logs", action="deactivate"))
    assert "Deactivated 1 person." in log and "ui:" not in log


def test_the_action_log_filters_by_group(owner, rt, tenant, people, run_jobs):
    other = groups.create_group(rt, tenant.id, {"name": "Other"}, ACTOR)
    memberships.request_copy(rt, tenant.id, other.id, people["team"].id, ACTOR)
    batch_actions.request_batch_action(rt, tenant.id, "reactivate", {}, ACTOR, group_id=people["team"].id)
    imp = _import_id(_upload(owner, b"email\ndee@example.edu\n", kind="group", group_id=str(people["team"].id)))
    owner.post(f"/ui/imports/{imp}/commit")
    run_jobs()
    rows = _text(owner.get("/ui/logs", group=str(people["team"].id))).split("<tbody>")[1]
    assert rows.count("<tr") == 2 and 'data-type="import"' in rows and 'data-type="batch_action"' in rows
    other_rows = _text(owner.get("/ui/logs", group=str(other.id))).split("<tbody>")[1]
    assert other_rows.count("<tr") == 1 and 'data-type="members_copy"' in other_rows
    assert owner.get("/ui/logs", group="abc").status_code == 400


def test_the_activity_log_reads_as_sentences_with_names_and_links(owner, rt, tenant, people):
    memberships.add_members(rt, tenant.id, people["team"].id, user_ids=[people["Dee"].id], actor=ACTOR)
    batch_actions.request_batch_action(rt, tenant.id, "reactivate", {}, ACTOR, user_ids=[people["Dee"].id])
    page = _text(owner.get("/ui/activity")).split("<tbody>")[1]
    assert "Added a member to the group" in page and "Started: Reactivate (users)" not in page
    assert "Started: Reactivate" in page
    assert f'<a href="/ui/groups/{people["team"].id}">Team Alpha</a> — <a href="/ui/people/{people["Dee"].id}">' in page
    assert not re.search(r"[a-z]+\.[a-z_]+(\.[a-z_]+)?\s*<", page)  # no raw codes
    only = _text(owner.get("/ui/activity", action="group.member_added", group=str(people["team"].id)))
    assert only.split("<tbody>")[1].count("<tr") >= 1
    assert owner.get("/ui/activity", action="not.a.code").status_code == 400
    rows = list(csv.reader(io.StringIO(_text(owner.get("/ui/activity.csv")))))
    assert rows[0] == ["When (UTC)", "Who", "What happened", "To what", "Also named", "Through", "Action code"]
    added = [r for r in rows if r[2] == "Added a member to the group"]
    assert added and added[0][3] == "Team Alpha" and added[0][4] == "Dee Tester"


def test_the_email_log_shows_the_message_and_its_trigger(owner, rt, tenant, people, run_jobs):
    triggers.update_trigger(rt, tenant.id, "group_added", enabled=True, actor=ACTOR)
    imp = _import_id(_upload(owner, b"email\ncy@example.edu\n", kind="group", group_id=str(people["team"].id)))
    owner.post(f"/ui/imports/{imp}/commit")
    run_jobs()
    page = _text(owner.get("/ui/emails"))
    assert "Automatic: Added to a group" in page and "cy@example.edu" in page
    assert re.search(r'<pre class="email-body[^"]*">[^<]*Team Alpha', page)
    filtered = _text(owner.get("/ui/emails", trigger="enrolled"))
    assert "cy@example.edu" not in filtered.split('id="emails"')[1]
    assert owner.get("/ui/emails", trigger="bogus").status_code == 400


def _join_url(rt, tenant_id, url="https://lms.example.edu/join"):
    from provisioning.models import Tenant

    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "join_url": url}


def test_bulk_add_members_previews_new_and_existing_people_and_invites_the_new(owner, rt, tenant, people, run_jobs):
    from provisioning.mail import outbox

    template = owner.get("/ui/imports/templates/bulk-add-members.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    content = (
        b"username,email,first_name,last_name,language,department\n"
        b"eve.new,eve@example.edu,Eve,New,fr,Research\nada,ada@example.edu,Ada,Tester,,\nbad,not-an-email,,,,\n"
    )
    team = people["team"]
    imp = _import_id(_upload(owner, content, name="bulk.csv", kind="bulk_add", group_id=str(team.id)))
    page = _text(owner.get(f"/ui/imports/{imp}"))
    new = re.search(r'id="people-new">(.*?)</details>', page, re.S).group(1)
    existing = re.search(r'id="people-existing">(.*?)</details>', page, re.S).group(1)
    assert "Eve New" in new and "eve@example.edu" in new and "Ada" not in new
    assert "ada@example.edu" in existing and "already in the group" in existing
    assert "not-an-email" in page.split('id="import-errors"')[1]
    # Without the join link the commit says what is missing, in words.
    refused = owner.post(f"/ui/imports/{imp}/commit")
    body = _text(refused)
    assert refused.status_code == 400 and "invitation link" in body and "join_url" not in body
    _join_url(rt, tenant.id)
    committed = owner.post(f"/ui/imports/{imp}/commit")
    assert committed.status_code == 302
    run_jobs()
    card = _text(owner.get(committed.headers["Location"].split("?")[0] + "/progress"))
    sentence = re.search(r'id="result-sentence" class="lead">([^<]+)<', card).group(1)
    assert sentence.startswith("Imported 3 rows: 2 accounts created or updated, 1 error."), sentence
    assert "1 invitation sent" in sentence and "1 added to the group" in sentence
    members = {u.email for u, _ in memberships.list_members(rt, tenant.id, team.id).items}
    assert "eve@example.edu" in members
    sent = outbox.list_emails(rt, tenant.id, kind="invitation").items
    assert [m.to_address for m in sent] == ["eve@example.edu"]
    # Queued (no SMTP_URL here): the log shows the email Eve will get, the link (signed when sent) hidden.
    log = _text(owner.get("/ui/emails"))
    assert "eve@example.edu" in log and "Hello Eve," in log and "/join/" not in log
    assert "the personal link is hidden" in log


def test_a_member_file_on_an_automatic_group_shows_the_always_included(owner, rt, tenant, people):
    auto = groups.create_group(
        rt, tenant.id, {"name": "Testers", "kind": "automatic", "rule": 'name.familyName eq "Nobody"'}, ACTOR
    )
    form = _text(owner.get("/ui/imports/new"))
    assert 'name="group_id_find"' in form and 'hx-get="/ui/pick/groups?field=group_id_find' in form
    offered = _text(owner.get("/ui/pick/groups", field="group_id_find", group_id_find="test"))
    assert (
        f'data-value="{auto.id}" data-name="Testers">Testers <span class="small text-body-secondary">· Automatic'
        in offered
    )
    imp = _import_id(_upload(owner, b"email\ncy@example.edu\n", kind="group", group_id_find="testers"))
    page = _text(owner.get(f"/ui/imports/{imp}"))
    assert "automatic: always included 0 → 1" in page
    assert _list(page, "joining", "Testers") == ["Cy Tester"]


def test_a_groups_progress_report_runs_now_is_scheduled_and_downloads(owner, rt, tenant, people, run_jobs):
    """user-group-managers, Reports Center: the group's progress, run and scheduled, in progress / upcoming / done."""
    team = people["team"]
    boss = users.create_user(rt, tenant.id, {"email": "boss@example.edu", "given_name": "Bo", "role": "manager"}, ACTOR)
    page = _text(owner.get(f"/ui/groups/{team.id}/report"))
    assert "Progress of Team Alpha" in page and re.search(r"<dt>Members</dt><dd>2</dd>", page)
    started = owner.post(f"/ui/groups/{team.id}/report/run", {"recipients": ""})
    assert started.status_code == 302 and "/ui/operations/" in started.headers["Location"]
    in_progress = _text(owner.get("/ui/reports")).split('id="reports-in-progress"')[1].split("</table>")[0]
    assert "Team Alpha" in in_progress
    run_jobs()
    done = _text(owner.get("/ui/reports")).split('id="reports-done"')[1].split("</table>")[0]
    assert "Report ready: 2 members, 0% of enrollments completed." in done
    refused = owner.post(
        f"/ui/groups/{team.id}/report/schedule", {"frequency": "weekly", "recipients": "ada@example.edu"}
    )
    body = _text(refused)
    assert (
        refused.status_code == 400
        and "not an active manager of this group, administrator or report viewer" in body
        and "recipients.0" not in body
    )
    assert (
        owner.post(
            f"/ui/groups/{team.id}/report/schedule", {"frequency": "weekly", "recipients": boss.email}
        ).status_code
        == 302
    )
    upcoming = _text(owner.get("/ui/reports")).split('id="reports-upcoming"')[1].split("</table>")[0]
    assert "Every week" in upcoming and "boss@example.edu" in upcoming and "Team Alpha" in upcoming
    rows = list(csv.reader(io.StringIO(_text(owner.get(f"/ui/groups/{team.id}/report.csv")).lstrip("\ufeff"))))
    assert len(rows) == 3  # the header, and one row per member without courses
    assert owner.get("/ui/reports", group=str(team.id)).headers["Location"].startswith(f"/ui/groups/{team.id}/report")


def _member_sources(client, tenant, group_id: int) -> dict[str, str]:
    r = client.get(f"/api/v1/groups/{group_id}/members?per_page=500", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return {m["email"]: m["source"] for m in r.json["items"]}


def test_replacing_an_automatic_groups_file_replaces_who_is_always_included(
    owner, client, rt, tenant, people, run_jobs
):
    """automatic-groups article: CSV associations on an automatic group; replace mode replaces its
    always-included list (the rule's own members stay)."""
    users.update_user(rt, tenant.id, people["Dee"].id, {"department": "QA"}, ACTOR)
    auto = groups.create_group(
        rt, tenant.id, {"name": "Testers", "kind": "automatic", "rule": 'department eq "QA"'}, ACTOR
    )
    run_jobs()
    first = _import_id(
        _upload(owner, b"email\nada@example.edu\nben@example.edu\n", kind="group", group_id=str(auto.id))
    )
    assert owner.post(f"/ui/imports/{first}/commit").status_code == 302
    run_jobs()
    assert _member_sources(client, tenant, auto.id) == {
        "ada@example.edu": "included",
        "ben@example.edu": "included",
        "dee@example.edu": "rule",
    }
    again = _upload(
        owner, b"email\nben@example.edu\ncy@example.edu\n", kind="group", group_id=str(auto.id), mode="replace"
    )
    imp = _import_id(again)
    page = _text(owner.get(f"/ui/imports/{imp}"))
    assert "automatic: always included 2 → 2" in page
    assert _list(page, "joining", "Testers") == ["Cy Tester"]
    assert _list(page, "leaving", "Testers") == ["Ada Tester"]
    assert "No longer always included (not in the file)" in page
    assert owner.post(f"/ui/imports/{imp}/commit").status_code == 302
    run_jobs()
    assert _member_sources(client, tenant, auto.id) == {
        "ben@example.edu": "included",
        "cy@example.edu": "included",
        "dee@example.edu": "rule",  # the rule's member stays: only the include list was replaced
    }


def test_the_file_that_created_people_adds_them_to_a_group_from_the_upload_page(
    owner, client, rt, tenant, people, run_jobs
):
    """automatic-groups article: "If you used a bulk upload to create users, you can use the same file to add
    users to a group" — the People file, uploaded again as a bulk add into a group, invites nobody."""
    _join_url(rt, tenant.id)
    content = b"username,email,first_name,last_name\neve,eve@example.edu,Eve,Tester\nfay,fay@example.edu,Fay,Tester\n"
    created = _import_id(_upload(owner, content, "people.csv", kind="users"))
    assert owner.post(f"/ui/imports/{created}/commit").status_code == 302
    run_jobs()
    said = _text(owner.get(f"/ui/imports/{created}"))
    assert "2 people created" in said and "No invitation was sent" in said  # never silently
    cohort = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ACTOR)
    imp = _import_id(_upload(owner, content, "people.csv", kind="bulk_add", group_id=str(cohort.id)))
    page = _text(owner.get(f"/ui/imports/{imp}"))
    existing = page.split('id="people-existing"')[1].split("</details>")[0]
    assert "Eve Tester" in existing and "Fay Tester" in existing
    assert "No one." in page.split('id="people-new"')[1].split("</details>")[0]
    assert owner.post(f"/ui/imports/{imp}/commit").status_code == 302
    run_jobs()
    assert set(_member_sources(client, tenant, cohort.id)) == {"eve@example.edu", "fay@example.edu"}
    result = _text(owner.get(f"/ui/imports/{imp}"))
    assert "2 added to the group" in result and "invitation sent" not in result
    assert "No invitation was sent" not in result  # nobody was created
    sent = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin).json["items"]
    assert sent == []  # they had accounts: nobody new, no invitation


def test_a_monthly_report_is_scheduled_and_the_report_downloads_as_excel(owner, rt, tenant, people):
    """user-group-managers, Reports Center: a monthly report, listed as upcoming; the report as Excel."""
    import openpyxl

    team = people["team"]
    assert (
        owner.post(f"/ui/groups/{team.id}/report/schedule", {"frequency": "monthly", "recipients": ""}).status_code
        == 302
    )
    upcoming = _text(owner.get("/ui/reports")).split('id="reports-upcoming"')[1].split("</table>")[0]
    assert "Every month" in upcoming and "Team Alpha" in upcoming
    workbook = owner.get(f"/ui/groups/{team.id}/report.xlsx")
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data)).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == 3 and {"ada@example.edu", "ben@example.edu"} <= {v for row in rows[1:] for v in row}
