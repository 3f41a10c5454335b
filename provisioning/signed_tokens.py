"""Signed, expiring tokens (itsdangerous with SECRET_KEY): the launch token.

Registration invites are single-use and live in provisioning/lti/registration_invites.py.

After a launch the UI works from the launch token (sent as a header, a form field or a query
parameter), not only from a cookie: browsers that block third-party cookies in the LMS iframe
still carry it.  No Flask here.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LAUNCH_SALT = "lti-launch-token"
DEFAULT_LAUNCH_SECONDS = 4 * 3600


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
