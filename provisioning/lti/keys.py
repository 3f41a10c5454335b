"""The LTI tool's signing keys: the current key, rotation, and the published JWKS.

Rotation adds a new active key and retires the previous one; a retired key stays in
the JWKS for a grace period, because platforms cache our JWKS and may still verify a
client assertion signed a moment before the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from provisioning.errors import DomainError
from provisioning.lti.jwk import (
    KeyUnsealError,
    generate_private_pem,
    open_private_pem,
    public_jwk,
    seal_private_pem,
)
from provisioning.lti.registrations import cached
from provisioning.models import LtiKey, utcnow
from provisioning.runtime import Runtime

DEFAULT_GRACE = timedelta(days=2)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


class SigningKeyUnavailable(DomainError):
    """The active key was sealed under another SECRET_KEY; a rotation makes a usable one."""


def _add_key(s: Session, secret: str) -> tuple[LtiKey, str]:
    pem = generate_private_pem()
    jwk = public_jwk(pem)
    key = LtiKey(
        kid=jwk["kid"],
        private_key_sealed=seal_private_pem(secret, pem),
        public_jwk=jwk,
        active=True,
        created_at=utcnow(),
    )
    s.add(key)
    s.flush()
    return key, pem


def current_key(rt: Runtime) -> SigningKey:
    """The active signing key, created on first use (kept for a minute per process)."""
    return cached(rt, "tool_key", "current", lambda: _load_current_key(rt))


def _load_current_key(rt: Runtime) -> SigningKey:
    active = select(LtiKey).where(LtiKey.active.is_(True)).order_by(LtiKey.id.desc()).limit(1)
    with rt.db.read() as s:
        key = s.scalar(active)
    if key is None:
        with rt.db.transaction() as s:
            key = s.scalar(active) or _add_key(s, rt.settings.secret_key)[0]
    try:
        return SigningKey(kid=key.kid, private_pem=open_private_pem(rt.settings.secret_key, key.private_key_sealed))
    except KeyUnsealError as exc:
        raise SigningKeyUnavailable(
            "The LTI signing key cannot be decrypted with this SECRET_KEY (was it changed?). "
            "Run `provisioning lti rotate-key` to make a new one."
        ) from exc


def rotate_key(rt: Runtime, *, grace: timedelta = DEFAULT_GRACE) -> tuple[str, list[str]]:
    """Add a new active key; keep the old ones published for ``grace``.  Returns (new kid, retired kids)."""
    now = utcnow()
    with rt.db.transaction() as s:
        retired = list(s.scalars(select(LtiKey.kid).where(LtiKey.active.is_(True))))
        s.execute(
            update(LtiKey)
            .where(LtiKey.active.is_(True))
            .values(active=False, retired_at=now, published_until=now + grace)
        )
        key, _pem = _add_key(s, rt.settings.secret_key)
    rt.extensions.pop("lti.tool_key", None)
    return key.kid, retired


def published_jwks(rt: Runtime) -> dict[str, list[dict]]:
    """Our JWKS: the active key and retired keys still inside their grace period."""
    current_key(rt)  # a fresh install publishes a key before the first launch needs it
    now = utcnow()
    with rt.db.read() as s:
        jwks = list(
            s.scalars(
                select(LtiKey.public_jwk)
                .where(or_(LtiKey.active.is_(True), LtiKey.published_until > now))
                .order_by(LtiKey.id.desc())
            )
        )
    return {"keys": jwks}
