"""Automatic notifications (issue 17 #3): per-tenant triggers with templates, sent once per event.

Against the real in-process SMTP server: each trigger's email arrives once, a replayed event
(the same API call, import or roster sync again, a retried chunk) sends nothing more, a trigger
that is off sends nothing, and a template with an unknown placeholder is a 400 naming it and
where it is.
"""

from __future__ import annotations

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.mail import trigger_events
from provisioning.mail.triggers import event_select, fire
from provisioning.models import Course, EmailMessage, Enrollment, Tenant
from tests.support.api import batch, commit_and_run, preview
from tests.support.factories import make_user
from tests.support.lti_platform import LEARNER, launch, register_platform
from tests.support.servers import parts

ADMIN = Actor("test admin", "api")


def _switch(client, tenant, trigger, enabled=True, **body):
    r = client.patch(
        f"/api/v1/notification-triggers/{trigger}", json={"enabled": enabled, **body}, headers=tenant.admin
    )
    assert r.status_code == 200, r.json
    return r.json


def _course(client, tenant, external_id="driver-safety", title="Driver safety"):
    r = client.post("/api/v1/courses", json={"external_id": external_id, "title": title}, headers=tenant.admin)
    assert r.status_code == 201, r.json


def _enroll(client, tenant, *rows):
    r = client.post("/api/v1/enrollments", json=list(rows), headers=tenant.admin)
    assert r.status_code in (200, 201), r.json
    return r.json


def _log(client, tenant, **query):
    r = client.get("/api/v1/emails", query_string={"per_page": 500, **query}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_every_trigger_starts_off_with_default_templates_and_its_placeholders(client, tenant):
    r = client.get("/api/v1/notification-triggers", headers=tenant.admin)
    assert r.status_code == 200
    items = {t["trigger"]: t for t in r.json["items"]}
    assert list(items) == ["enrolled", "completed", "group_added", "invited", "seat_assigned"]
    assert not any(t["enabled"] for t in items.values())
    assert items["enrolled"]["placeholders"] == ["first_name", "course", "link", "tenant"]
    assert "{group}" in items["group_added"]["templates"]["en"]["subject"]
    _switch(client, tenant, "completed")
    events = client.get("/api/v1/activity?action=notification_trigger.updated", headers=tenant.admin).json["items"]
    assert [(e["object_id"], e["details"]["enabled"]) for e in events] == [("completed", True)]
    assert {"en", "fr", "es"} <= set(items["completed"]["templates"])
    assert client.get("/api/v1/notification-triggers/nope", headers=tenant.admin).status_code == 400


def test_template_errors_are_400s_naming_the_placeholder_and_its_position(client, tenant):
    r = client.patch(
        "/api/v1/notification-triggers/enrolled",
        json={
            "templates": {
                "en": {"subject": "Welcome {frist_name}", "body": "Hello\nsee {group} at {link"},
                "fr": {"subject": "Bonjour", "body": "Salut {first_name}"},
            }
        },
        headers=tenant.admin,
    )
    assert r.status_code == 400
    errors = r.json["errors"]
    assert errors["templates.en.subject"] == [
        "Unknown placeholder {frist_name} at position 9 (line 1, column 9); "
        "use {first_name}, {course}, {link}, {tenant}."
    ]
    body = errors["templates.en.body"]
    assert body[0].startswith("Placeholder {group} at position 11 (line 2, column 5) is not available for the enrolled")
    assert body[1].startswith("Unmatched '{' at position 22 (line 2, column 16)")
    assert "templates.fr.body" not in errors
    # Nothing was changed, not even the valid language.
    assert "fr" not in client.get("/api/v1/notification-triggers/enrolled", headers=tenant.admin).json["customized"]
    bad_language = client.patch(
        "/api/v1/notification-triggers/enrolled",
        json={"templates": {"French": {"subject": "x", "body": "y"}}},
        headers=tenant.admin,
    )
    assert bad_language.status_code == 400 and "templates.French" in bad_language.json["errors"]
    two_lines = client.patch(
        "/api/v1/notification-triggers/enrolled",
        json={"templates": {"en": {"subject": "a\nb", "body": "y"}}},
        headers=tenant.admin,
    )
    assert two_lines.status_code == 400 and two_lines.json["errors"]["templates.en.subject"] == [
        "A subject is one line."
    ]


def test_enrolled_and_completed_send_one_email_each_and_a_replay_sends_nothing(rt, client, tenant, run_jobs, mail):
    _switch(client, tenant, "enrolled")
    _switch(client, tenant, "completed")
    make_user(rt, tenant.id, "ann", given_name="Ann")
    make_user(rt, tenant.id, "bob", given_name="Bob")
    _course(client, tenant)
    rows = [{"email": f"{n}@example.edu", "course_id": "driver-safety"} for n in ("ann", "bob")]
    _enroll(client, tenant, *rows)
    run_jobs()
    assert sorted(m["Subject"] for m in mail.received) == ["You are enrolled in Driver safety"] * 2
    text, html = parts(mail.to("ann@example.edu")[0])
    assert "Hello Ann," in text and "You are now enrolled in Driver safety." in text and "http://localhost" in text
    assert "Hello Ann," in html
    _enroll(client, tenant, *rows)  # the same call again (a client retry)
    run_jobs()
    assert len(mail.received) == 2
    done = {"email": "ann@example.edu", "course_id": "driver-safety", "status": "completed"}
    _enroll(client, tenant, done)
    run_jobs()
    _enroll(client, tenant, done)
    _enroll(client, tenant, {**done, "completed_at": "2025-01-01T00:00:00Z"})  # still the same completion
    run_jobs()
    assert [m["Subject"] for m in mail.to("ann@example.edu")] == [
        "You are enrolled in Driver safety",
        "You completed Driver safety",
    ]
    log = _log(client, tenant, trigger="completed")
    assert [(e["to"], e["trigger"], e["kind"], e["status"]) for e in log] == [
        ("ann@example.edu", "completed", "notification", "sent")
    ]
    assert len(_log(client, tenant, trigger="enrolled")) == 2


def test_a_trigger_that_is_off_sends_nothing_and_switching_it_on_does_not_replay_old_events(
    rt, client, tenant, run_jobs, mail
):
    make_user(rt, tenant.id, "ann")
    _course(client, tenant)
    row = {"email": "ann@example.edu", "course_id": "driver-safety"}
    _enroll(client, tenant, row)
    run_jobs()
    assert mail.received == []
    _switch(client, tenant, "enrolled")
    _enroll(client, tenant, row)  # the enrollment exists: no new event
    run_jobs()
    assert mail.received == [] and _log(client, tenant) == []
    _switch(client, tenant, "enrolled", enabled=False)
    make_user(rt, tenant.id, "bob")
    _enroll(client, tenant, {"email": "bob@example.edu", "course_id": "driver-safety"})
    run_jobs()
    assert mail.received == []


def test_the_users_language_picks_the_template_and_names_are_escaped_in_html(rt, client, tenant, run_jobs, mail):
    _switch(
        client,
        tenant,
        "enrolled",
        templates={"de": {"subject": "Willkommen in {course}", "body": "Hallo {first_name}!\n\n{course} wartet."}},
    )
    make_user(rt, tenant.id, "ann", given_name="<b>Ann</b>", language="fr-CA")
    make_user(rt, tenant.id, "jo", given_name="Jo", language="de")
    make_user(rt, tenant.id, "kim", given_name="Kim", language="ja")
    _course(client, tenant, title="Fish & Chips")
    _enroll(
        client, tenant, *({"email": f"{n}@example.edu", "course_id": "driver-safety"} for n in ("ann", "jo", "kim"))
    )
    run_jobs()
    assert mail.to("ann@example.edu")[0]["Subject"] == "Vous êtes inscrit(e) à Fish & Chips"
    assert mail.to("jo@example.edu")[0]["Subject"] == "Willkommen in Fish & Chips"
    assert mail.to("kim@example.edu")[0]["Subject"] == "You are enrolled in Fish & Chips"  # no Japanese: English
    text, html = parts(mail.to("ann@example.edu")[0])
    assert "Bonjour <b>Ann</b>," in text
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann" not in html and "Fish &amp; Chips" in html
    jo_text, _ = parts(mail.to("jo@example.edu")[0])
    assert jo_text.replace("\r\n", "\n").startswith("Hallo Jo!\n\nFish & Chips wartet.")


def test_added_to_a_group_sends_once_and_adding_again_sends_nothing(rt, client, tenant, run_jobs, mail):
    _switch(client, tenant, "group_added")
    ann = make_user(rt, tenant.id, "ann", given_name="Ann")
    group = client.post("/api/v1/groups", json={"name": "Sales team"}, headers=tenant.admin).json
    for _ in range(2):
        r = client.post(f"/api/v1/groups/{group['id']}/members", json={"user_ids": [ann.id]}, headers=tenant.admin)
        assert r.status_code == 200, r.json
    run_jobs()
    assert [m["Subject"] for m in mail.received] == ["You were added to Sales team"]
    # A batch action adding everyone to the group is set-based and keeps the one email per event.
    bob = make_user(rt, tenant.id, "bob")
    batch(client, tenant, "add_to_groups", user_ids=[ann.id, bob.id], params={"group_ids": [group["id"]]})
    run_jobs()
    assert sorted(m["To"] for m in mail.received) == ["ann@example.edu", "bob@example.edu"]
    assert {e["trigger"] for e in _log(client, tenant)} == {"group_added"}


def test_invited_fires_for_a_first_invitation_not_for_a_resend(rt, client, tenant, run_jobs, mail):
    with rt.db.transaction() as s:
        t = s.get(Tenant, tenant.id)
        t.settings = {**(t.settings or {}), "join_url": "https://lms.example.edu/join"}
    _switch(client, tenant, "invited")
    group = client.post("/api/v1/groups", json={"name": "New hires"}, headers=tenant.admin).json
    r = client.post(
        f"/api/v1/groups/{group['id']}/members", json={"emails": ["nora@example.edu"]}, headers=tenant.admin
    )
    assert r.status_code == 200, r.json
    run_jobs()
    subjects = sorted(m["Subject"] for m in mail.to("nora@example.edu"))
    assert subjects == ["Welcome to Acme University", "You are invited to join Acme University"]
    automatic = [m for m in mail.received if m["Subject"] == "Welcome to Acme University"][0]
    assert "https://lms.example.edu/join" in parts(automatic)[0]
    with rt.db.read() as s:
        nora_id = s.scalar(select(EmailMessage.user_id).where(EmailMessage.trigger == "invited"))
    batch(client, tenant, "resend_invite", user_ids=[nora_id])
    run_jobs()
    assert sorted(m["Subject"] for m in mail.to("nora@example.edu")) == [
        "Welcome to Acme University",
        "You are invited to join Acme University",
        "You are invited to join Acme University",
    ]


def test_seat_assigned_fires_on_creation_and_reactivation_once_each(rt, client, tenant, run_jobs, mail):
    _switch(client, tenant, "seat_assigned")
    r = client.post(
        "/api/v1/users",
        json={"email": "ann@example.edu", "first_name": "Ann", "last_name": "Lee"},
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    ann = r.json["id"]
    make_user(rt, tenant.id, "gone", status="deactivated")  # takes no seat: no email
    run_jobs()
    assert [m["To"] for m in mail.received] == ["ann@example.edu"]
    for status in ("deactivated", "active", "active"):
        r = client.patch(f"/api/v1/users/{ann}", json={"status": status}, headers=tenant.admin)
        assert r.status_code == 200, r.json
    run_jobs()
    assert [m["Subject"] for m in mail.received] == ["Your seat at Acme University"] * 2


def test_an_enrollments_import_run_twice_sends_one_email_per_event(rt, client, tenant, run_jobs, mail):
    _switch(client, tenant, "enrolled")
    _switch(client, tenant, "completed")
    for n in ("ann", "bob"):
        make_user(rt, tenant.id, n)
    _course(client, tenant)
    content = (
        "email,user_id,course_id,role,status,completed_at\n"
        "ann@example.edu,,driver-safety,Learner,completed,2024-05-31\n"
        "bob@example.edu,,driver-safety,Learner,enrolled,\n"
    )
    for _ in range(2):
        body = preview(client, tenant, content, filename="enrollments.csv")
        op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
        assert op.status == "succeeded", op.errors
    run_jobs()
    assert sorted((m["To"], m["Subject"]) for m in mail.received) == [
        ("ann@example.edu", "You are enrolled in Driver safety"),
        ("ann@example.edu", "You completed Driver safety"),
        ("bob@example.edu", "You are enrolled in Driver safety"),
    ]
    assert {e["trigger"] for e in _log(client, tenant)} == {"enrolled", "completed"}


def test_a_roster_sync_run_again_sends_nothing_more(rt, client, tenant, platform, run_jobs, mail):
    _switch(client, tenant, "enrolled")
    _switch(client, tenant, "group_added")
    _switch(client, tenant, "seat_assigned")
    platform.members = [
        {"user_id": f"m-{i}", "status": "Active", "roles": [LEARNER], "given_name": "M", "email": f"m{i}@example.edu"}
        for i in (1, 2)
    ]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="m1@example.edu", roles=[LEARNER])
    run_jobs()
    first = sorted((m["To"], m["Subject"]) for m in mail.to("m2@example.edu"))
    assert first == [
        ("m2@example.edu", "You are enrolled in Course One"),
        ("m2@example.edu", "You were added to Roster: Course One"),
        ("m2@example.edu", "Your seat at Acme University"),
    ]
    # m-1 launched first: the launch created them (a seat) and enrolled them; the sync added them to the roster.
    assert sorted(m["Subject"] for m in mail.to("m1@example.edu")) == [s for _, s in first]
    first = list(mail.received)
    r = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin)
    assert r.status_code == 202, r.json
    launch(client, platform, sub="m-1", email="m1@example.edu", roles=[LEARNER])  # a launch again, too
    run_jobs()
    assert len(mail.received) == len(first) == 6


def test_the_database_refuses_a_second_email_for_the_same_event(rt, client, tenant):
    """A retried chunk that fires the same events again adds no row: the dedupe key is unique."""
    _switch(client, tenant, "enrolled")
    make_user(rt, tenant.id, "ann")
    _course(client, tenant)
    _enroll(client, tenant, {"email": "ann@example.edu", "course_id": "driver-safety"})
    with rt.db.transaction() as s:
        events = event_select(Enrollment.user_id, Enrollment.course_id, Enrollment.id, course=Course.title).join(
            Course, Course.id == Enrollment.course_id
        )
        assert fire(s, rt, tenant.id, "enrolled", events) == 0
    with rt.db.read() as s:
        keys = list(s.scalars(select(EmailMessage.dedupe_key)))
    assert len(keys) == 1 and keys[0].startswith("enrolled:")
    assert trigger_events.completed_before is not None


def test_a_member_import_run_twice_and_a_users_import_send_one_email_per_event(rt, client, tenant, run_jobs, mail):
    _switch(client, tenant, "group_added")
    _switch(client, tenant, "seat_assigned")
    make_user(rt, tenant.id, "ann")
    make_user(rt, tenant.id, "bob")
    run_jobs()
    assert len(mail.received) == 2  # the seats of ann and bob
    mail.received.clear()
    group = client.post("/api/v1/groups", json={"name": "Maths"}, headers=tenant.admin).json
    for _ in range(2):
        body = preview(client, tenant, "email\nann@example.edu\nbob@example.edu\n", group_id=group["id"])
        op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
        assert op.status == "succeeded", op.errors
    run_jobs()
    assert sorted((m["To"], m["Subject"]) for m in mail.received) == [
        ("ann@example.edu", "You were added to Maths"),
        ("bob@example.edu", "You were added to Maths"),
    ]
    users_file = "email,username,first_name,last_name,role,language,department\nnew@example.edu,new,Nia,N,,fr,\n"
    for _ in range(2):
        body = preview(client, tenant, users_file)
        commit_and_run(client, tenant, run_jobs, rt, body["id"])
    run_jobs()
    assert [m["Subject"] for m in mail.to("new@example.edu")] == ["Votre place sur Acme University"]


def test_a_preview_shows_the_email_with_sample_names_and_checks_an_edit(client, tenant):
    r = client.post("/api/v1/notification-triggers/completed/preview", json={"language": "fr"}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    assert r.json["subject"] == "Vous avez terminé Driver safety" and "Bonjour Ann," in r.json["text"]
    edit = {"subject": "Bravo {first_name}", "body": "{course} est fini, {group}."}
    bad = client.post("/api/v1/notification-triggers/completed/preview", json=edit, headers=tenant.admin)
    assert bad.status_code == 400 and "{group}" in bad.json["errors"]["templates.en.body"][0]
    edit["body"] = "{course} est fini."
    good = client.post("/api/v1/notification-triggers/completed/preview", json=edit, headers=tenant.admin)
    assert good.status_code == 200 and good.json["subject"] == "Bravo Ann"
    assert client.get("/api/v1/notification-triggers/completed", headers=tenant.admin).json["customized"] == []
