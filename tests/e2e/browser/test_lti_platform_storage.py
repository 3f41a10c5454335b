"""A real launch in Chromium while the browser blocks the tool's cookies in the LMS frame: LTI platform storage.

The LMS is lti1p3platform (tests/support/lti_platform.py) with a course page, a storage frame and an
authorization endpoint added; it runs on 127.0.0.1 and the tool on localhost, two sites.  The tool
sits behind a (simulated) TLS proxy, so its cookies are what production sends: SameSite=None; Secure;
Partitioned.  Chromium blocks them in the frame with a cookie content setting for the tool's site
embedded in the LMS's site (the "sites not allowed to use third-party cookies" list), which, unlike
third-party-cookie phase-out, blocks partitioned cookies too.  The control context without the
setting shows the same launch carrying the cookie.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

import pytest
from flask import request

from tests.support.browser import ARGS, CHROMIUM, Steps, expect, needs_chromium, serving
from tests.support.lti_platform import INSTRUCTOR, Platform, register_platform

pytestmark = needs_chromium
STORAGE_FRAME = "lti_storage_frame"

# The LMS's side of the 1EdTech postMessage specs (lti-cs-pm, lti-pm-s): the course page answers
# lti.capabilities, the storage frame (same origin as the OIDC authorization endpoint) keeps data
# per sending origin and answers only the tool's origin.
COURSE_PAGE = """<!doctype html><html><head><title>Course One</title></head><body><h1>Course One</h1>
<iframe name="%(frame)s" src="/storage?mode=%(mode)s" hidden></iframe>
<iframe id="tool" title="Group management" width="1000" height="700"></iframe>
<script>
window.addEventListener("message", function (e) {
  if (e.data && e.data.subject === "lti.capabilities") {
    e.source.postMessage({subject: "lti.capabilities.response", message_id: e.data.message_id, supported_messages: [
      {subject: "lti.capabilities"}, {subject: "lti.put_data", frame: "%(frame)s"},
      {subject: "lti.get_data", frame: "%(frame)s"}]}, e.origin);
  }
});
document.querySelector("iframe[name=%(frame)s]").addEventListener("load", function () {
  document.getElementById("tool").src = %(login)s;
});
</script></body></html>"""

STORAGE_PAGE = """<!doctype html><html><body><script>
var store = {}, toolOrigin = %(tool)s, mode = %(mode)s;
window.addEventListener("message", function (e) {
  if (e.origin !== toolOrigin || !e.data || !e.data.message_id) { return; }
  var d = e.data, key = e.origin + "|" + d.key;
  if (d.subject === "lti.put_data") {
    store[key] = d.value;
    e.source.postMessage({subject: "lti.put_data.response", message_id: d.message_id, key: d.key, value: d.value}, e.origin);
  } else if (d.subject === "lti.get_data") {
    var value = store[key];
    if (mode === "forge" && d.key.indexOf("state-") === 0) { value = "forged-" + value; }
    e.source.postMessage({subject: "lti.get_data.response", message_id: d.message_id, key: d.key, value: value}, e.origin);
  }
});
</script></body></html>"""

AUTH_ANSWER = """<!doctype html><html><body><form method="post" action="%(action)s">
<input type="hidden" name="id_token" value="%(id_token)s"><input type="hidden" name="state" value="%(state)s">
<input type="hidden" name="lti_storage_target" value="%(frame)s"></form>
<script>document.forms[0].submit();</script></body></html>"""


class BrowserLms(Platform):
    """lti1p3platform's glue plus what a browser needs: a course page, a storage frame, the auth endpoint."""

    def __init__(self, tool_origin: str) -> None:
        self.tool_origin = tool_origin
        self.launch_cookies: list[list[str]] = []  # cookie names the tool's /lti/launch requests carried
        super().__init__(lambda: {"keys": []})

    def _glue(self):
        app = super()._glue()

        @app.get("/course")
        def course():
            login = self.login_url("teacher-1").replace("http://localhost", self.tool_origin)
            login += f"&lti_storage_target={STORAGE_FRAME}"
            return COURSE_PAGE % {
                "frame": STORAGE_FRAME,
                "mode": html.escape(request.args.get("mode", "keep")),
                "login": json.dumps(login),
            }

        @app.get("/storage")
        def storage():
            return STORAGE_PAGE % {"tool": json.dumps(self.tool_origin), "mode": json.dumps(request.args["mode"])}

        @app.get("/auth")
        def auth():
            # The OIDC authorization endpoint: lti1p3platform signs the launch for the tool's request.
            query = request.args.to_dict()
            form = self.answer(query, sub="teacher-1", roles=[INSTRUCTOR], email="tia@example.edu", nrps=False)
            return AUTH_ANSWER % {
                "action": html.escape(query["redirect_uri"]),
                "frame": STORAGE_FRAME,
                "id_token": html.escape(form["id_token"]),
                "state": html.escape(form["state"]),
            }

        return app


def behind_tls(lms_box: list):
    """What a TLS-terminating proxy adds; and a note of the cookies each launch request carried."""

    def wrap(app):
        def wrapped(environ, start_response):
            environ["HTTP_X_FORWARDED_PROTO"] = "https"
            if environ["PATH_INFO"] == "/lti/launch" and lms_box:
                cookies = [c.split("=", 1)[0].strip() for c in environ.get("HTTP_COOKIE", "").split(";") if c]
                lms_box[0].launch_cookies.append(cookies)
            return app(environ, start_response)

        return wrapped

    return wrap


@pytest.fixture
def stack(rt, tenant):
    """The tool on http://localhost:PORT behind a TLS proxy, and the LMS on http://127.0.0.1:PORT."""
    box: list[BrowserLms] = []
    with serving(replace(rt.settings, trust_proxy=True), rt.db, tool_host="localhost", wrap=behind_tls(box)) as (
        tool,
        _lms,
        _pages,
        live_rt,
    ):
        lms = BrowserLms(tool.origin)
        box.append(lms)
        register_platform(live_rt, tenant.id, lms)
        try:
            yield tool, lms
        finally:
            lms.close()


def open_course(playwright, tmp_path: Path, lms, *, block_tool_cookies: bool, mode: str = "keep"):
    """A fresh Chromium profile on the LMS's course page; returns (context, page, the tool's frame).

    With ``block_tool_cookies`` the tool's site may not use cookies inside the LMS's site: a cookie
    content setting for the pair (tool site, top-level site), which blocks partitioned cookies too.
    """
    profile = tmp_path / f"{mode}-{'blocked' if block_tool_cookies else 'open'}"
    (profile / "Default").mkdir(parents=True)
    exceptions = {"http://localhost:*,http://127.0.0.1:*": {"setting": 2}} if block_tool_cookies else {}
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"content_settings": {"exceptions": {"cookies": exceptions}}}})
    )
    # Without site isolation the cross-site tool frame stays in the page's process: Playwright
    # otherwise loses track of it now and then after its third cross-process navigation.
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=ARGS + ["--disable-site-isolation-trials"],
        viewport={"width": 1100, "height": 820},
    )
    page = context.new_page()
    page.goto(f"{lms.url}/course?mode={mode}")
    return context, page, page.frame_locator("#tool")


def tool_cookies(context) -> list[str]:
    return [c["name"] for c in context.cookies() if c["domain"] == "localhost"]


@pytest.fixture
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def test_with_the_tools_cookies_blocked_the_launch_completes_through_platform_storage(stack, playwright, tmp_path):
    _tool, lms = stack

    # Control: a browser that allows the cookie launches with it (the cookie path still works).
    context, _page, ui = open_course(playwright, tmp_path, lms, block_tool_cookies=False)
    ui.locator("#launch-summary").wait_for(timeout=20_000)
    assert any(name.startswith("lti1p3-state-") for name in lms.launch_cookies[-1])
    context.close()

    # The same launch with the tool's cookies blocked in the LMS frame.
    lms.launch_cookies.clear()
    context, page, ui = open_course(playwright, tmp_path, lms, block_tool_cookies=True)
    steps = Steps(page, "lti-storage")
    ui.locator("#launch-summary").wait_for(timeout=20_000)
    expect(ui.locator("#launch-summary")).to_contain_text("Instructor")
    steps.shot("launched-without-cookies")
    # Proof the cookie was not available: neither launch request (the form post, then our page's
    # post of what the storage returned) carried any tool cookie, and the browser stored none.
    assert len(lms.launch_cookies) == 2 and lms.launch_cookies == [[], []]
    assert tool_cookies(context) == []

    # The UI opens from the launch token.
    ui.locator("#open-ui").click()
    ui.get_by_role("heading", name="Groups").wait_for(timeout=20_000)
    steps.shot("ui-open-without-cookies")
    context.close()


def test_a_state_the_platform_storage_returns_forged_is_refused_with_a_page(stack, playwright, tmp_path):
    _tool, lms = stack
    context, page, ui = open_course(playwright, tmp_path, lms, block_tool_cookies=True, mode="forge")
    ui.get_by_role("heading", name="This launch could not be matched to your browser").wait_for(timeout=20_000)
    expect(ui.get_by_role("alert")).to_contain_text("does not match")
    expect(ui.get_by_role("link", name="Open in a new window")).to_have_count(1)
    expect(ui.locator("#launch-summary")).to_have_count(0)
    Steps(page, "lti-storage").shot("forged-state-refused")
    context.close()
