"""API tokens: random secrets of which only a SHA-256 hash is stored.

A token has 256 bits of entropy, so a fast unsalted hash is the right tool (as
GitHub and PyPI do): the database lookup is by hash, and the final comparison is
constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import TOKEN_SCOPES, ApiToken, utcnow
from provisioning.runtime import Runtime
from provisioning.services.tenants import load_tenant

TOKEN_PREFIX = "prov_"
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# No per-process memory of valid tokens: every request reads its token's row (one lookup on the
# unique token_hash index), so a revocation, by any process or the CLI, refuses the very next
# request everywhere (docs/RELIABILITY.md "Revocation").


@dataclass(frozen=True)
class Principal:
    """The caller a valid token stands for."""

    token_id: int
    tenant_id: int
    scope: str
    name: str

    @property
    def actor_name(self) -> str:
        return f"token:{self.name}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(rt: Runtime, tenant_ref: str | int, scope: str, name: str | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plaintext, which is never stored."""
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(
            N_("Unknown scope %(scope)r; use one of %(choices)s."),
            details={"scope": [Message(N_("Must be one of %(choices)s."), choices=", ".join(TOKEN_SCOPES))]},
            scope=scope,
            choices=", ".join(TOKEN_SCOPES),
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        token = ApiToken(
            tenant_id=tenant.id,
            scope=scope,
            name=(name or f"{scope} token").strip()[:200],
            token_hash=hash_token(plaintext),
            prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        )
        s.add(token)
        s.flush()
    return token, plaintext


def revoke_token(rt: Runtime, token_id: int) -> ApiToken:
    with rt.db.transaction() as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise NotFound(N_("No token with id %(token_id)s."), token_id=token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    return token


def list_tokens(rt: Runtime, tenant_ref: str | int | None = None) -> list[ApiToken]:
    with rt.db.read() as s:
        stmt = select(ApiToken).order_by(ApiToken.id)
        if tenant_ref is not None:
            stmt = stmt.where(ApiToken.tenant_id == load_tenant(s, tenant_ref).id)
        return list(s.scalars(stmt))


def authenticate(rt: Runtime, presented: str | None, scope: str) -> Principal | None:
    """The principal for a presented token, or None when it is unknown or revoked.

    Raises :class:`Forbidden` when the token is valid but of another scope.
    """
    if not presented or not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
        return None
    digest = hash_token(presented)
    with rt.db.read() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
        return None
    principal = Principal(token_id=token.id, tenant_id=token.tenant_id, scope=token.scope, name=token.name)
    if principal.scope != scope:
        raise Forbidden(
            N_("This token has the %(scope)r scope; this endpoint needs %(needed)r."),
            scope=principal.scope,
            needed=scope,
        )
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        with rt.db.transaction() as s:
            s.execute(update(ApiToken).where(ApiToken.id == principal.token_id).values(last_used_at=now))
    return principal
