"""Migration 0022: activity events are written without a foreign key to tenants (a per-row trigger call
in every bulk job), and a deleted tenant still takes its events along, by a trigger on tenants; the
downgrade puts the key back."""

from __future__ import annotations

from sqlalchemy import create_engine, event, text

from provisioning import migrate

STAMP = "'2026-01-01 00:00:00+00'"


def _tenant(conn, tenant_id: int) -> None:
    conn.execute(
        text(
            "INSERT INTO tenants (id, name, slug, settings, created_at) "
            f"VALUES ({tenant_id}, 't{tenant_id}', 't{tenant_id}', '{{}}', {STAMP})"
        )
    )


def _event(conn, tenant_id: int) -> None:
    conn.execute(
        text(
            "INSERT INTO activity_events (tenant_id, actor, action, channel, details, created_at) "
            f"VALUES ({tenant_id}, 'test', 'user.created', 'api', '{{}}', {STAMP})"
        )
    )


def _events(conn) -> list[int]:
    return sorted(r[0] for r in conn.execute(text("SELECT tenant_id FROM activity_events")))


def test_a_deleted_tenant_takes_its_events_along_before_and_after_a_downgrade(scratch_url):
    migrate.upgrade(scratch_url, "0021")
    engine = create_engine(scratch_url)
    if engine.dialect.name == "sqlite":  # as the service's own engines do (provisioning/db.py)
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA foreign_keys = ON"))
    with engine.begin() as conn:
        for t in (1, 2):
            _tenant(conn, t)
        _event(conn, 1)
        _event(conn, 2)
    migrate.upgrade(scratch_url)
    with engine.begin() as conn:
        _event(conn, 2)
        assert _events(conn) == [1, 2, 2]
        conn.execute(text("DELETE FROM tenants WHERE id = 2"))
        assert _events(conn) == [1]
    migrate.downgrade(scratch_url, "0021")
    with engine.begin() as conn:
        _tenant(conn, 3)
        _event(conn, 3)
        conn.execute(text("DELETE FROM tenants WHERE id = 3"))  # the key's ON DELETE CASCADE again
        assert _events(conn) == [1]
    migrate.upgrade(scratch_url)  # and up again
    engine.dispose()
