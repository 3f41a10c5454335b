"""The launch a request belongs to: read from the signed launch token, wherever the browser put it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from provisioning import signed_tokens as tokens
from provisioning.permissions import principal_for

COOKIE = "lti_launch"
HEADER = "X-Launch-Token"
PARAM = "lt"


@dataclass(frozen=True)
class Launch:
    tenant_id: int
    user_id: int
    role: str
    lti_role: str
    course_id: int | None
    token: str


def token_max_age() -> int:
    return current_app.extensions["provisioning"].settings.lti_launch_token_seconds


def current_launch() -> Launch | None:
    """The launch of this request: header, then form or query parameter, then cookie."""
    token = (
        request.headers.get(HEADER) or request.form.get(PARAM) or request.args.get(PARAM) or request.cookies.get(COOKIE)
    )
    data = tokens.read_launch_token(current_app.config["SECRET_KEY"], token, token_max_age())
    if data is None:
        return None
    try:
        return Launch(
            tenant_id=int(data["t"]),
            user_id=int(data["u"]),
            role=str(data["r"]),
            lti_role=str(data.get("lr", "")),
            course_id=data.get("c"),
            token=token,
        )
    except (KeyError, TypeError, ValueError):
        return None


def set_launch_cookie(response, token: str) -> None:
    secure = request.is_secure
    response.set_cookie(
        COOKIE,
        token,
        max_age=token_max_age(),
        httponly=True,
        secure=secure,
        path="/",
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )


def current_principal():
    """The request's :class:`~provisioning.permissions.Principal`, or None without a valid launch."""
    found = current_launch()
    if found is None:
        return None
    return principal_for(
        current_app.extensions["provisioning"], found.tenant_id, found.user_id, found.role, found.course_id
    )
