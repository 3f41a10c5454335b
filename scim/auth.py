"""Bearer-token authentication for /scim/v2 (RFC 7644 §2): tokens of scope "scim" only."""

from __future__ import annotations

from flask import current_app, g, request

from provisioning.activity import Actor
from provisioning.errors import Forbidden
from provisioning.services import tokens
from scim.errors import ForbiddenError, ScimError, UnauthorizedError
from web import ratelimit


def _presented_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# The WSGI environ key under which scim/bulk.py hands a Bulk's principal to each of its operations
# (a client cannot set environ keys: its headers arrive as HTTP_*).
BULK_PRINCIPAL = "provisioning.scim.bulk_principal"


def authenticate_request() -> None:
    """Remember the caller's principal on ``g``; 401 without a valid token, 403 for another scope."""
    inherited = request.environ.get(BULK_PRINCIPAL)
    if inherited is not None:
        # An operation of a Bulk runs as the Bulk's caller, authenticated and rate-counted once for the
        # whole Bulk (scim/bulk.py charges its weight before the first operation): never a 429 inside a 200.
        g.scim_principal = inherited
        return
    try:
        principal = tokens.authenticate(runtime(), _presented_token(), "scim")
    except Forbidden as exc:
        raise ForbiddenError(exc.message) from exc
    if principal is None:
        raise UnauthorizedError("A valid SCIM bearer token is required (Authorization: Bearer prov_...).")
    g.scim_principal = principal
    _within_rate_limit(principal)


def charge(weight: int) -> None:
    """Count a request that weighs ``weight`` requests (a Bulk) against the caller's rate limit: the
    rest of it, since its arrival counted one; 429 when that goes over the limit."""
    if weight > 1:
        _within_rate_limit(g.scim_principal, weight - 1, weight)


def _within_rate_limit(principal, cost: int = 1, weight: int = 1) -> None:
    """RATE_LIMIT_PER_MINUTE per token.  RFC 7644 §3.12 lists no 429, so this is RFC 6585 §4's
    429 with Retry-After, in SCIM error form (no scimType fits; "tooMany" means too many results)."""
    refused = ratelimit.count(runtime(), principal.token_id, "scim", cost, weight)
    if refused is not None:
        message, retry_after = refused
        raise ScimError(message, status=429, headers={"Retry-After": str(retry_after)})


def runtime():
    return current_app.extensions["provisioning"]


def tenant_id() -> int:
    return g.scim_principal.tenant_id


def actor() -> Actor:
    return Actor(name=g.scim_principal.actor_name, channel="scim")
