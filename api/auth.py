"""Bearer-token authentication for the admin API."""

from __future__ import annotations

from flask import abort, current_app, g, request

from api.errors import error_response
from provisioning.activity import Actor
from provisioning.services import tokens
from web import ratelimit
from web.text_input import check_request

SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "An admin token (prov_...)."}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(scope: str) -> tokens.Principal:
    """Authenticate the request's token for ``scope``; aborts with 401, or raises Forbidden (403)."""
    rt = current_app.extensions["provisioning"]
    principal = tokens.authenticate(rt, bearer_token(), scope)
    if principal is None:
        abort(401, description="A valid bearer token is required (Authorization: Bearer prov_...).")
    g.principal = principal
    _within_rate_limit(rt, principal)
    return principal


def _within_rate_limit(rt, principal: tokens.Principal) -> None:
    """RATE_LIMIT_PER_MINUTE per token: 429 with Retry-After (RFC 6585 §4) beyond it."""
    refused = ratelimit.count(rt, principal.token_id, "admin")
    if refused is not None:
        message, retry_after = refused
        abort(error_response(429, message, headers={"Retry-After": str(retry_after)}))


def require_admin(blp) -> None:
    """Make every view of a blueprint require an admin token."""

    @blp.before_request
    def _check():
        authenticate("admin")
        check_request()


def tenant_id() -> int:
    return g.principal.tenant_id


def actor() -> Actor:
    return Actor(name=g.principal.actor_name, channel="api")


def runtime():
    return current_app.extensions["provisioning"]
