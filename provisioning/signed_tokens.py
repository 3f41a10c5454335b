"""Signed, expiring tokens (itsdangerous with SECRET_KEY): the launch token and registration invites.

After a launch the UI works from the launch token (sent as a header, a form field or a query
parameter), not only from a cookie: browsers that block third-party cookies in the LMS iframe
still carry it.  No Flask here: the CLI issues invites too.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LAUNCH_SALT = "lti-launch-token"
INVITE_SALT = "lti-dynamic-registration"
DEFAULT_LAUNCH_SECONDS = 4 * 3600
INVITE_SECONDS = 7 * 24 * 3600


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def issue_launch_token(secret: str, claims: dict[str, Any]) -> str:
    return _serializer(secret, LAUNCH_SALT).dumps(claims)


def read_launch_token(secret: str, token: str | None, max_age: int = DEFAULT_LAUNCH_SECONDS) -> dict[str, Any] | None:
    """The launch's claims, or None when the token is missing, forged or expired."""
    if not token or len(token) > 4000:
        return None
    try:
        data = _serializer(secret, LAUNCH_SALT).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) else None


def issue_invite(secret: str, tenant_id: int) -> str:
    return _serializer(secret, INVITE_SALT).dumps({"tenant_id": tenant_id})


def read_invite(secret: str, token: str | None) -> int | None:
    if not token:
        return None
    try:
        data = _serializer(secret, INVITE_SALT).loads(token, max_age=INVITE_SECONDS)
    except (BadSignature, SignatureExpired):
        return None
    return data.get("tenant_id") if isinstance(data, dict) else None
