"""Workers killed with SIGKILL in the middle of real jobs, then replaced: the Operation
completes, each row is applied once, and no email goes out twice.

Real worker processes on PostgreSQL and a real Redis (as tests/e2e/test_jobs_process.py, with
the same worker fixture, tests/e2e/conftest.py; that file kills a worker in a test-only job type, these kill
it in a 100,000-row user import, a batch deactivation and a group message's email sending).
"""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import func, select

from provisioning.models import ActivityEvent, EmailMessage, User
from tests.support.api import commit, preview
from tests.support.environment import on_postgres, on_real_redis
from tests.support.factories import group_with_members, load
from tests.support.jobs import wait_for

pytestmark = [on_postgres, on_real_redis, pytest.mark.slow]

ROWS = 100_000


def kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def analyze(rt) -> None:
    """Planner statistics for the freshly seeded tables, as autovacuum gives a live database.

    Without them PostgreSQL believes the tables hold a few rows and joins memberships to users
    with a nested loop over every user: the chunk query of a batch action then takes tens of
    seconds (seen right after a bulk insert, before autovacuum's first ANALYZE).
    """
    with rt.db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE users, memberships")


def events(rt, tenant_id: int, action: str) -> tuple[int, int]:
    """(events recorded, distinct objects) for an action: equal when nothing was applied twice."""
    with rt.db.read() as s:
        return tuple(
            s.execute(
                select(func.count(), func.count(func.distinct(ActivityEvent.object_id))).where(
                    ActivityEvent.tenant_id == tenant_id, ActivityEvent.action == action
                )
            ).one()
        )


def test_a_worker_killed_mid_100k_row_user_import_is_replaced_and_each_row_is_applied_once(
    rt, client, tenant, start_worker
):
    lines = ["email,username,first_name,last_name"] + [f"u{i}@example.edu,u{i},Given{i},Family{i}" for i in range(ROWS)]
    body = preview(client, tenant, "\n".join(lines) + "\n", "users.csv", format="users")
    assert body["error_count"] == 0
    op_id = commit(client, tenant, body["id"])
    first = start_worker()
    wait_for(lambda: load(rt, op_id).progress_done >= ROWS // 5, timeout=180, what="the import to be under way")
    kill(first)
    interrupted = load(rt, op_id)
    assert interrupted.status == "running" and interrupted.progress_done < ROWS

    second = start_worker()
    wait_for(lambda: load(rt, op_id).status != "running", timeout=240, what="the second worker to finish")
    done = load(rt, op_id)
    assert (done.status, done.attempts, done.progress_done) == ("succeeded", 2, ROWS), done.errors
    assert done.result["applied"] == ROWS
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id)) == ROWS
    assert events(rt, tenant.id, "user.created") == (ROWS, ROWS)
    kill(second)


def test_a_batch_deactivation_survives_a_sigterm_and_a_sigkill_of_its_workers_and_deactivates_each_user_once(
    rt, client, tenant, start_worker
):
    users = 20_000
    group_id = group_with_members(rt, tenant.id, "staff", users)
    analyze(rt)
    rt.settings.batch_chunk_size = 2000  # chunks of 2,000 (not sized by time): some to hand back, some to kill
    r = client.post("/api/v1/batch-actions", json={"action": "deactivate", "group_id": group_id}, headers=tenant.admin)
    assert r.status_code == 202, r.json
    op_id = r.json["operation_id"]
    # First a graceful stop: SIGTERM lets the chunk in hand finish and hands the rest back.
    first = start_worker()
    wait_for(lambda: load(rt, op_id).progress_done >= 2000, timeout=120, what="the deactivation to be under way")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    handed_back = load(rt, op_id)
    assert handed_back.status == "queued" and handed_back.attempts == 0
    assert 0 < handed_back.progress_done < users and handed_back.progress_done % 2000 == 0  # whole chunks
    with rt.db.read() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(User).where(User.tenant_id == tenant.id, User.status == "deactivated")
            )
            == handed_back.progress_done
        )

    # Then a crash: SIGKILL in the middle of the resumed run.
    second = start_worker()
    wait_for(
        lambda: load(rt, op_id).progress_done >= handed_back.progress_done + 4000,
        timeout=120,
        what="the second worker to resume",
    )
    kill(second)
    assert load(rt, op_id).progress_done < users

    third = start_worker()
    wait_for(
        lambda: load(rt, op_id).status != "running" and load(rt, op_id).status != "queued",
        timeout=180,
        what="the third worker to finish",
    )
    done = load(rt, op_id)
    assert (done.status, done.attempts, done.progress_done) == ("succeeded", 2, users), done.errors
    with rt.db.read() as s:
        statuses = dict(
            s.execute(select(User.status, func.count()).where(User.tenant_id == tenant.id).group_by(User.status)).all()
        )
    assert statuses == {"deactivated": users}
    assert events(rt, tenant.id, "user.deactivated") == (users, users)
    kill(third)


def test_a_worker_killed_while_sending_a_group_message_sends_no_email_twice(
    rt, client, tenant, start_worker, smtp_server
):
    recipients = 60
    group_id = group_with_members(rt, tenant.id, "class", recipients)
    held = "class-30@example.edu"
    smtp_server.hold = {held}  # the SMTP server stalls on this recipient: the worker dies mid-send
    mail_env = {
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "MAIL_FROM": "lms@acme.test",
        "EMAIL_SEND_INTERVAL": "0.01",
        "EMAIL_CLAIM_LEASE_SECONDS": "3",
        "EMAIL_BATCH_SIZE": "10",
        "EMAIL_RETRY_BASE_SECONDS": "0.1",
        "EMAIL_RETRY_MAX_SECONDS": "0.5",
    }
    r = client.post(
        f"/api/v1/groups/{group_id}/messages",
        json={"subject": "Exam moved", "body": "To Friday."},
        headers=tenant.admin,
    )
    assert r.status_code == 202, r.json
    first = start_worker(**mail_env)
    assert smtp_server.holding.wait(60), "the worker never reached the held recipient"
    kill(first)
    smtp_server.release()
    sent_before = len(smtp_server.received)
    assert 0 < sent_before < recipients

    second = start_worker(**mail_env)
    wait_for(lambda: len(smtp_server.received) >= recipients, timeout=120, what="every member's email")

    def all_settled():
        with rt.db.read() as s:
            return not s.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.tenant_id == tenant.id, EmailMessage.status.in_(("queued", "sending")))
            )

    wait_for(all_settled, timeout=60, what="the outbox to settle")
    received = [m["To"] for m in smtp_server.received]
    assert sorted(received) == sorted(f"class-{i}@example.edu" for i in range(recipients))  # each exactly once
    assert len({m["Message-ID"] for m in smtp_server.received}) == recipients
    with rt.db.read() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.tenant_id == tenant.id, EmailMessage.status == "sent")
            )
            == recipients
        )
    kill(second)
