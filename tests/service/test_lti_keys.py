"""The tool's private keys are sealed at rest under SECRET_KEY; JWKS, signing and rotation still work."""

from __future__ import annotations

import json
from dataclasses import replace

import jwt
import pytest
from sqlalchemy import create_engine, text

from jobs.bootstrap import build_runtime
from provisioning import migrate
from provisioning.errors import DomainError
from provisioning.lti import keys as lti_keys
from provisioning.lti.jwk import generate_private_pem, open_private_pem, public_jwk


def _stored(rt) -> list[str]:
    with rt.db.engine.connect() as conn:
        return list(conn.execute(text("SELECT private_key_sealed FROM lti_keys ORDER BY id")).scalars())


def test_the_stored_private_key_is_not_the_pem_and_signs_what_the_jwks_verifies(rt, client):
    jwks = client.get("/lti/jwks").get_json()
    (stored,) = _stored(rt)
    assert "PRIVATE KEY" not in stored and "-----BEGIN" not in stored and stored.startswith("fernet-v1:")
    pem = open_private_pem(rt.settings.secret_key, stored)
    key = lti_keys.current_key(rt)
    assert key.private_pem == pem and key.kid == jwks["keys"][0]["kid"]
    # What the tool signs (its NRPS client assertion) verifies against the published JWKS.
    signed = jwt.encode({"iss": "tool"}, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwks["keys"][0]))
    assert jwt.decode(signed, public, algorithms=["RS256"]) == {"iss": "tool"}


def test_another_secret_key_cannot_open_the_key_and_a_rotation_recovers(rt, redis_connection):
    lti_keys.current_key(rt)
    other = build_runtime(replace(rt.settings, secret_key="another-secret"), redis_connection=redis_connection)
    try:
        with pytest.raises(DomainError, match="rotate-key"):
            lti_keys.current_key(other)
        new_kid, retired = lti_keys.rotate_key(other)
        assert lti_keys.current_key(other).kid == new_kid and len(retired) == 1
    finally:
        other.db.dispose()


def test_the_migration_seals_the_keys_stored_in_clear(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrate.upgrade(url, "0007")
    pem = generate_private_pem()
    jwk = public_jwk(pem)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lti_keys (kid, private_pem, public_jwk, active, created_at) "
                "VALUES (:kid, :pem, :jwk, 1, '2026-01-01 00:00:00')"
            ),
            {"kid": jwk["kid"], "pem": pem, "jwk": json.dumps(jwk)},
        )
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="needs SECRET_KEY"):  # and the schema is left as it was
        migrate.upgrade(url)
    migrate.upgrade(url, secret_key="the-secret")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT private_key_sealed FROM lti_keys")).scalar_one()
    assert "PRIVATE KEY" not in stored and open_private_pem("the-secret", stored) == pem
    migrate.downgrade(url, "0007", secret_key="the-secret")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT private_pem FROM lti_keys")).scalar_one() == pem
    engine.dispose()
