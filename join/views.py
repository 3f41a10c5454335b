"""GET /join/<token> checks an invitation's link and asks for a click; POST uses it and redirects."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template

from provisioning.services.join_links import JoinLink, check_join_link, use_join_link

bp = Blueprint("join", __name__, template_folder="templates")

# What a person reads when the link does not work, with the HTTP status that goes with it.
PROBLEMS = {
    "invalid": (
        404,
        "This invitation link does not work",
        "It may be incomplete: open it from the invitation email again, or copy the whole link.",
    ),
    "expired": (
        410,
        "This invitation link has expired",
        "Ask the person who invited you to send the invitation again; the new email has a new link.",
    ),
    "used": (
        410,
        "This invitation was already accepted",
        "Each invitation link works once. Sign in from your learning platform (LMS) instead.",
    ),
    "superseded": (
        410,
        "A newer invitation was sent to you",
        "This link was replaced when the invitation was sent again: use the link in the latest email.",
    ),
}


def _page(status: int, **context) -> tuple[str, int, dict[str, str]]:
    headers = {
        # The token is in the URL: never send it on as a Referer, never keep the page in a cache.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    }
    return render_template("join/page.html", **context), status, headers


def _problem(link: JoinLink):
    status, title, advice = PROBLEMS[link.state]
    return _page(status, title=title, advice=advice, link=link, action=False)


def _runtime():
    return current_app.extensions["provisioning"]


@bp.get("/join/<token>")
def show(token: str):
    link = check_join_link(_runtime(), token)
    if link.state != "ok":
        return _problem(link)
    if link.group_name:
        # A group invitation: the click is the person's consent to join that group, nothing happens before it.
        return _page(
            200, title=f"Join the group {link.group_name} in {link.tenant_name}", advice=None, link=link, action=True
        )
    return _page(200, title=f"Join {link.tenant_name}", advice=None, link=link, action=True)


@bp.post("/join/<token>")
def use(token: str) -> Response | tuple[str, int, dict[str, str]]:
    link = use_join_link(_runtime(), token)
    if link.state != "ok":
        return _problem(link)
    if link.join_url:
        response = redirect(link.join_url, code=303)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    return _page(
        200,
        title=f"You have joined {link.group_name}" if link.group_name else f"You have joined {link.tenant_name}",
        advice="Sign in from your learning platform (LMS) to start: open the course or tool you were invited to.",
        link=link,
        action=False,
    )
