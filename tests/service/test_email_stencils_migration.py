"""Migration 0021 keeps the outbox's existing messages sendable as they were, and its downgrade
cancels the stencilled ones still waiting (the older sender could not sign their links)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from provisioning import migrate

STAMP = "'2026-01-01 00:00:00+00'"


def _message(conn, message_id: int, status: str, **columns: object) -> None:
    names = ", ".join(columns)
    values = ", ".join(f":{name}" for name in columns)
    conn.execute(
        text(
            f"INSERT INTO email_messages (id, tenant_id, kind, to_address, subject, status, attempts, "
            f"next_attempt_at, created_at, updated_at, {names}) VALUES (:id, 1, 'invitation', 'a@example.edu', "
            f"'Hi', :status, 0, {STAMP}, {STAMP}, {STAMP}, {values})"
        ),
        {"id": message_id, "status": status, **columns},
    )


def test_existing_messages_keep_their_bodies_and_a_downgrade_cancels_stencilled_ones_not_yet_sent(scratch_url):
    migrate.upgrade(scratch_url, "0020")
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO tenants (id, name, slug, settings, created_at) VALUES (1, 't', 't', '{{}}', {STAMP})")
        )
        _message(conn, 1, "queued", text_body="Hello Ann", html_body="<p>Hello Ann</p>")
    migrate.upgrade(scratch_url)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT text_body, html_body, stencil_id, status FROM email_messages")).one()
        assert tuple(row) == ("Hello Ann", "<p>Hello Ann</p>", None, "queued")
        conn.execute(
            text(
                "INSERT INTO email_stencils (id, tenant_id, template, language, subject, text_body, html_body, "
                f"created_at) VALUES (1, 1, 'invitation', 'en', 'Hi', 'Hello \ue000name\ue001', '<p>x</p>', {STAMP})"
            )
        )
        _message(conn, 2, "queued", stencil_id=1, personal='{"name": "Bo", "join_url": 1}')
        _message(
            conn,
            3,
            "sent",
            stencil_id=1,
            personal='{"name": "Cy", "join_url": 1}',
            text_body="Hello Cy",
            html_body="<p>Cy</p>",
        )
    migrate.downgrade(scratch_url, "0020")
    with engine.connect() as conn:
        rows = {
            r[0]: tuple(r[1:])
            for r in conn.execute(text("SELECT id, status, text_body, last_error FROM email_messages"))
        }
    assert rows[1] == ("queued", "Hello Ann", None)
    assert (
        rows[2][0] == "cancelled" and rows[2][1] == "Hello \ue000name\ue001" and "Resend the invitation" in rows[2][2]
    )
    assert rows[3] == ("sent", "Hello Cy", None)
    migrate.upgrade(scratch_url)  # and up again
    engine.dispose()
