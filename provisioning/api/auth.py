"""Bearer-token authentication for the admin API."""

from __future__ import annotations

from flask import abort, current_app, g, request

from ..services import tokens
from ..services.activity import Actor

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
    return principal


def require_admin(blp) -> None:
    """Make every view of a blueprint require an admin token."""

    @blp.before_request
    def _check():
        authenticate("admin")


def tenant_id() -> int:
    return g.principal.tenant_id


def actor() -> Actor:
    return Actor(name=g.principal.actor_name, channel="api")


def runtime():
    return current_app.extensions["provisioning"]
