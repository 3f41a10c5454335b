"""The UI session a request belongs to: its signed launch token, wherever the browser put it, and
whether the server still holds that session live (provisioning.services.ui_sessions).

Where the token travels: the ``lti_launch`` cookie (set by the launch, the sign-in and the first
page that receives a token in its URL), the ``X-Launch-Token`` header (the UI's script), a form
field or the ``lt`` query parameter.  The last two exist for LMS iframes whose browser blocks
third-party cookies; where the cookie works, the UI moves the token out of the URL after the
first request (ui.guard).

Login CSRF (OWASP CSRF Prevention Cheat Sheet, "Login CSRF"): a token in a form or URL may come
from a link someone else made.  It never silently replaces the browser's live cookie session of
another person or tenant: :attr:`SessionCheck.conflict` names that session, and the UI asks which
one to continue with.  The header is exempt: another site cannot set it (no CORS here), only our
own script, which read the token from our own page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from provisioning import signed_tokens as tokens
from provisioning.i18n import language_tag
from provisioning.permissions import principal_for
from provisioning.services import ui_sessions

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
    session_id: str | None = None
    locale: str | None = None  # the LTI launch's locale claim (BCP 47), for the pages' language (ui.i18n)
    platform_roles: tuple[str, ...] = ()  # the launch's system and institution roles (the tenant's lti_role_map)

    @property
    def person(self) -> tuple[int, int]:
        return self.tenant_id, self.user_id


@dataclass(frozen=True)
class SessionCheck:
    """What the request's token is worth."""

    launch: Launch | None  # the live session the request acts as; None: refused
    problem: str | None = None  # why none: "missing", "expired", "ended" or a SESSION_END_REASONS value
    source: str = ""  # where the token came from: "header", "form", "query" or "cookie"
    in_cookie: bool = False  # the browser's cookie holds this very token (so URLs need not carry it)
    conflict: Launch | None = None  # the cookie's live session of another person, when a form or URL names one
    cookie_problem: str | None = None  # the cookie holds a session that is no longer live


def token_max_age() -> int:
    return current_app.extensions["provisioning"].settings.lti_launch_token_seconds


def read_launch(token: str | None) -> Launch | None:
    """The launch a token was signed for (not yet checked against the server's sessions)."""
    data = tokens.read_launch_token(current_app.config["SECRET_KEY"], token, token_max_age())
    if data is None or token is None:
        return None
    try:
        session_id = data.get("s")
        return Launch(
            tenant_id=int(data["t"]),
            user_id=int(data["u"]),
            role=str(data["r"]),
            lti_role=str(data.get("lr", "")),
            course_id=data.get("c"),
            token=token,
            session_id=str(session_id) if session_id else None,
            locale=language_tag(data.get("lo")),
            platform_roles=tuple(str(r) for r in data.get("pr") or () if isinstance(r, str)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _problem(launch: Launch) -> str | None:
    rt = current_app.extensions["provisioning"]
    return ui_sessions.session_problem(rt, launch.tenant_id, launch.user_id, launch.session_id)


def _sent_token() -> tuple[str | None, str]:
    for source, value in (
        ("header", request.headers.get(HEADER)),
        ("form", request.form.get(PARAM) if request.method == "POST" else None),
        ("query", request.args.get(PARAM)),
    ):
        if value:
            return value, source
    return None, ""


def check_session() -> SessionCheck:
    """The request's session: a token it sent (header, form, query), else the cookie's."""
    cookie = request.cookies.get(COOKIE) or None
    sent, source = _sent_token()
    if sent is None:
        if cookie is None:
            return SessionCheck(None, "missing")
        launch = read_launch(cookie)
        if launch is None:
            return SessionCheck(None, "expired", "cookie", cookie_problem="expired")
        problem = _problem(launch)
        if problem is not None:
            return SessionCheck(None, problem, "cookie", cookie_problem=problem)
        return SessionCheck(launch, source="cookie", in_cookie=True)
    launch = read_launch(sent)
    problem = "expired" if launch is None else _problem(launch)
    if launch is None or problem is not None:
        return SessionCheck(
            None, problem, source, in_cookie=sent == cookie, cookie_problem=problem if sent == cookie else None
        )
    if sent == cookie:
        return SessionCheck(launch, source=source, in_cookie=True)
    conflict = None
    cookie_launch = read_launch(cookie) if cookie else None
    if source != "header" and cookie_launch is not None and cookie_launch.person != launch.person:
        conflict = cookie_launch if _problem(cookie_launch) is None else None
    return SessionCheck(launch, source=source, conflict=conflict)


def current_launch() -> Launch | None:
    """The live session of this request, or None (no token, forged, expired or ended)."""
    return check_session().launch


def _cookie_attributes() -> dict:
    """The launch cookie's attributes; clearing it must name the same ones (a Partitioned cookie is a
    different cookie to the browser than an unpartitioned one of the same name)."""
    secure = request.is_secure
    return {
        "path": "/",
        "httponly": True,
        "secure": secure,
        "samesite": "None" if secure else "Lax",
        "partitioned": secure,
    }


def set_launch_cookie(response, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=token_max_age(), **_cookie_attributes())


def clear_launch_cookie(response) -> None:
    response.delete_cookie(COOKIE, **_cookie_attributes())


def current_principal():
    """The request's :class:`~provisioning.permissions.Principal`, or None without a live session."""
    found = current_launch()
    if found is None:
        return None
    return principal_for(
        current_app.extensions["provisioning"],
        found.tenant_id,
        found.user_id,
        found.role,
        found.course_id,
        platform_roles=found.platform_roles,
    )
