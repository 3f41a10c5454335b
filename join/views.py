"""GET /join/<token> checks an invitation's link and asks for a click; POST uses it and redirects.

The pages speak the invited person's language (their own, else the tenant's default: the link's
``language``), on a small standalone layout with the UI's vendored Bootstrap (templates/join/).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from provisioning.services.join_links import JoinLink, check_join_link, use_join_link

bp = Blueprint("join", __name__, template_folder="templates")

# What a person reads when the link does not work, with the HTTP status that goes with it.
PROBLEMS = {
    "invalid": (
        404,
        _l("This invitation link does not work"),
        _l("It may be incomplete: open it from the invitation email again, or copy the whole link."),
    ),
    "expired": (
        410,
        _l("This invitation link has expired"),
        _l("Ask the person who invited you to send the invitation again; the new email has a new link."),
    ),
    "used": (
        410,
        _l("This invitation was already accepted"),
        _l("Each invitation link works once. Sign in from your learning platform (LMS) instead."),
    ),
    "superseded": (
        410,
        _l("A newer invitation was sent to you"),
        _l("This link was replaced when the invitation was sent again: use the link in the latest email."),
    ),
}


def _page(status: int, link: JoinLink, **context) -> tuple[str, int, dict[str, str]]:
    g.page_language = link.language  # ui.i18n picks the page's language with it
    headers = {
        # The token is in the URL: never send it on as a Referer, never keep the page in a cache.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
    }
    return render_template("join/page.html", link=link, **context), status, headers


def _problem(link: JoinLink):
    status, title, advice = PROBLEMS[link.state]
    return _page(status, link, title=title, advice=advice, action=False)


def _runtime():
    return current_app.extensions["provisioning"]


@bp.get("/join/<token>")
def show(token: str):
    link = check_join_link(_runtime(), token)
    if link.state != "ok":
        return _problem(link)
    g.page_language = link.language
    if link.group_name:
        # A group invitation: the click is the person's consent to join that group, nothing happens before it.
        title = _("Join the group %(group)s in %(tenant)s", group=link.group_name, tenant=link.tenant_name)
        return _page(200, link, title=title, advice=None, action=True)
    return _page(200, link, title=_("Join %(tenant)s", tenant=link.tenant_name), advice=None, action=True)


@bp.post("/join/<token>")
def use(token: str) -> Response | tuple[str, int, dict[str, str]]:
    link = use_join_link(_runtime(), token)
    if link.state != "ok":
        return _problem(link)
    if link.join_url:
        response = redirect(link.join_url, code=303)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    g.page_language = link.language
    return _page(
        200,
        link,
        title=_("You have joined %(group)s", group=link.group_name)
        if link.group_name
        else _("You have joined %(tenant)s", tenant=link.tenant_name),
        advice=_("Sign in from your learning platform (LMS) to start: open the course or tool you were invited to."),
        action=False,
    )
