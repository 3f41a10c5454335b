"""Who is asking, may they, and what the browser is told: sign-in, CSRF, CSP, error pages.

* Authentication: the launch token of a live server-side session (web.session.check_session),
  checked on every request; ``/ui/signin`` shows a page for a one-time sign-in link and its POST
  turns the link into such a session for the tenant's owner; ``/ui/signout`` ends the session.
* The token in URLs: a page reached with ``lt`` in its URL sets the cookie and redirects to the
  same URL without it, when the cookie comes back (a probe with ``nc=1`` finds out when it does
  not: an LMS iframe blocking third-party cookies, where links keep carrying the token).  A token
  in a URL or form naming another person or tenant than the browser's cookie session is never
  adopted silently: the page asks (``ui/switch.html``), with a CSRF-protected choice.
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
from typing import Any
from urllib.parse import urlencode

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
from flask_babel import format_decimal, get_translations, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from provisioning import i18n, permissions
from provisioning.activity import Actor
from provisioning.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from provisioning.i18n import N_
from provisioning.lti.registrations import frame_origins
from provisioning.permissions import Principal, principal_for
from provisioning.services import groups, ui_sessions, users
from provisioning.services import signin_links as ui_links
from ui.blueprint import bp, declared_action, rule
from web.session import (
    COOKIE,
    PARAM,
    SessionCheck,
    check_session,
    clear_launch_cookie,
    read_launch,
    set_launch_cookie,
)
from web.text_input import check_request

log = logging.getLogger(__name__)
NO_COOKIE = "nc"  # in a URL: this browser did not send back the session cookie, keep the token in URLs
ENDED = {
    "missing": (
        _l("Please sign in"),
        _l(
            "Your session is missing. Open the tool again from your LMS, or ask for a new sign-in link "
            "(provisioning ui-link TENANT)."
        ),
    ),
    "expired": (
        _l("Please sign in again"),
        _l(
            "Your session has expired. Open the tool again from your LMS, or ask for a new sign-in link "
            "(provisioning ui-link TENANT)."
        ),
    ),
    "ended": (
        _l("Your session has ended"),
        _l("This session is no longer valid. Open the tool again from your LMS, or ask for a new sign-in link."),
    ),
    "signed_out": (
        _l("You have signed out"),
        _l("This session was ended by signing out. Open the tool again from your LMS to sign in again."),
    ),
    "deactivated": (
        _l("Your account is deactivated"),
        _l("Your account in this service was deactivated, which ended your session. Ask your administrator."),
    ),
    "deleted": (
        _l("Your account no longer exists"),
        _l("Your account in this service was deleted, which ended your session. Ask your administrator."),
    ),
    "role_changed": (
        _l("Your role has changed"),
        _l(
            "Your role in this service was changed, which ended your session. Open the tool again from your "
            "LMS to continue with your new role."
        ),
    ),
}
SIGNIN_COOKIE = "ui_signin"
LINK_PROBLEMS = {
    "invalid": (
        _l("This sign-in link is not valid"),
        _l("The link is damaged or forged. Ask for a new one (provisioning ui-link TENANT)."),
    ),
    "expired": (
        _l("This sign-in link has expired"),
        _l("Sign-in links work for 15 minutes. Ask for a new one (provisioning ui-link TENANT)."),
    ),
    "used": (
        _l("This sign-in link was already used"),
        _l("Each sign-in link works once. Ask for a new one (provisioning ui-link TENANT)."),
    ),
}


def rt():
    return current_app.extensions["provisioning"]


def principal() -> Principal:
    return g.ui_principal


def actor() -> Actor:
    p = principal()
    if p.user_id == ui_links.OWNER_USER_ID:
        return Actor(name="ui:owner", channel="ui")
    return Actor(name=f"ui:user-{p.user_id}", channel="ui", user_id=p.user_id)


def csrf_token(launch_token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"ui-csrf|" + launch_token.encode(), hashlib.sha256).hexdigest()


def ui_url(endpoint: str, **values) -> str:
    """url_for that carries the launch token when the browser's cookie does not, so the next page
    knows who is asking (an LMS iframe blocking third-party cookies)."""
    token = getattr(g, "ui_url_token", None)
    if token and not endpoint.endswith("static"):
        values.setdefault(PARAM, token)
        values.setdefault(NO_COOKIE, "1")
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
        raise InvalidInput(
            N_("%(name)s must be a whole number (an id)."), details={name: [N_("Must be a whole number.")]}, name=name
        )
    return value


def wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def translated(text: Any) -> str:
    """A message made elsewhere (the core's, marked with ``N_``: a refusal, an upload's row error) in the
    page's language when the catalogs have it, its values filled in; as it is otherwise.  Plain text:
    Jinja escapes it, values included (provisioning/i18n.py, ``localize``)."""
    return i18n.localize(text, get_translations().gettext)


def format_size(num: Any) -> str:
    """A size in bytes in words for people, in the page's locale ("2,000 bytes", "10.5 MB")."""
    if not isinstance(num, int):
        return str(num)
    if num >= 1 << 20:
        return _("%(size)s MB", size=format_decimal(round(num / (1 << 20), 1)))
    return ngettext("%(size)s byte", "%(size)s bytes", num, size=format_decimal(num))


def page_error(title: str, message: str, status: int, errors: dict | None = None):
    message = translated(message)
    errors = {field: [translated(m) for m in msgs] for field, msgs in (errors or {}).items()}
    if wants_json():
        return jsonify({"status": status, "message": message, "errors": errors}), status
    return render_template("ui/error.html", title=title, message=message, errors=errors), status


def _same_url(**extra: str) -> str:
    """This request's path and query without the token and the cookie probe, plus ``extra``."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in (PARAM, NO_COOKIE)]
    query += list(extra.items())
    return request.path + ("?" + urlencode(query) if query else "")


def _refused(check: SessionCheck):
    title, message = ENDED.get(check.problem or "", ENDED["ended"])
    response = make_response(page_error(title, message, 401))
    if check.cookie_problem is not None:  # the cookie's session is over: stop sending it
        clear_launch_cookie(response)
    return response


@bp.before_request
def authenticate():
    """Who is asking (the launch token), the form's CSRF token, then the rule the view declared."""
    if request.endpoint is None:  # no such route: Flask answers 404
        return None
    action = declared_action(request.endpoint, current_app.view_functions.get(request.endpoint))
    if action is None:
        # Fail closed: a view without a rule (ui.blueprint.rule) is open to nobody.
        return page_error(_("Not allowed"), _("This page declares no permission rule, so nobody may open it."), 403)
    if action == permissions.PUBLIC:
        return None
    check = check_session()
    launch = check.launch
    if launch is None:
        return _refused(check)
    if request.method == "POST":
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
        if not hmac.compare_digest(sent, csrf_token(launch.token)):
            return page_error(
                _("The form has expired"),
                _("The form's security token is missing or wrong. Reload the page and try again."),
                403,
            )
    if check.conflict is not None:
        next_url = _same_url() if request.method == "GET" else url_for("ui.home")
        return _switch_page(check.conflict, launch, next_url)
    if request.method == "GET" and check.source == "query" and not wants_json():
        # Move the token out of the address (it would sit in history, logs and bookmarks) where
        # the cookie works: set it, then come back without the token once it is seen to return.
        if check.in_cookie:
            return redirect(_same_url())
        if not request.args.get(NO_COOKIE):
            response = redirect(_same_url(**{PARAM: launch.token, NO_COOKIE: "1"}))
            set_launch_cookie(response, launch.token)
            return response
    g.ui_token = launch.token
    g.ui_session_id = launch.session_id
    # The LTI launch's locale claim, which the session carries (ui.i18n picks the language with it).
    g.ui_launch_locale = launch.locale
    g.ui_url_token = None if check.in_cookie else launch.token
    g.ui_principal = principal_for(
        rt(), launch.tenant_id, launch.user_id, launch.role, launch.course_id, platform_roles=launch.platform_roles
    )
    permissions.require(rt(), g.ui_principal, action, _named_object())
    return None


def _named_object():
    """The group (or else the person) the URL names, which the view's rule is checked on; None for the tenant.
    Another tenant's is a 404 (NotFound), like one that does not exist."""
    args = request.view_args or {}
    p = g.ui_principal
    if "group_id" in args:
        return groups.get_group(rt(), p.tenant_id, args["group_id"])
    if "user_id" in args:
        return users.get_user(rt(), p.tenant_id, args["user_id"])
    return None


def _switch_csrf(current_token: str, new_token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"ui-switch|" + current_token.encode() + b"|" + new_token.encode(), hashlib.sha256).hexdigest()


def _switch_page(current, new, next_url: str):
    """Ask before a token from a link or form replaces the browser's session of another person."""
    g.ui_signin_tenant = current.tenant_id
    page = render_template(
        "ui/switch.html",
        current=ui_sessions.describe_person(rt(), current.tenant_id, current.user_id),
        new=ui_sessions.describe_person(rt(), new.tenant_id, new.user_id),
        token=new.token,
        next_url=next_url,
        switch_csrf=_switch_csrf(current.token, new.token),
    )
    return page, 409


def _local(next_url: str) -> str:
    """Only a path of this service (never another site: no scheme, no host, no //)."""
    if not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return url_for("ui.home")
    return next_url


@bp.post("/switch", endpoint="switch")
@rule("public")  # checks its own token: bound to the browser's session cookie
def switch():
    """The answer to the switch page: continue as the link's person, or stay as the cookie's.

    The choice must carry a token bound to the browser's current session cookie, so another
    site cannot make the choice for the user (it can neither read the page nor the cookie).
    """
    current = request.cookies.get(COOKIE) or ""
    new_token = request.form.get("token") or ""
    if not current or not hmac.compare_digest(request.form.get("csrf") or "", _switch_csrf(current, new_token)):
        return page_error(
            _("The form has expired"),
            _("The form's security token is missing or wrong. Open the link again."),
            403,
        )
    next_url = _local(request.form.get("next") or "")
    response = redirect(next_url)
    if request.form.get("choice") == "continue":
        check = read_launch(new_token)
        if check is None or ui_sessions.session_problem(rt(), check.tenant_id, check.user_id, check.session_id):
            return _refused(SessionCheck(None, "expired" if check is None else "ended"))
        set_launch_cookie(response, new_token)
    return response


@bp.post("/signout")
@rule("view_own")  # everyone signed in may end their own session
def signout():
    """End this session on the server (its token is refused from now on, even replayed) and drop the cookie."""
    ui_sessions.end_session(rt(), principal().tenant_id, g.ui_session_id)
    g.ui_principal = None
    g.ui_token = None
    response = make_response(render_template("ui/signed_out.html"))
    clear_launch_cookie(response)
    return response


# After authenticate (registered above): a signed-in request, or an open page, has clean text.
bp.before_request(check_request)


@bp.context_processor
def _context():
    token = getattr(g, "ui_token", None)
    return {
        "csrf": csrf_token(token) if token else "",
        "launch_token": token,
        "url_token": getattr(g, "ui_url_token", None),
        "me": getattr(g, "ui_principal", None),
    }


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
        _("The file is too large"),
        _(
            "The upload is larger than the limit of %(size)s. Split the file, or save it as CSV (smaller than XLSX).",
            size=format_size(limit),
        ),
        413,
    )


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    if isinstance(exc, NotFound):
        return page_error(_("Not found"), exc.message, 404)
    if isinstance(exc, LimitExceeded) and exc.limit != "seats":  # a size or row limit, as the admin API says
        return page_error(_("The file is too large"), exc.message, 413)
    if isinstance(exc, (Forbidden, LimitExceeded)):
        return page_error(_("Not allowed"), exc.message, 403)
    details = exc.details if isinstance(exc, InvalidInput) else {}
    return page_error(
        _("Please check your input"), exc.message, 409 if not isinstance(exc, InvalidInput) else 400, details
    )


def _link_problem(state: str):
    title, message = LINK_PROBLEMS.get(state, LINK_PROBLEMS["invalid"])
    return render_template("ui/signin.html", problem=True, title=title, message=message), 403


def _signin_csrf(link: str, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"ui-signin|" + nonce.encode() + b"|" + link.encode(), hashlib.sha256).hexdigest()


@bp.get("/signin")
@rule("public")
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
    # Signing in replaces the browser's session: when it is someone else's, the page names both.
    current = check_session().launch
    switching = None
    if current is not None and current.person != (tenant_id, ui_sessions.OWNER_USER_ID):
        switching = (
            ui_sessions.describe_person(rt(), current.tenant_id, current.user_id),
            ui_sessions.describe_person(rt(), tenant_id, ui_sessions.OWNER_USER_ID),
        )
    response = make_response(
        render_template(
            "ui/signin.html", problem=False, link=link, signin_csrf=_signin_csrf(link, nonce), switching=switching
        )
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
@rule("public")
def signin_continue():
    """Redeem the one-time sign-in link: a launch token for the tenant's owner, then the groups page."""
    link = request.form.get("link") or ""
    nonce = request.cookies.get(SIGNIN_COOKIE) or ""
    if not nonce or not hmac.compare_digest(request.form.get("csrf") or "", _signin_csrf(link, nonce)):
        return page_error(
            _("The form has expired"),
            _("The sign-in form's security token is missing or wrong. Open the sign-in link again."),
            403,
        )
    tenant_id = ui_links.redeem_signin_link(rt(), link)
    if tenant_id is None:
        return _link_problem(ui_links.check_signin_link(rt(), link)[1])
    g.ui_signin_tenant = tenant_id
    token = ui_links.owner_launch_token(rt(), tenant_id)
    response = redirect(url_for("ui.groups", lt=token))
    set_launch_cookie(response, token)
    response.delete_cookie(SIGNIN_COOKIE, path=url_for("ui.signin"))
    return response


@bp.get("/")
@rule("view_own")
def home():
    if not permissions.can(rt(), principal(), "list_groups"):
        return redirect(ui_url("ui.learner"))
    return redirect(ui_url("ui.groups"))
