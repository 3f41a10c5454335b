"""The UI in the person's language, in a browser: an LMS launch with locale es-ES opens the pages in
Spanish; the admin changes a person's language with the batch action; that person's pages are then in
German, and so are their next email and their invitation's join page.  Every step runs axe-core and
leaves a screenshot (test-artifacts/ui/lang-*.png); each page is checked at 320 and 1280 px."""

from __future__ import annotations

import html
import re
import time

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.mail.stencils import message_parts
from provisioning.models import EmailMessage
from provisioning.services import groups, memberships, tenant_settings, users
from provisioning.services.signin_links import issue_signin_link
from provisioning.services.ui_sessions import start_session
from tests.support.browser import SHOTS, Steps, expect, needs_chromium
from tests.support.lti_platform import ADMINISTRATOR, launch
from tests.support.lti_platform import register_platform as register_lti_platform

ACTOR = Actor("test", "api")
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
pytestmark = needs_chromium


def _admin_ui_path(client, platform, live_rt, tenant_id: int) -> str:
    """A real LTI launch whose launch_presentation claim says es-ES; the landing page's link into the UI."""
    register_lti_platform(live_rt, tenant_id, platform)
    platform.locale = "es-ES"
    landing = launch(client, platform, sub="admin-1", roles=[ADMINISTRATOR], email="root@example.edu", nrps=False)
    assert landing.status_code == 200, landing.get_data(as_text=True)
    return html.unescape(re.search(r'id="open-ui" href="([^"]+)"', landing.get_data(as_text=True)).group(1))


def _email_to(rt, address: str, timeout: float = 20.0):
    """The first email queued to ``address``, once the job that queues it has run (the in-process queue)."""
    deadline = time.monotonic() + timeout
    while True:
        with rt.db.read() as s:
            found = s.scalar(select(EmailMessage).where(EmailMessage.to_address == address).limit(1))
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _fits(page, what: str, problems: list[str]) -> None:
    if not page.evaluate(NO_SIDEWAYS_SCROLL):
        problems.append(f"{what} scrolls sideways")


def test_pages_and_emails_follow_the_launch_locale_and_the_persons_language(live, browser, tenant, client, platform):
    tool, _lms, _pages, live_rt = live
    ben = users.create_user(
        live_rt, tenant.id, {"email": "ben@example.edu", "given_name": "Ben", "family_name": "Tester"}, ACTOR
    )
    team = groups.create_group(live_rt, tenant.id, {"name": "Equipo Alfa"}, ACTOR)
    memberships.add_members(live_rt, tenant.id, team.id, user_ids=[ben.id], actor=ACTOR)
    ui_path = _admin_ui_path(client, platform, live_rt, tenant.id)
    problems: list[str] = []

    # The admin's pages are in Spanish (the launch's locale), at both widths.
    for width in (320, 1280):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(f"{tool.origin}{ui_path}")
        page.get_by_role("heading", name="Grupos").wait_for()
        assert page.evaluate("document.documentElement.lang") == "es"
        Steps(page, f"lang-{width}-admin-es").shot("groups")
        _fits(page, f"the Spanish groups page at {width} px", problems)
        context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    steps = Steps(page, "lang-flow")
    page.goto(f"{tool.origin}{ui_path}")
    page.get_by_role("link", name="Personas").click()
    page.get_by_role("heading", name="Personas").wait_for()
    page.get_by_label("Seleccionar a Ben Tester").check()
    page.get_by_label("Acción").select_option(label="Cambiar idioma")
    language = page.locator("#param-change_language-language")
    expect(language).to_be_visible()
    expect(page.get_by_label("Idioma", exact=True)).to_be_visible()
    language.select_option(label="Alemán (de)")
    steps.shot("change-language-chosen")
    page.get_by_role("button", name="Aplicar a los seleccionados…").click()
    page.get_by_role("heading", name="Cambiar idioma").wait_for()
    expect(page.locator("#confirm-text")).to_contain_text("esto afecta a 1 usuario")
    steps.shot("confirm")
    page.locator("#confirm").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    expect(page.locator("#op-status")).to_have_text("Terminado")
    expect(page.locator("#op-count")).to_have_text("1 de 1 elemento")
    steps.shot("done")
    assert users.get_user(live_rt, tenant.id, ben.id).language == "de"

    # A notification to Ben, from the same screen: his email is in German.
    page.goto(f"{tool.origin}/ui/people")
    page.get_by_label("Seleccionar a Ben Tester").check()
    page.get_by_label("Acción").select_option(label="Notificación")
    page.locator("#param-notify-subject").fill("Horario")
    page.locator("#param-notify-body").fill("Nos vemos el lunes.")
    page.get_by_role("button", name="Aplicar a los seleccionados…").click()
    page.locator("#confirm").click()
    page.locator("#result").wait_for(state="visible", timeout=30_000)
    context.close()
    with live_rt.db.read() as s:
        email = s.scalar(
            select(EmailMessage).where(
                EmailMessage.tenant_id == tenant.id, EmailMessage.to_address == "ben@example.edu"
            )
        )
    assert email is not None and email.text_body.startswith("Hallo Ben,")

    # Ben's own pages are in German now, at both widths.
    token = start_session(live_rt, tenant.id, ben.id, "learner", "Learner", None)
    for width in (320, 1280):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(f"{tool.origin}/ui/me?lt={token}")
        page.get_by_role("heading", name="Meine Seite").wait_for()
        assert page.evaluate("document.documentElement.lang") == "de"
        expect(page.locator("main")).to_contain_text("Equipo Alfa")
        Steps(page, f"lang-{width}-learner-de").shot("my-page")
        _fits(page, f"Ben's German page at {width} px", problems)
        context.close()
    assert problems == []


def test_the_join_page_is_in_the_invited_persons_language_at_every_width(live, browser, tenant):
    tool, _lms, _pages, live_rt = live
    tenant_settings.update_settings(live_rt, tenant.id, {"join_url": f"{tool.origin}/lti/home"}, ACTOR)
    cy = users.create_user(
        live_rt,
        tenant.id,
        {"email": "cy@example.edu", "given_name": "Cy", "status": "invited", "language": "de-AT"},
        ACTOR,
    )
    batch_actions.request_batch_action(live_rt, tenant.id, "resend_invite", {}, ACTOR, user_ids=[cy.id])
    email = _email_to(live_rt, "cy@example.edu")
    assert email is not None
    with live_rt.db.read() as s:  # what the sender sends: an invitation is filled in and its link signed then
        text = message_parts(live_rt, s.get_one(EmailMessage, email.id)).text
    assert "Sie sind eingeladen" in text
    link = re.search(r"http://\S+/join/\S+", text).group(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in (320, 1280):
        context = browser.new_context(viewport={"width": width, "height": 700})
        page = context.new_page()
        page.goto(link)
        page.get_by_role("heading", name=re.compile("beitreten")).wait_for()
        assert page.evaluate("document.documentElement.lang") == "de"
        expect(page.get_by_role("button", name="Einladung annehmen")).to_be_visible()
        Steps(page, f"lang-{width}-join-de").shot("join")
        _fits(page, f"the German join page at {width} px", problems)
        context.close()
    assert problems == []


def test_the_main_pages_in_german_fit_320_pixels_and_pass_axe(live, browser, tenant):
    """German words are long: every main page, in German, still fits a 320 px side panel."""
    from tests.e2e.browser.test_ui_widths import _world

    tool, _lms, _pages, live_rt = live
    paths = _world(live_rt, tenant.id)
    tenant_settings.update_settings(live_rt, tenant.id, {"default_language": "de"}, ACTOR)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(issue_signin_link(live_rt, tenant.id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("heading", name="Gruppen").wait_for()
    token = page.evaluate("document.body.getAttribute('data-launch-token')")
    for name, path in paths.items():
        page.goto(f"{tool.origin}{path}?lt={token}")
        page.locator("main h1").wait_for()
        assert page.evaluate("document.documentElement.lang") == "de", name
        Steps(page, f"lang-320-de-{name}").shot("page")
        _fits(page, f"the German {name} page at 320 px", problems)
    page.get_by_role("button", name="Menü").click()
    page.get_by_role("link", name="Personen").click()
    page.get_by_role("heading", name="Personen").wait_for()
    context.close()
    assert problems == []
