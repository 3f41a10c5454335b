"""Who is asking, may they, and what the browser is told: sign-in, CSRF, CSP, error pages.

* Authentication: the launch token (web.session.current_launch); ``/ui/signin`` shows a page
  for a one-time sign-in link and its POST turns the link into such a token for the tenant's owner.
* CSRF: every POST carries ``csrf`` (a form field or the X-CSRF-Token header), an HMAC of the
  launch token under SECRET_KEY, so a page that does not know the token cannot forge one.
* CSP: only our own scripts and styles; ``frame-ancestors`` is 'self' plus the origins of the
  tenant's registered LTI platforms (CSP Level 3 §6.4.2), so only those LMSs can frame us.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from flask import (
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from provisioning.activity import Actor
from provisioning.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from provisioning.lti.registrations import frame_origins
from provisioning.permissions import Principal, principal_for
from provisioning.services import signin_links as ui_links
from ui.blueprint import bp
from web.session import current_launch, set_launch_cookie
from web.text_input import check_request

log = logging.getLogger(__name__)
OPEN_ENDPOINTS = {"ui.signin", "ui.signin_continue", "ui.static"}
SIGNIN_COOKIE = "ui_signin"
LINK_PROBLEMS = {
    "invalid": (
        "This sign-in link is not valid",
        "The link is damaged or forged. Ask for a new one (provisioning ui-link TENANT).",
    ),
    "expired": (
        "This sign-in link has expired",
        "Sign-in links work for 15 minutes. Ask for a new one (provisioning ui-link TENANT).",
    ),
    "used": (
        "This sign-in link was already used",
        "Each sign-in link works once. Ask for a new one (provisioning ui-link TENANT).",
    ),
}


def rt():
    return current_app.extensions["provisioning"]


def principal() -> Principal:
    return g.ui_principal


def actor() -> Actor:
    p = principal()
    return Actor(name="ui:owner" if p.user_id == ui_links.OWNER_USER_ID else f"ui:user-{p.user_id}", channel="ui")


def csrf_token(launch_token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"ui-csrf|" + launch_token.encode(), hashlib.sha256).hexdigest()


def ui_url(endpoint: str, **values) -> str:
    """url_for that carries the launch token, so the next page knows who is asking."""
    token = getattr(g, "ui_token", None)
    if token and not endpoint.endswith("static"):
        values.setdefault("lt", token)
    return url_for(endpoint, **values)


@bp.app_template_global()
def ui_link(endpoint: str, **values) -> str:
    return ui_url(endpoint, **values)


def form_int(raw: str | None, name: str) -> int:
    """A whole number from a form or query field, or a 400 naming the field."""
    try:
        value = int(raw or "")
    except ValueError:
        value = 0
    if not 1 <= value <= 2**63 - 1:
        raise InvalidInput(f"{name} must be a whole number (an id).", details={name: ["Must be a whole number."]})
    return value


def wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def page_error(title: str, message: str, status: int, errors: dict | None = None):
    if wants_json():
        return jsonify({"status": status, "message": message, "errors": errors or {}}), status
    return render_template("ui/error.html", title=title, message=message, errors=errors or {}), status


@bp.before_request
def authenticate():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    launch = current_launch()
    if launch is None:
        return page_error(
            "Please sign in again",
            "Your session is missing or has expired. Open the tool again "
            "from your LMS, or ask for a new sign-in link (provisioning ui-link TENANT).",
            401,
        )
    g.ui_token = launch.token
    g.ui_principal = principal_for(rt(), launch.tenant_id, launch.user_id, launch.role, launch.course_id)
    if request.method == "POST":
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
        if not hmac.compare_digest(sent, csrf_token(launch.token)):
            return page_error(
                "The form has expired",
                "The form's security token is missing or wrong. Reload the page and try again.",
                403,
            )
    return None


# After authenticate (registered above): a signed-in request, or an open page, has clean text.
bp.before_request(check_request)


@bp.context_processor
def _context():
    token = getattr(g, "ui_token", None)
    return {"csrf": csrf_token(token) if token else "", "launch_token": token, "me": getattr(g, "ui_principal", None)}


@bp.after_request
def security_headers(response):
    p = getattr(g, "ui_principal", None)
    tenant_id = p.tenant_id if p else getattr(g, "ui_signin_tenant", None)
    ancestors = " ".join(["'self'", *frame_origins(rt(), tenant_id)])
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )
    # The launch token travels in URLs: never send it to another origin.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "ui.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return page_error(
        "The file is too large",
        f"The upload is larger than the limit of {limit} bytes. Split the file, or save it as CSV (smaller than XLSX).",
        413,
    )


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    if isinstance(exc, NotFound):
        return page_error("Not found", exc.message, 404)
    if isinstance(exc, LimitExceeded) and exc.limit != "seats":  # a size or row limit, as the admin API says
        return page_error("The file is too large", exc.message, 413)
    if isinstance(exc, (Forbidden, LimitExceeded)):
        return page_error("Not allowed", exc.message, 403)
    details = exc.details if isinstance(exc, InvalidInput) else {}
    return page_error(
        "Please check your input", exc.message, 409 if not isinstance(exc, InvalidInput) else 400, details
    )


def _link_problem(state: str):
    title, message = LINK_PROBLEMS.get(state, LINK_PROBLEMS["invalid"])
    return render_template("ui/signin.html", problem=True, title=title, message=message), 403


def _signin_csrf(link: str, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"ui-signin|" + nonce.encode() + b"|" + link.encode(), hashlib.sha256).hexdigest()


@bp.get("/signin")
def signin():
    """Show a sign-in link's page without using the link: scanners that pre-fetch links must not spend it.

    The "Sign in" button POSTs the link with a CSRF token bound to a cookie set here (double submit),
    so another site can't sign a browser in with a link of its own choosing.
    """
    link = request.args.get("link") or ""
    tenant_id, state = ui_links.check_signin_link(rt(), link)
    if tenant_id is None:
        return _link_problem(state)
    g.ui_signin_tenant = tenant_id
    nonce = secrets.token_urlsafe(16)
    response = make_response(
        render_template("ui/signin.html", problem=False, link=link, signin_csrf=_signin_csrf(link, nonce))
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=ui_links.LINK_SECONDS,
        httponly=True,
        secure=request.is_secure,
        samesite="None" if request.is_secure else "Lax",
        partitioned=request.is_secure,
        path=url_for("ui.signin"),
    )
    return response


@bp.post("/signin", endpoint="signin_continue")
def signin_continue():
    """Redeem the one-time sign-in link: a launch token for the tenant's owner, then the groups page."""
    link = request.form.get("link") or ""
    nonce = request.cookies.get(SIGNIN_COOKIE) or ""
    if not nonce or not hmac.compare_digest(request.form.get("csrf") or "", _signin_csrf(link, nonce)):
        return page_error(
            "The form has expired",
            "The sign-in form's security token is missing or wrong. Open the sign-in link again.",
            403,
        )
    tenant_id = ui_links.redeem_signin_link(rt(), link)
    if tenant_id is None:
        return _link_problem(ui_links.check_signin_link(rt(), link)[1])
    g.ui_signin_tenant = tenant_id
    token = ui_links.owner_launch_token(current_app.config["SECRET_KEY"], tenant_id)
    response = redirect(url_for("ui.groups", lt=token))
    set_launch_cookie(response, token)
    response.delete_cookie(SIGNIN_COOKIE, path=url_for("ui.signin"))
    return response


@bp.get("/")
def home():
    if principal().role == "learner":
        return redirect(ui_url("ui.learner"))
    return redirect(ui_url("ui.groups"))
