"""Shared by the browser tests: headless Chromium (Debian's package) driven by Playwright, the tool
and a test LMS served on loopback ports, screenshots to test-artifacts/ui/."""

from __future__ import annotations

import html
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from jobs.queue import InProcessQueue
from provisioning.runtime import Runtime
from server.app import create_app
from tests.support.axe import assert_accessible

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (apt-get install chromium; CI installs it)"
)


class Served:
    """A WSGI app on a free loopback port, in a thread; ``host`` names it in URLs (another site, same port)."""

    def __init__(self, wsgi_app=None, host: str = "127.0.0.1"):
        self.app = wsgi_app
        self.server = make_server("127.0.0.1", 0, lambda environ, start: self.app(environ, start), threaded=True)
        self.origin = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def lms_app(pages: dict[str, str]):
    """The test LMS: pages that frame the tool like a course page does."""

    @Request.application
    def app(request):
        body = pages.get(request.path)
        if body is None:
            return Response("not found", status=404)
        return Response(body, mimetype="text/html")

    return app


def course_page(title: str, tool_url: str) -> str:
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><iframe id='tool' title='Group management' src='{html.escape(tool_url)}' "
        f"width='1000' height='720' style='border:1px solid #999'></iframe></body></html>"
    )


@contextmanager
def serving(settings, db, *, tool_host: str = "127.0.0.1", wrap=None):
    """The tool (on the test database, jobs on the in-process queue) and a test LMS, each on its own port.

    The tool's public base URL is its real origin, so the URLs it sends platforms (redirect_uri) work.
    ``wrap`` wraps the tool's WSGI app (e.g. the headers a TLS-terminating proxy adds).
    """
    tool = Served(host=tool_host)
    live_rt = Runtime(settings=replace(settings, public_base_url=tool.origin), db=db)
    live_rt.queue = InProcessQueue(lambda: live_rt)
    app = create_app(runtime=live_rt)
    tool.app = wrap(app.wsgi_app) if wrap else app.wsgi_app
    pages: dict[str, str] = {}
    lms = Served(lms_app(pages))
    try:
        yield tool, lms, pages, live_rt
    finally:
        lms.stop()
        tool.stop()
        live_rt.queue.shutdown(wait=True)


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_menu(doc) -> None:
    """Open the navbar, which below md (768 px) folds behind its Menu toggler.  The toggler works only once
    Bootstrap's deferred script has run, which on a loaded machine can be after the page's headings are on
    screen and a click has gone nowhere; so click until the menu shows (doc: a page, frame or frame locator)."""
    menu = doc.locator("#ui-nav")
    for _ in range(10):
        doc.get_by_role("button", name="Menu").click()
        try:
            expect(menu).to_be_visible(timeout=2000)
            return
        except AssertionError:
            continue
    expect(menu).to_be_visible()


# Resolves once every finite CSS transition or animation on the page has ended (infinite ones, spinners, are
# left alone), or after a second at most.
SETTLED = """async () => {
    // Two frames first, so a transition the last input started (a hover) is running, then its end.
    await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    await Promise.race([
        Promise.all(document.getAnimations()
            .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
            .map(a => a.finished.catch(() => null))),
        new Promise(resolve => setTimeout(resolve, 1000)),
    ]);
}"""


class Steps:
    """Screenshots of a test's steps; each step also runs axe-core on the tool's page (tests/support/axe.py)."""

    def __init__(self, page, prefix: str):
        self.page, self.prefix, self.n = page, prefix, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str, *, axe: bool = True) -> None:
        # axe reads colours as they are painted: a button just clicked, or one a full-page screenshot's
        # resize slides under the mouse, is halfway through Bootstrap's .15s transition.  So let the
        # transitions end, then run axe before the screenshot.
        self.n += 1
        if axe:
            # The mouse rests where the last click or the previous full-page screenshot's resize left it, which
            # can be over a button (the navbar's Sign out) whose hover colours are then mid-transition: move it
            # to the page's corner, off every control, and let what it started end.
            self.page.mouse.move(0, 0)
            frame = tool_frame(self.page)
            frame.evaluate(SETTLED)
            assert_accessible(frame, f"{self.prefix} step {self.n} ({name})")
        self.page.screenshot(path=str(SHOTS / f"{self.prefix}-{self.n:02d}-{name}.png"), full_page=True)


def tool_frame(page):
    """The tool's document: the LMS page's iframe#tool when there is one, else the page itself."""
    element = page.query_selector("iframe#tool")
    frame = element.content_frame() if element else None
    return frame or page.main_frame


def open_course(browser, lms, prefix: str, path: str = "/course", **options):
    """A new browser context on the test LMS's course page; returns the context, steps and the tool's frame."""
    context = browser.new_context(viewport={"width": 1100, "height": 820}, **options)
    page = context.new_page()
    page.goto(f"{lms.origin}{path}")
    return context, Steps(page, prefix), page.frame_locator("#tool")


def pick(doc, label: str, typed: str, option: str) -> None:
    """Choose ``option`` in the picker labelled ``label`` (ui/_picker.html) as a person would: type, wait for the
    suggestion, then the arrow keys until it is the active one, and Enter."""
    box = doc.get_by_role("combobox", name=label)
    box.fill("")
    box.press_sequentially(typed, delay=30)
    time.sleep(0.4)  # past the picker's 250 ms pause after typing, so its last request has started
    expect(box).not_to_have_class(re.compile(r"\bhtmx-request\b"))  # ... and its suggestions are in
    wanted = doc.get_by_role("option", name=option).first  # its name, then its kind and courses
    wanted.wait_for()
    target = wanted.get_attribute("id")
    for _ in range(12):
        box.press("ArrowDown")
        if box.get_attribute("aria-activedescendant") == target:
            break
    box.press("Enter")


def signed_in(browser, tool, rt, tenant_id: int, *, width: int = 1280, height: int = 900, **options):
    """A new browser context signed in as the tenant's owner (an administrator) through a sign-in link,
    on the Groups page; returns the context and its page."""
    from provisioning.services.signin_links import issue_signin_link

    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.goto(issue_signin_link(rt, tenant_id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Groups").wait_for()
    return context, page


def run_batch_action(page, steps: Steps, action: str, name: str, fill=None, *, confirms: tuple[str, ...] = ()) -> None:
    """Choose the batch ``action`` for the ticked people, fill its fields (``fill()``), ask, check that the
    confirmation repeats each of ``confirms``, screenshot it, confirm, wait for the result and screenshot it
    (``<name>-confirm``, ``<name>-result``)."""
    page.locator("#action").select_option(action)
    if fill is not None:
        fill()
    page.get_by_role("button", name="Apply to selected").click()
    page.locator("#confirm-examples").wait_for()
    for words in confirms:
        expect(page.locator("#confirm-params")).to_contain_text(words)
    steps.shot(f"{name}-confirm")
    page.locator("#confirm").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(page.locator("#op-status")).to_contain_text("Finished")
    steps.shot(f"{name}-result")


def downloaded(page, link, target: Path) -> Path:
    """Click ``link`` (a locator), save what it downloads as ``target`` and return the path."""
    with page.expect_download() as info:
        link.click()
    info.value.save_as(target)
    return target


def signed_in_as(browser, tool, rt, tenant_id: int, user_id: int, *, width: int = 1280, **options):
    """A new browser context for a person whose launch made them a learner (an assigned group manager is one),
    on the Groups page; returns the context and its page."""
    from provisioning.services.ui_sessions import start_session

    token = start_session(rt, tenant_id, user_id, "learner", "learner", None)
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    page.goto(f"{tool.origin}/ui/groups?lt={token}")
    page.get_by_role("heading", name="Groups").wait_for()
    return context, page
