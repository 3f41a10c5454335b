"""/lti: OIDC login, launch, JWKS, tool configuration, dynamic registration, the landing page.

Views parse, call one service, render.  Every refusal is an HTML page with a reason and the
status of its kind (400, 401, 403), never a traceback.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from pylti1p3.contrib.flask import FlaskRequest

from lti import config_doc
from lti.errors import LaunchRefused
from lti.launch import ToolMessageLaunch, ToolOIDCLogin
from lti.toolconf import DbToolConf
from provisioning.activity import Actor
from provisioning.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidText,
    LimitExceeded,
    NotFound,
)
from provisioning.incidents import log_unexpected
from provisioning.lti import keys as lti_keys
from provisioning.lti import launch as lti_launch
from provisioning.lti import registration_invites
from provisioning.lti.dynamic_registration import dynamic_register
from provisioning.lti.registrations import frame_origins
from provisioning.roles import role_label
from provisioning.services import courses, ui_sessions
from web.observability import DATABASE_UNAVAILABLE
from web.session import check_session, set_launch_cookie
from web.text_input import check_json, check_request

log = logging.getLogger(__name__)
bp = Blueprint(
    "lti", __name__, url_prefix="/lti", template_folder="templates", static_folder="static", static_url_path="/static"
)


def _rt():
    return current_app.extensions["provisioning"]


def _base_url() -> str:
    return _rt().settings.public_base_url


def refusal(title: str, reason: str, status: int, new_window_url: str | None = None):
    return render_template("lti/refused.html", title=title, reason=reason, new_window_url=new_window_url), status


@bp.before_request
def _clean_text():
    try:
        check_request()
    except InvalidText as exc:
        return refusal("The request was refused", exc.message, 400)
    return None


def refusals(view):
    """Render refusals and domain errors as pages; log anything unexpected without showing it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except LaunchRefused as exc:
            log.info("LTI refusal on %s: %s", request.path, exc.reason)
            return refusal(exc.title, exc.reason, exc.status, exc.new_window_url)
        except DomainError as exc:
            status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, (Forbidden, LimitExceeded)) else 400
            return refusal("The request was refused", exc.message, status)
        except DATABASE_UNAVAILABLE:
            raise  # the app's handler answers 503 with Retry-After (provisioning/observability/web.py)
        except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
            incident = log_unexpected(log, f"unexpected error on {request.path}", exc)
            return refusal(
                "Something went wrong",
                "The service could not complete this request. "
                f"The incident ({incident}) was logged; try again from the LMS.",
                500,
            )

    return wrapper


@bp.route("/login", methods=["GET", "POST"])
@refusals
def login():
    """OIDC third-party initiated login (LTI 1.3 §5.1.1)."""
    oidc = ToolOIDCLogin(_rt(), FlaskRequest(), DbToolConf(_rt()))
    auth_url = oidc.start(config_doc.urls(_base_url())["launch"])
    storage = oidc.storage_page(auth_url)
    # With lti_storage_target, a page of ours first puts state and nonce in the LMS's storage.
    response = _storage_page(storage) if storage else redirect(auth_url)
    oidc.cookies.update_response(response)
    return response


@bp.post("/launch")
@refusals
def launch():
    """The platform's form post of the id_token: validate, link user and course, land."""
    message = ToolMessageLaunch(_rt(), FlaskRequest(), DbToolConf(_rt()))
    storage = message.platform_storage_check()
    if storage:  # no cookie came back: read the login from the LMS's storage, then post again
        return _storage_page(storage)
    message.validate()
    if not message.is_resource_launch():
        raise LaunchRefused("Only resource link launches are supported by this tool.")
    # The claims are JSON the platform wrote: a name or id with NUL or a lone surrogate is refused (a 400 page).
    check_json(message.claims, "the launch's id_token")
    result = lti_launch.complete_launch(_rt(), message.registration_id, message.claims)
    token = ui_sessions.start_session(
        _rt(),
        result.tenant_id,
        result.user_id,
        result.role,
        result.lti_role,
        result.course_id,
        result.locale,
        result.platform_roles,
    )
    # The landing page's language: the person's own, else the launch's locale, else the tenant's (ui.i18n).
    g.page_language, g.ui_signin_tenant = result.language or result.locale, result.tenant_id
    response = _landing(
        result.tenant_id, result.role, result.lti_role, result.course_id, result.roster_operation_id, token
    )
    set_launch_cookie(response, token)
    return response


def _storage_page(values: dict[str, str]):
    """The page whose script (static/platform_storage.js) talks to the LMS's storage frame."""
    response = current_app.make_response(render_template("lti/platform_storage.html", **values))
    # Our own script only (no inline script); the launch page posts its form back to us.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/home")
@refusals
def home():
    """The landing page again, for a request carrying a launch token (the UI replaces it)."""
    check = check_session()
    found = check.launch
    if found is None:
        return refusal("Your session has expired or ended", "Launch the tool again from your LMS.", 401)
    if check.conflict is not None:  # a link's token of another person: the UI asks which session to keep
        return redirect(url_for("ui.home", lt=found.token))
    if check.source == "query" and check.in_cookie:  # the cookie carries it: take the token out of the URL
        return redirect(url_for("lti.home"))
    g.page_language, g.ui_signin_tenant = found.locale, found.tenant_id
    return _landing(found.tenant_id, found.role, found.lti_role, found.course_id, None, found.token)


def _landing(tenant_id: int, role: str, lti_role: str, course_id: int | None, operation_id: int | None, token: str):
    response = current_app.make_response(
        render_template(
            "lti/landing.html",
            role=role,
            lti_role=lti_role,
            role_label=gettext(role_label(lti_role or None, role)),
            course_id=course_id,
            course_name=courses.course_name(_rt(), tenant_id, course_id) if course_id else None,
            roster_operation_id=operation_id,
            launch_token=token,
        )
    )
    # The page holds the launch token: only the tenant's registered LMSs may frame it (CSP Level 3
    # frame-ancestors), as for the UI's pages.  Refusal pages hold nothing and stay frameable.
    response.headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(
        ["'self'", *frame_origins(_rt(), tenant_id)]
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/jwks")
def jwks():
    """The tool's public keys, including retired keys still in their grace period."""
    response = jsonify(lti_keys.published_jwks(_rt()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config")
def config():
    """Canvas's developer-key JSON; ``?platform=moodle`` gives Moodle's manual-setup values."""
    if request.args.get("platform") == "moodle":
        return jsonify(config_doc.moodle_config(_base_url()))
    return jsonify(config_doc.canvas_config(_base_url()))


INVITE_REFUSALS = {
    "invalid": "The invite is missing or not valid.",
    "expired": "The invite has expired.",
    "used": "The invite was already used: each registration link registers one LMS, once.",
}


@bp.get("/register")
@refusals
def register():
    """LTI Dynamic Registration (IMS LTI-DR 1.0 §3.3), started by the platform with a tenant's invite link."""
    invite, state = registration_invites.check_invite(_rt(), request.args.get("invite"))
    if invite is not None and not request.args.get("openid_configuration"):
        # Checked before the invite is used: opening the bare link (a link scanner, a person) keeps it.
        raise InvalidInput("The platform did not send openid_configuration.")
    actor = Actor(name="lti dynamic registration", channel="lti")
    if invite is not None:
        invite, state = registration_invites.redeem_invite(_rt(), request.args.get("invite"), actor)
    if invite is None:
        return refusal(
            "This registration link is not valid",
            f"{INVITE_REFUSALS[state]} Ask the service's administrator for a new "
            "registration link (provisioning lti registration-url TENANT).",
            403,
        )
    reg = dynamic_register(
        _rt(),
        invite.tenant_id,
        invite.url_policy(_rt()),
        request.args["openid_configuration"],
        request.args.get("registration_token"),
        config_doc.registration_request(_base_url()),
        actor,
        name=invite.name,
    )
    return render_template("lti/registered.html", issuer=reg.issuer, client_id=reg.client_id)
