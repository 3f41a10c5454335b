"""Migration 0013 keys the users already there, keeps colliding ones, and moves uniqueness to the keys."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from provisioning import migrate

NFC, NFD, FULL_WIDTH = "d\u00fc@example.edu", "du\u0308@example.edu", "\uff44\uff55\uff50@example.edu"


def _insert_user(conn, user_id: int, tenant_id: int, username: str, email: str | None) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, tenant_id, username, email, active, status, role, custom_attributes, extra, "
            "created_at, updated_at, version) VALUES (:id, :t, :u, :e, true, 'active', 'learner', '{}', '{}', "
            "'2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 1)"
        ),
        {"id": user_id, "t": tenant_id, "u": username, "e": email},
    )


def test_existing_users_get_keys_the_older_of_a_colliding_pair_keeps_it_and_variants_are_then_refused(
    scratch_url, caplog
):
    migrate.upgrade(scratch_url, "0010")
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        for tenant_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO tenants (id, name, slug, settings, created_at) "
                    "VALUES (:id, :n, :n, '{}', '2026-01-01 00:00:00+00')"
                ),
                {"id": tenant_id, "n": f"t{tenant_id}"},
            )
        # What the lower() indexes let in: one person as two users, twice over.
        _insert_user(conn, 1, 1, NFC, NFC)
        _insert_user(conn, 2, 1, NFD, NFD)
        _insert_user(conn, 3, 1, "dup@example.edu", "dup@example.edu")
        _insert_user(conn, 4, 1, FULL_WIDTH, None)
        _insert_user(conn, 5, 2, NFD, NFD)  # another tenant: no collision
    with caplog.at_level(logging.WARNING):
        migrate.upgrade(scratch_url)
    with engine.connect() as conn:
        keys = {r[0]: (r[1], r[2]) for r in conn.execute(text("SELECT id, username_key, email_key FROM users"))}
    assert keys == {
        1: (NFC, NFC),
        2: (None, None),  # the younger of the NFC/NFD pair keeps its names but no keys
        3: ("dup@example.edu", "dup@example.edu"),
        4: (None, None),
        5: (NFC, NFC),
    }
    assert "[2]" in caplog.text and "[4]" in caplog.text
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (tenant_id, username, username_key, active, status, role, custom_attributes, "
                "extra, created_at, updated_at, version) VALUES (2, 'X', :k, true, 'active', 'learner', '{}', '{}', "
                "'2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 1)"
            ),
            {"k": NFC},
        )
    migrate.downgrade(scratch_url, "0010")  # and back: the lower() indexes again
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 5
    engine.dispose()
