"""PostgreSQL restarted under a running service: requests fail fast with 503 (a SCIM error on
/scim, the JSON error on /api/v1, with Retry-After) and the same service answers again once the
database is back, without a restart.

The database is a private cluster (initdb into a temporary directory) stopped and started by
the test; the shared server is never touched.
"""

from __future__ import annotations

import secrets
import time

import fakeredis
import pytest

from jobs.bootstrap import build_runtime
from provisioning.config import Settings
from provisioning.migrate import upgrade
from provisioning.services import tenants, tokens
from server.app import create_app
from tests.support.servers import PrivatePostgres

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres():
    server = PrivatePostgres().start()
    yield server
    server.destroy()


def test_requests_fail_fast_with_503_while_postgresql_restarts_and_the_service_recovers(postgres):
    upgrade(Settings.from_mapping({"database_url": postgres.url, "secret_key": "x"}).database_url)
    rt = build_runtime(
        Settings.from_mapping(
            {"database_url": postgres.url, "secret_key": secrets.token_urlsafe(32), "jobs_sweep_interval": 0}
        ),
        redis_connection=fakeredis.FakeRedis(),
    )
    try:
        tenant = tenants.create_tenant(rt, "Acme University")
        scim = {"Authorization": f"Bearer {tokens.create_token(rt, tenant.id, 'scim', 'idp')[1]}"}
        admin = {"Authorization": f"Bearer {tokens.create_token(rt, tenant.id, 'admin', 'ops')[1]}"}
        client = create_app(runtime=rt).test_client()
        assert client.post("/scim/v2/Users", json={"userName": "ann@example.edu"}, headers=scim).status_code == 201
        assert client.get("/api/v1/groups", headers=admin).status_code == 200

        postgres.stop()
        started = time.monotonic()
        r = client.get("/scim/v2/Users", headers=scim)
        assert r.status_code == 503 and r.mimetype == "application/scim+json"
        assert r.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and r.json["status"] == "503"
        assert r.headers["Retry-After"] == "5"
        r = client.post("/scim/v2/Users", json={"userName": "bob@example.edu"}, headers=scim)
        assert r.status_code == 503
        r = client.get("/api/v1/groups", headers=admin)
        assert r.status_code == 503 and r.json["code"] == 503 and "database" in r.json["message"]
        assert r.headers["Retry-After"] == "5"
        assert client.get("/readyz").status_code == 503
        assert time.monotonic() - started < 5  # each failed at once, none hung
        assert "Traceback" not in r.get_data(as_text=True)

        postgres.start()
        # The same app, not restarted: the pool throws away its dead connections (pre-ping).
        assert client.get("/scim/v2/Users", headers=scim).json["totalResults"] == 1
        assert client.post("/scim/v2/Users", json={"userName": "bob@example.edu"}, headers=scim).status_code == 201
        assert client.get("/api/v1/groups", headers=admin).status_code == 200
        assert client.get("/readyz").status_code == 200
    finally:
        rt.db.dispose()
