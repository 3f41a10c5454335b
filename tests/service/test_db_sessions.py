"""provisioning.db: read sessions refuse writes; a pooled connection that died while idle is replaced."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import select, text, update

from provisioning import db as db_module
from provisioning.models import Tenant
from tests.support.environment import on_postgres


def test_a_read_session_refuses_writes_and_nothing_is_stored(rt, tenant):
    with pytest.raises(RuntimeError, match="db.read"):
        with rt.db.read() as s:
            s.execute(update(Tenant).where(Tenant.id == tenant.id).values(name="Changed"))
    with pytest.raises(RuntimeError, match="db.read"):
        with rt.db.read() as s:
            s.get(Tenant, tenant.id).name = "Changed"
            s.flush()
    with rt.db.read() as s:
        assert s.scalar(select(Tenant.name).where(Tenant.id == tenant.id)) == "Acme University"


@on_postgres
def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(rt, monkeypatch):
    monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 0.05)
    with rt.db.read() as s:
        pid = s.scalar(text("SELECT pg_backend_pid()"))
    with psycopg.connect(rt.db.url.replace("+psycopg", ""), autocommit=True) as other:  # outside the pool
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.1)
    for _ in range(3):  # whichever pooled connection each unit of work gets, none fails
        with rt.db.transaction() as s:
            assert s.scalar(text("SELECT pg_backend_pid()")) != pid
