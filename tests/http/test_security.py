"""Security claims of issue #10 that no other file proves: tokens at rest, revocation, scopes,
and no traceback, token or password in a response or a log line when the service breaks."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import socket

import pytest
from sqlalchemy import select

from provisioning import signed_tokens as lti_tokens
from provisioning.models import ApiToken, Base
from provisioning.services import tokens
from server.app import create_app
from tests.support.signin import sign_in

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _every_value(rt) -> str:
    """Every value of every row of every table, as one text to search."""
    parts = []
    with rt.db.read() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                parts.extend(repr(v) for v in row)
    return "\n".join(parts)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- tokens at rest ----------------------------------------------------------------------------------


def test_tokens_are_stored_only_as_their_sha256_hash(rt, tenant):
    stored = _every_value(rt)
    for token in (tenant.admin_token, tenant.scim_token):
        secret_part = token[len(tokens.TOKEN_PREFIX) :]
        assert token not in stored and secret_part not in stored
        assert secret_part[6:] not in stored  # beyond the 6 characters shown as the prefix, nothing
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    with rt.db.read() as s:
        rows = s.execute(select(ApiToken.token_hash, ApiToken.prefix)).all()
    assert len(rows) == 2
    for digest, prefix in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", digest) and len(prefix) == len(tokens.TOKEN_PREFIX) + 6


def test_the_stored_hash_is_no_credential_and_a_near_miss_is_refused(client, tenant):
    digest = hashlib.sha256(tenant.admin_token.encode()).hexdigest()
    last = tenant.admin_token[-1]
    near_misses = [
        tenant.admin_token[:-1] + ("A" if last != "A" else "B"),
        tenant.admin_token[:-1],
        tenant.admin_token + "x",
        tenant.admin_token.swapcase(),
        digest,
        tokens.TOKEN_PREFIX + digest,
    ]
    for presented in near_misses:
        r = client.get("/api/v1/groups", headers=_bearer(presented))
        assert r.status_code == 401, presented
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 200


# --- revocation and scopes ---------------------------------------------------------------------------


def _token_id(rt, token: str) -> int:
    with rt.db.read() as s:
        return s.scalar(select(ApiToken.id).where(ApiToken.token_hash == tokens.hash_token(token)))


def test_a_revoked_token_is_refused_on_its_very_next_request(client, rt, tenant):
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 200
    assert client.get("/scim/v2/Users", headers=tenant.scim).status_code == 200
    tokens.revoke_token(rt, _token_id(rt, tenant.admin_token))
    tokens.revoke_token(rt, _token_id(rt, tenant.scim_token))
    assert client.get("/api/v1/groups", headers=tenant.admin).status_code == 401
    r = client.get("/scim/v2/Users", headers=tenant.scim)
    assert r.status_code == 401 and r.json["schemas"] == [ERROR]
    # A new token of the same tenant still works: revocation is per token.
    _, fresh = tokens.create_token(rt, tenant.id, "admin", "fresh")
    assert client.get("/api/v1/groups", headers=_bearer(fresh)).status_code == 200


def test_each_kind_of_token_opens_only_its_own_door(client, app, rt, tenant):
    ui = sign_in(client, rt, tenant.id).token  # the UI's launch token of the tenant's owner
    lti_launch = lti_tokens.issue_launch_token(
        app.config["SECRET_KEY"], {"t": tenant.id, "u": 1, "r": "admin", "lr": "admin", "c": None}
    )
    # (credential, admin API, SCIM, UI page)
    expected = [
        (tenant.admin_token, 200, 403, 401),
        (tenant.scim_token, 403, 200, 401),
        (ui, 401, 401, 200),
        (lti_launch, 401, 401, None),
    ]
    for credential, api, scim, page in expected:
        assert client.get("/api/v1/groups", headers=_bearer(credential)).status_code == api, credential
        r = client.get("/scim/v2/Users", headers=_bearer(credential))
        assert r.status_code == scim and r.mimetype == "application/scim+json", credential
        browser = app.test_client()  # no launch cookie from the sign-in above
        if page is not None:
            # (a token in the URL moves to the cookie first: follow those redirects)
            opened = browser.get("/ui/groups", query_string={"lt": credential}, follow_redirects=True)
            assert opened.status_code == page, credential
        # And a bearer header is never a way into the UI.
        assert app.test_client().get("/ui/groups", headers=_bearer(credential)).status_code == 401


# --- nothing secret in responses or logs -------------------------------------------------------------

PASSWORD = "Sup3r-Secret-Pa55word"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broken_app():
    """The service on a database that refuses connections: every request that needs it fails inside."""
    app = create_app(
        {
            "database_url": f"postgresql://provisioning:{PASSWORD}@127.0.0.1:{_closed_port()}/nowhere",
            "secret_key": secrets.token_urlsafe(32),
            "jobs_sweep_interval": 0,
        }
    )
    yield app
    app.extensions["provisioning"].db.dispose()


def test_a_broken_database_leaks_no_traceback_token_or_password_in_responses_or_logs(broken_app, caplog):
    caplog.set_level(logging.INFO)  # a production-like level: SQLAlchemy's own loggers would speak too
    client = broken_app.test_client()
    token = tokens.TOKEN_PREFIX + secrets.token_urlsafe(32)
    # Well signed and naming a session, so the UI has to ask the (broken) database about it.
    launch = lti_tokens.issue_launch_token(
        broken_app.config["SECRET_KEY"], {"t": 1, "u": 1, "r": "admin", "lr": "admin", "c": None, "s": "session-1"}
    )
    responses = [
        client.get("/api/v1/groups", headers=_bearer(token)),
        client.post("/api/v1/groups", json={"name": "x"}, headers=_bearer(token)),
        client.get('/scim/v2/Users?filter=userName eq "a"', headers=_bearer(token)),
        client.get("/ui/groups", query_string={"lt": launch}),
        client.post(
            "/lti/login",
            data={"iss": "https://lms.example", "login_hint": "1", "target_link_uri": "http://localhost/lti/launch"},
        ),
    ]
    logged = caplog.text + "\n".join(str(r.exc_info) for r in caplog.records if r.exc_info)
    for r in responses:
        body = r.get_data(as_text=True)
        assert r.status_code >= 500, (r.request.path, r.status_code, body[:300])
        for leak in ("Traceback", 'File "', PASSWORD, token, launch, "psycopg", "sqlalchemy", "127.0.0.1"):
            assert leak not in body, (r.request.path, leak, body[:500])
    # Each failure was logged as one line: an outage as "database unavailable" (a 503), anything else
    # as an incident.
    assert logged.count("incident ") + logged.count("database unavailable") >= len(responses)
    assert not any(r.exc_info for r in caplog.records), "a log record carries a traceback"
    for leak in ("Traceback", PASSWORD, token, launch, tokens.hash_token(token)):
        assert leak not in logged, leak
    assert all(r.status_code == 503 and r.headers["Retry-After"] for r in responses)


def test_sql_logging_never_shows_parameter_values(client, tenant, caplog):
    # An operator who turns SQL logging on (sqlalchemy.engine at INFO) sees statements, not values:
    # values are token hashes and people's data.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    client.post(
        "/api/v1/users",
        json={"email": "private.person@example.org", "first_name": "Private", "last_name": "Person"},
        headers=tenant.admin,
    )
    assert "INSERT INTO users" in caplog.text.replace('"', "")
    for leak in ("private.person@example.org", tokens.hash_token(tenant.admin_token)):
        assert leak not in caplog.text


def test_redaction_removes_tokens_passwords_and_hashes_from_a_message():
    from provisioning.incidents import redact

    text = (
        "connect to postgresql://app:hunter2@db/x failed; Authorization: Bearer abc.def; "
        "token=prov_AbC-123_x password: hunter3 " + "ab" * 32
    )
    cleaned = redact(text)
    for leak in ("hunter2", "hunter3", "abc.def", "prov_AbC-123_x", "ab" * 32):
        assert leak not in cleaned, leak
    assert "postgresql://app:[redacted]@db/x" in cleaned


def test_a_failing_after_commit_hook_is_logged_as_one_redacted_line(rt, caplog):
    # E.g. an enqueue after commit failing while Redis is away: the change stays, the log says so briefly.
    from provisioning.db import on_commit

    def enqueue():
        raise ConnectionError(f"Error connecting to redis://:{PASSWORD}@127.0.0.1:6399/0")

    caplog.set_level(logging.INFO)
    with rt.db.transaction() as s:
        on_commit(s, enqueue)
    (record,) = [r for r in caplog.records if "after-commit" in r.getMessage()]
    assert record.exc_info is None and "Traceback" not in caplog.text and PASSWORD not in caplog.text
    assert "ConnectionError" in record.getMessage() and "redis://:[redacted]@127.0.0.1" in record.getMessage()
