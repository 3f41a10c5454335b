"""LTI platform storage, server side, through the test client: the login page that stores state and
nonce in the LMS (lti_storage_target), and the launch that checks what the LMS's storage returned.

The browser half (the postMessage exchange with a real LMS frame) is tests/e2e/browser/test_lti_platform_storage.py.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from provisioning.models import LtiNonce, LtiUserLink
from tests.support.lti_platform import INSTRUCTOR, register_platform

TARGET = "lti_storage_frame"


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _data(page: str) -> dict[str, str]:
    """The data-* attributes of the page's #lti-storage element."""
    tag = re.search(r'<div id="lti-storage"[^>]*>', page, re.S).group(0)
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', tag)}


def storage_login(client, platform, target: str = TARGET):
    """Login initiation with lti_storage_target: the tool's storage page and what it asks the LMS to keep."""
    url = urlsplit(platform.login_url("user-1"))
    resp = client.get(f"{url.path}?{url.query}&lti_storage_target={target}")
    assert resp.status_code == 200, _text(resp)
    return resp, _data(_text(resp))


def _answer(platform, data):
    auth = dict(parse_qsl(urlsplit(data["auth-url"]).query))
    return auth, platform.answer(auth, sub="user-1", roles=[INSTRUCTOR], email="pat@example.edu")


def test_a_login_with_a_storage_target_serves_our_storage_page_instead_of_a_redirect(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp, data = storage_login(client, platform)
    page = _text(resp)
    auth = dict(parse_qsl(urlsplit(data["auth-url"]).query))
    assert data["auth-url"].startswith(f"{platform.url}/auth?")
    assert data["mode"] == "login" and data["target"] == TARGET
    assert data["platform-origin"] == platform.url  # the OIDC authorization endpoint's origin
    assert data["state-key"] == f"state-{auth['state']}" and data["nonce-key"] == f"nonce-{auth['nonce']}"
    # The stored values are not the state and nonce (those travel in URLs), and differ from each other.
    assert auth["state"] not in data["state-value"] and len({data["state-value"], data["nonce-value"]}) == 2
    # Our own script, no inline script, under a CSP that allows only our scripts.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/lti/static/platform_storage.js">']
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert client.get("/lti/static/platform_storage.js").status_code == 200
    # The cookie path still works for browsers that keep the cookie.
    assert f"lti1p3-{auth['state']}" in resp.headers["Set-Cookie"]
    with rt.db.read() as s:
        row = s.scalar(select(LtiNonce).where(LtiNonce.state == auth["state"]))
    assert row.login_params["lti_storage_target"] == TARGET


def test_without_the_cookie_the_launch_reads_the_login_back_from_the_platform_storage(
    rt, app, client, tenant, platform
):
    register_platform(rt, tenant.id, platform)
    _resp, stored = storage_login(client, platform)
    auth, form = _answer(platform, stored)
    blocked = app.test_client()  # the browser keeps no third-party cookie

    first = blocked.post("/lti/launch", data=form)
    assert first.status_code == 200
    check = _data(_text(first))
    assert check["mode"] == "launch" and check["target"] == TARGET and check["platform-origin"] == platform.url
    assert (check["state-key"], check["nonce-key"]) == (stored["state-key"], stored["nonce-key"])
    assert 'name="id_token" value="' in _text(first) and "script-src 'self'" in first.headers["Content-Security-Policy"]

    # The page posts back what the LMS's storage returned for those keys.
    landed = blocked.post(
        "/lti/launch",
        data={**form, "lti_storage_state": stored["state-value"], "lti_storage_nonce": stored["nonce-value"]},
    )
    assert landed.status_code == 200, _text(landed)
    assert 'id="launch-summary"' in _text(landed) and 'id="open-ui"' in _text(landed)
    with rt.db.read() as s:
        assert s.scalar(select(LtiUserLink.sub)) == "user-1"
    # The nonce stays single-use: the same post again is refused.
    again = blocked.post(
        "/lti/launch",
        data={**form, "lti_storage_state": stored["state-value"], "lti_storage_nonce": stored["nonce-value"]},
    )
    assert again.status_code in (400, 401) and "Traceback" not in _text(again)


def test_a_state_from_storage_that_does_not_match_the_login_is_refused(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    _resp, stored = storage_login(client, platform)
    auth, form = _answer(platform, stored)
    blocked = app.test_client()
    for forged in (
        {"lti_storage_state": "forged", "lti_storage_nonce": stored["nonce-value"]},
        {"lti_storage_state": stored["state-value"], "lti_storage_nonce": ""},
        # Someone who saw the state in a URL can't make up the stored value from it.
        {"lti_storage_state": auth["state"], "lti_storage_nonce": auth["nonce"]},
    ):
        resp = blocked.post("/lti/launch", data={**form, **forged})
        assert resp.status_code == 401, _text(resp)
        assert "This launch could not be matched to your browser" in _text(resp)
        assert "Open in a new window" in _text(resp) and "lti_storage_target" not in _text(resp)
    with rt.db.read() as s:
        assert s.scalar(select(LtiUserLink.sub)) is None


def test_when_the_platform_storage_does_not_answer_the_launch_offers_a_new_window(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    _resp, stored = storage_login(client, platform)
    _auth, form = _answer(platform, stored)
    resp = app.test_client().post("/lti/launch", data={**form, "lti_storage_failed": "1"})
    assert resp.status_code == 400
    text = html.unescape(_text(resp))
    assert "Open in a new window" in text and "lti1p3_new_window=1" in text and "lti_storage_target" not in text


def test_the_new_window_retry_of_a_storage_login_redirects_without_storage(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    url = urlsplit(platform.login_url("user-1"))
    resp = client.get(f"{url.path}?{url.query}&lti_storage_target={TARGET}&lti1p3_new_window=1")
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"{platform.url}/auth?")


def test_with_the_cookie_a_storage_login_launches_without_asking_the_storage(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    _resp, stored = storage_login(client, platform)
    _auth, form = _answer(platform, stored)
    resp = client.post("/lti/launch", data=form)  # this browser kept the cookie
    assert resp.status_code == 200 and 'id="launch-summary"' in _text(resp)
