"""Revoking an API token takes effect on the next request in every process (docs/RELIABILITY.md).

The service answering requests and the process that revokes are different OS processes: the
test's app instance (on the test database: PostgreSQL and Redis in CI) authenticates a token,
then the real ``provisioning tokens revoke`` command, a process of its own, revokes it.  Nothing
the answering process remembers may let the token through afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from provisioning.models import ApiToken
from provisioning.services import tokens
from tests.support.environment import REPO_ROOT


def _revoke_in_another_process(rt, token_id: int) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": rt.settings.database_url,
        "SECRET_KEY": rt.settings.secret_key,
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "tokens", "revoke", str(token_id)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 0 and f"Revoked token {token_id}" in done.stdout, done.stderr


def _token_id(rt, token: str) -> int:
    with rt.db.read() as s:
        return s.scalar(select(ApiToken.id).where(ApiToken.token_hash == tokens.hash_token(token)))


def test_a_token_revoked_by_another_process_is_refused_on_the_very_next_request(client, rt, tenant):
    # Both tokens authenticate (and would be remembered by a per-process cache, were there one).
    for _ in range(3):
        assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 200
        assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 200
    _revoke_in_another_process(rt, _token_id(rt, tenant.admin_token))
    _revoke_in_another_process(rt, _token_id(rt, tenant.scim_token))
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 401
    assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 401


def test_a_second_app_instance_refuses_a_token_revoked_through_the_first(rt, tenant):
    from server.app import create_app

    first, second = create_app(runtime=rt).test_client(), create_app(runtime=rt).test_client()
    assert first.get("/api/v1/groups", headers=tenant.admin).status_code == 200
    assert second.get("/api/v1/groups", headers=tenant.admin).status_code == 200
    _revoke_in_another_process(rt, _token_id(rt, tenant.admin_token))
    assert second.get("/api/v1/groups", headers=tenant.admin).status_code == 401
    assert first.get("/api/v1/groups", headers=tenant.admin).status_code == 401
