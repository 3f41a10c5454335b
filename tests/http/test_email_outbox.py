"""The email outbox and its SMTP sender, against a real SMTP server running in this process."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import delete, select

from provisioning.activity import Actor
from provisioning.config import ConfigurationError
from provisioning.mail import outbox, stencils
from provisioning.models import EmailMessage, EmailStencil, Operation, Tenant
from provisioning.services import groups
from provisioning.services.join_links import check_join_link
from tests.support.api import batch, commit_and_run, preview
from tests.support.environment import REPO_ROOT
from tests.support.factories import ADMIN, make_user, operation
from tests.support.servers import parts


def _set_tenant_settings(rt, tenant_id, **values):
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), **values}


def _emails(rt, **where):
    with rt.db.read() as s:
        stmt = select(EmailMessage).order_by(EmailMessage.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(EmailMessage, key) == value)
        return list(s.scalars(stmt))


def test_an_invitation_arrives_over_smtp_with_a_text_and_an_html_part(rt, client, tenant, run_jobs, mail):
    _set_tenant_settings(rt, tenant.id, join_url="https://lms.example.edu/join?t=acme")
    newbie = make_user(rt, tenant.id, "newbie", given_name="Nora", status="invited")
    active = make_user(rt, tenant.id, "ann")
    r = batch(client, tenant, "resend_invite", user_ids=[newbie.id, active.id])
    run_jobs()
    assert operation(rt, tenant.id, r.json["operation_id"]).result["not_invited"] == 1
    [message] = mail.received
    assert message["To"] == "newbie@example.edu" and message["From"] == "lms@acme.test"
    assert message["Subject"] == "You are invited to join Acme University"
    assert message["Message-ID"].startswith(f"<outbox-{tenant.id}-")
    text, html = parts(message)
    assert "Hello Nora" in text and "http://localhost/join/" in text  # the join link (tests/http/test_join_links.py)
    assert 'href="http://localhost/join/' in html and "<strong>Acme University</strong>" in html
    log = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin).json
    assert [(e["to"], e["status"], e["attempts"]) for e in log["items"]] == [("newbie@example.edu", "sent", 1)]


def test_without_smtp_url_emails_stay_in_the_outbox_and_show_in_the_log(rt, client, tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann")
    batch(client, tenant, "notify", user_ids=[ann.id], params={"subject": "Hello", "body": "Welcome aboard"})
    run_jobs()
    log = client.get("/api/v1/emails", headers=tenant.admin).json
    assert log["total"] == 1
    entry = log["items"][0]
    assert (entry["status"], entry["kind"], entry["to"]) == ("queued", "notification", "ann@example.edu")
    assert "SMTP_URL is not set" in entry["reason"]
    with rt.db.read() as s:
        assert s.scalar(select(Operation).where(Operation.type == "send_emails")) is None


def test_a_4xx_reply_is_retried_with_growing_delays_until_the_server_accepts(rt, client, tenant, run_jobs, mail):
    mail.replies = ["451 4.3.0 Mailbox busy, try again later", "451 4.3.0 Still busy"]
    ann = make_user(rt, tenant.id, "ann")
    batch(client, tenant, "notify", user_ids=[ann.id], params={"subject": "Hello", "body": "Welcome"})
    run_jobs()
    assert len(mail.to("ann@example.edu")) == 1
    [sent] = _emails(rt)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 3, None)
    first_gap, second_gap = (b - a for a, b in zip(mail.attempts, mail.attempts[1:]))
    assert first_gap >= 0.05 and second_gap >= 0.1  # retry_base 0.05 s, doubled


def test_a_5xx_reply_fails_the_message_with_the_servers_reason(rt, client, tenant, run_jobs, mail):
    mail.replies = ["550 5.1.1 No such mailbox here"]
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    batch(client, tenant, "notify", user_ids=[ann.id, bob.id], params={"subject": "Hello", "body": "Welcome"})
    run_jobs()
    failed = client.get("/api/v1/emails?status=failed", headers=tenant.admin).json["items"]
    assert len(failed) == 1 and failed[0]["reason"] == "550 5.1.1 No such mailbox here"
    assert len(mail.received) == 1


def test_the_sender_gives_up_after_the_maximum_number_of_attempts(rt, client, tenant, run_jobs, mail):
    mail.replies = ["421 4.7.0 Too many connections"] * 10
    ann = make_user(rt, tenant.id, "ann")
    batch(client, tenant, "notify", user_ids=[ann.id], params={"subject": "Hello", "body": "Welcome"})
    run_jobs()
    [message] = _emails(rt)
    assert message.status == "failed" and message.attempts == 4
    assert message.last_error.startswith("Gave up after 4 attempts: 421 4.7.0")
    assert mail.received == []


def test_a_message_claimed_by_a_worker_that_died_is_sent_once_after_its_lease(rt, client, tenant, run_jobs, mail):
    rt.settings.email_claim_lease_seconds = 0.5
    people = [make_user(rt, tenant.id, f"user{i}") for i in range(3)]
    # The worker dies right after claiming: the message is "sending" and nobody will send it.
    mail_url, rt.settings.smtp_url = rt.settings.smtp_url, None
    batch(client, tenant, "notify", user_ids=[u.id for u in people], params={"subject": "Hi", "body": "Hello"})
    run_jobs()
    rt.settings.smtp_url = mail_url
    dead = outbox.claim_next(rt, tenant.id, "dead-worker")
    assert [m.status for m in _emails(rt)].count("sending") == 1
    with rt.db.transaction() as s:
        outbox.ensure_sender(s, rt, tenant.id)
    run_jobs()
    assert sorted(m["To"] for m in mail.received) == sorted(u.email for u in people)
    assert all(m.status == "sent" for m in _emails(rt))
    assert [m.attempts for m in _emails(rt) if m.id == dead] == [2]


WORKER = textwrap.dedent("""
    import sys
    from jobs.runner import execute
    from provisioning.config import Settings
    from provisioning.db import Database
    from provisioning.runtime import Runtime

    url, port, op_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    settings = Settings.from_mapping({"database_url": url, "secret_key": "x" * 32, "smtp_url": f"smtp://127.0.0.1:{port}",
                                      "email_send_interval": 0, "mail_from": "lms@acme.test"})
    execute(Runtime(settings=settings, db=Database(settings.database_url)), op_id)
""")


def test_a_send_job_killed_between_claim_and_delivery_resumes_without_sending_twice(rt, client, tenant, run_jobs, mail):
    people = [make_user(rt, tenant.id, f"user{i}") for i in range(4)]
    mail_url, rt.settings.smtp_url = rt.settings.smtp_url, None
    batch(client, tenant, "notify", user_ids=[u.id for u in people], params={"subject": "Hi", "body": "Hello"})
    run_jobs()  # queues the emails; nothing is sent without SMTP_URL
    rt.settings.smtp_url = mail_url
    with rt.db.transaction() as s:
        outbox.ensure_sender(s, rt, tenant.id)
        s.flush()
        op_id = s.scalar(select(Operation.id).where(Operation.type == "send_emails"))
    mail.hold = {people[1].email}  # the second delivery hangs after the message was claimed
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, rt.settings.database_url, str(mail.port), str(op_id)], cwd=REPO_ROOT
    )
    try:
        assert mail.holding.wait(30), "the worker never reached the second message"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert [m.status for m in _emails(rt)] == ["sent", "sending", "queued", "queued"]
    mail.release()
    # The worker is gone: its Operation's heartbeat and its claim both go stale, and a re-run resumes.
    rt.settings.operation_stale_seconds = 1
    rt.settings.email_claim_lease_seconds = 1
    time.sleep(1.2)
    run_jobs()
    assert operation(rt, tenant.id, op_id).status == "succeeded"
    assert sorted(m["To"] for m in mail.received) == sorted(u.email for u in people)
    assert [m.status for m in _emails(rt)] == ["sent"] * 4


def test_the_email_log_filters_and_never_shows_another_tenants_mail(rt, client, tenant, other_tenant, run_jobs, mail):
    mail.replies = ["550 5.1.1 No such mailbox"]
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    zed = make_user(rt, other_tenant.id, "zed")
    batch(client, tenant, "notify", user_ids=[ann.id, bob.id], params={"subject": "Hi", "body": "Hello"})
    batch(client, other_tenant, "notify", user_ids=[zed.id], params={"subject": "Hi", "body": "Hello"})
    run_jobs()
    mine = client.get("/api/v1/emails", headers=tenant.admin).json
    assert mine["total"] == 2 and {e["to"] for e in mine["items"]} == {"ann@example.edu", "bob@example.edu"}
    assert client.get("/api/v1/emails?to=BOB@example.edu", headers=tenant.admin).json["total"] == 1
    assert client.get(f"/api/v1/emails?user_id={zed.id}", headers=tenant.admin).json["total"] == 0
    assert client.get("/api/v1/emails?status=failed", headers=tenant.admin).json["total"] == 1
    r = client.get("/api/v1/emails?status=lost", headers=tenant.admin)
    assert r.status_code == 400 and "status" in r.json["errors"]


def test_the_send_operation_is_started_by_the_system_after_commit(rt, tenant, mail):
    with rt.db.transaction() as s:
        outbox.ensure_sender(s, rt, tenant.id)
        outbox.ensure_sender(s, rt, tenant.id)  # one waiting sender is enough
    with rt.db.read() as s:
        ops = list(s.scalars(select(Operation).where(Operation.type == "send_emails")))
    assert len(ops) == 1 and ops[0].requested_by == Actor.system().name


def test_emails_kept_without_smtp_go_out_when_sending_is_requested_later(rt, client, tenant, run_jobs, smtp_server):
    ann = make_user(rt, tenant.id, "ann")
    batch(client, tenant, "notify", user_ids=[ann.id], params={"subject": "Hello", "body": "Welcome"})
    run_jobs()
    r = client.post("/api/v1/emails/send", headers=tenant.admin)
    assert r.status_code == 400 and "SMTP_URL" in r.json["errors"]
    rt.settings.smtp_url = f"smtp://127.0.0.1:{smtp_server.port}"
    r = client.post("/api/v1/emails/send", headers=tenant.admin)
    assert r.status_code == 202
    run_jobs()
    assert [m["To"] for m in smtp_server.received] == ["ann@example.edu"]
    assert operation(rt, tenant.id, r.json["operation_id"]).result["sent"] == 1


def _bulk_add(rt, client, tenant, run_jobs, content: str):
    """Bulk add the people of a users file into a new group (join_url set); the finished Operation."""
    _set_tenant_settings(rt, tenant.id, join_url="https://lms.example.edu/login")
    group = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    body = preview(client, tenant, content, "bulk.csv", group_id=group.id)
    return commit_and_run(client, tenant, run_jobs, rt, body["id"])


def test_a_bulk_adds_invitations_are_rendered_once_per_language_and_filled_in_signed_and_recorded_when_sent(
    rt, client, tenant, run_jobs, smtp_server
):
    content = (
        "username,email,first_name,last_name,language\n"
        "ada,ada@example.edu,Ada,L,de-AT\nalan,alan@example.edu,Alan,T,en\n"
        'zoe,zoe@example.edu,Zoë <b> & "Co",Z,\nbo,bo@example.edu,,Nofirst,de\n'
    )
    assert _bulk_add(rt, client, tenant, run_jobs, content).result["invited"] == 4
    # Queued without SMTP_URL: one rendering per language spoken, no body of their own on the messages.
    with rt.db.read() as s:
        language_of = {
            st.id: st.language for st in s.scalars(select(EmailStencil).where(EmailStencil.tenant_id == tenant.id))
        }
    queued = {m.to_address: m for m in _emails(rt, kind="invitation")}
    assert sorted(language_of.values()) == ["de", "en"]
    assert all(m.text_body is None and m.html_body is None for m in queued.values())
    assert {a: language_of[m.stencil_id] for a, m in queued.items()} == {
        "ada@example.edu": "de",
        "alan@example.edu": "en",
        "zoe@example.edu": "en",  # no language: the tenant's default (unset: English)
        "bo@example.edu": "de",
    }
    # The log shows each person's email before it goes (the link, not signed yet, as the hidden-link note).
    shown = stencils.shown_text(queued["ada@example.edu"], "[link]")
    assert shown.startswith("Hallo Ada,") and "[link]" in shown and "/join/" not in shown
    assert queued["ada@example.edu"].subject == "Sie sind eingeladen, Acme University beizutreten"
    for name, value in dict(smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", email_send_interval=0).items():
        setattr(rt.settings, name, value)
    outbox.request_sending(rt, tenant.id, ADMIN)
    run_jobs()
    received = {m["To"]: m for m in smtp_server.received}
    assert sorted(received) == sorted(queued)
    sent = {m.to_address: m for m in _emails(rt, kind="invitation")}
    for address, message in received.items():
        text, html = (part.replace("\r\n", "\n") for part in parts(message))  # SMTP's line ends
        # What went out is recorded on the row, and its join link, signed at sending, works.
        assert sent[address].status == "sent" and sent[address].text_body.strip() == text.strip()
        assert sent[address].html_body.strip() == html.strip()
        [link] = re.findall(r"http://localhost/join/[A-Za-z0-9_.\-]+", text)
        assert f'href="{link}"' in html
        assert check_join_link(rt, link.rsplit("/", 1)[1]).state == "ok"
    assert parts(received["ada@example.edu"])[0].startswith("Hallo Ada,")
    assert parts(received["bo@example.edu"])[0].startswith("Hallo bo,")  # no first name: the username
    zoe_text, zoe_html = parts(received["zoe@example.edu"])
    assert zoe_text.startswith('Hello Zoë <b> & "Co",') and "Zoë &lt;b&gt; &amp; &#34;Co&#34;" in zoe_html
    assert received["alan@example.edu"]["Subject"] == "You are invited to join Acme University"


def test_a_stencilled_message_whose_rendering_is_gone_fails_saying_so_and_is_not_sent_empty(
    rt, client, tenant, run_jobs, smtp_server
):
    _bulk_add(rt, client, tenant, run_jobs, "username,email,first_name\nada,ada@example.edu,Ada\n")
    with rt.db.transaction() as s:
        s.execute(delete(EmailStencil).where(EmailStencil.tenant_id == tenant.id))
    rt.settings.smtp_url = f"smtp://127.0.0.1:{smtp_server.port}"
    outbox.request_sending(rt, tenant.id, ADMIN)
    run_jobs()
    [message] = _emails(rt, kind="invitation")
    assert (message.status, message.last_error) == ("failed", outbox.STENCIL_GONE)
    assert smtp_server.received == []


def test_mail_settings_come_from_the_environment_and_from_code_the_same_way():
    from provisioning.config import Settings
    from provisioning.mail.settings import MailSettings

    env = {
        "DATABASE_URL": "sqlite:///:memory:",
        "PUBLIC_BASE_URL": "https://lms.acme.test",
        "SMTP_URL": "smtps://u:p@mail.acme.test:465",
        "EMAIL_BATCH_SIZE": "7",
        "EMAIL_SEND_INTERVAL": "0.5",
        "EMAIL_RETRY_BASE_SECONDS": "2",
        "SMTP_TIMEOUT_SECONDS": "9",
    }
    from_env = MailSettings.of(Settings.from_env(env))
    from_code = MailSettings.of(
        Settings.from_mapping(
            {
                "database_url": "sqlite://",
                "secret_key": "x" * 32,
                "public_base_url": "https://lms.acme.test",
                "smtp_url": "smtps://u:p@mail.acme.test:465",
                "email_batch_size": 7,
                "email_send_interval": 0.5,
                "email_retry_base_seconds": 2,
                "smtp_timeout_seconds": 9,
            }
        )
    )
    assert from_env == from_code
    assert from_env.configured and from_env.batch_size == 7 and from_env.timeout == 9
    assert from_env.mail_from == "no-reply@lms.acme.test" and from_env.max_attempts == 6
    with pytest.raises(ConfigurationError, match="EMAIL_SEND_INTERVAL|number"):
        Settings.from_env({**env, "EMAIL_SEND_INTERVAL": "fast"})


def test_a_long_send_takes_turns_so_a_job_queued_behind_it_runs_before_it_ends(
    rt, client, tenant, run_jobs, smtp_server
):
    """A paced outbox of a bulk add takes hours; its sender hands the worker back at the end of each turn
    (EMAIL_SEND_TURN_SECONDS) and queues again behind the jobs that came meanwhile, each message still sent
    once."""
    people = [make_user(rt, tenant.id, f"p{i}") for i in range(12)]
    ids = [p.id for p in people]
    batch(client, tenant, "notify", user_ids=ids, params={"subject": "Hello", "body": "Welcome"})
    run_jobs()  # no SMTP_URL yet: the twelve stay in the outbox
    _paced_in_turns(rt, smtp_server)
    send = client.post("/api/v1/emails/send", headers=tenant.admin).json["operation_id"]
    behind = batch(client, tenant, "change_language", user_ids=ids[:2], params={"language": "de"}).json["operation_id"]
    run_jobs()
    sender, other = operation(rt, tenant.id, send), operation(rt, tenant.id, behind)
    assert sender.status == other.status == "succeeded"
    assert other.finished_at < sender.finished_at  # it did not wait for the whole outbox
    assert sender.result["sent"] == 12 and sender.attempts == 1
    received = sorted(m["To"] for m in smtp_server.received)
    assert received == sorted(f"p{i}@example.edu" for i in range(12))  # each once
    claimed = sorted(m.claimed_at for m in _emails(rt, tenant_id=tenant.id))
    gaps = [(b - a).total_seconds() for a, b in zip(claimed, claimed[1:])]
    assert min(gaps) >= 0.05  # at the configured pace, across chunks and turns too


def test_the_embedded_queue_runs_a_job_between_the_senders_turns(rt, client, tenant, smtp_server):
    """The same with the embedded default's in-process queue (one thread: the sender's next turn waits)."""
    from jobs.queue import InProcessQueue

    people = [make_user(rt, tenant.id, f"q{i}") for i in range(8)]
    ids = [p.id for p in people]
    rq_queue, rt.queue = rt.queue, InProcessQueue(lambda: rt, threads=1)
    try:
        batch(client, tenant, "notify", user_ids=ids, params={"subject": "Hello", "body": "Welcome"})
        _wait_until_idle(rt)  # no SMTP_URL yet: the eight stay in the outbox
        _paced_in_turns(rt, smtp_server)
        send = client.post("/api/v1/emails/send", headers=tenant.admin).json["operation_id"]
        behind = batch(client, tenant, "change_language", user_ids=ids[:2], params={"language": "es"})
        _wait_until_idle(rt)
    finally:
        rt.queue.shutdown()
        rt.queue = rq_queue
    sender, other = operation(rt, tenant.id, send), operation(rt, tenant.id, behind.json["operation_id"])
    assert sender.status == other.status == "succeeded" and other.finished_at < sender.finished_at
    assert sorted(m["To"] for m in smtp_server.received) == sorted(f"q{i}@example.edu" for i in range(8))


def _paced_in_turns(rt, smtp_server) -> None:
    """SMTP on, two messages a chunk, 50 ms between messages, turns of 200 ms: a send of a dozen takes turns."""
    rt.settings.smtp_url = f"smtp://127.0.0.1:{smtp_server.port}"
    rt.settings.email_send_interval, rt.settings.email_batch_size, rt.settings.email_send_turn_seconds = 0.05, 2, 0.2


def _wait_until_idle(rt, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while rt.queue.pending_operation_ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not rt.queue.pending_operation_ids(), "jobs still running"
