"""Signing in to the UI the ways people do: a sign-in link (the owner), or an LTI launch token."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from provisioning.services import ui_sessions
from provisioning.services.signin_links import issue_signin_link


class UiSession:
    """A session of the UI as its pages' script uses it: the launch token in every request (the
    X-Launch-Token header for a GET, the form for a POST), the CSRF token from the page.

    ``get_by_url`` sends the token in the URL instead, as a link does."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def get(self, path: str, **params):
        return self.client.get(path, query_string=params, headers={"X-Launch-Token": self.token})

    def get_by_url(self, path: str, **params):
        return self.client.get(path, query_string={"lt": self.token, **params})

    def csrf(self) -> str:
        page = self.get("/ui/groups").get_data(as_text=True)
        return re.search(r'data-csrf="([0-9a-f]+)"', page).group(1)

    def post(self, path: str, data=None, **kwargs):
        data = {"lt": self.token, "csrf": self.csrf(), **(data or {})}
        return self.client.post(path, data=data, **kwargs)


def press_sign_in(client, path: str):
    """Open a sign-in link's page and press its Sign in button (a POST with the page's CSRF token)."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="(link|csrf)" value="([^"]*)"', text))
    return client.post("/ui/signin", data={k: html.unescape(v) for k, v in form.items()})


def sign_in(client, rt, tenant_id: int) -> UiSession:
    link = issue_signin_link(rt, tenant_id)
    response = press_sign_in(client, link.replace("http://localhost", ""))
    assert response.status_code == 302
    token = parse_qs(urlsplit(response.headers["Location"]).query)["lt"][0]
    return UiSession(client, token)


def launch_as(client, app, tenant_id: int, user_id: int, role: str, course_id: int | None = None) -> UiSession:
    """A session as an LTI launch begins it (the server's session row and its token), without the LMS."""
    token = ui_sessions.start_session(app.extensions["provisioning"], tenant_id, user_id, role, role, course_id)
    return UiSession(client, token)
