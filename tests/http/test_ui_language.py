"""The pages' and emails' language (ui/i18n.py, provisioning/i18n.py): the person's own setting, else the
LTI launch's locale claim, else the tenant's default, else English, each only among the languages the
service speaks; the page says which in <html lang> and in its words."""

from __future__ import annotations

import re

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import EmailMessage, Tenant
from provisioning.services import users
from tests.support.lti_platform import LEARNER, launch
from tests.support.personas import launched, school

ACTOR = Actor("test", "api")


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True)).group(1)


def _default_language(rt, tenant_id: int, value: str | None) -> None:
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "default_language": value}


def _language(rt, tenant_id: int, user_id: int, value: str | None) -> None:
    users.update_user(rt, tenant_id, user_id, {"language": value}, ACTOR)


def test_the_persons_own_language_comes_first_then_the_tenant_default_then_english(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    admin = sch.admin
    page = admin.session.get("/ui/groups")
    assert _lang(page) == "en" and ">Groups<" in page.get_data(as_text=True)
    _default_language(rt, tenant.id, "es")
    page = admin.session.get("/ui/groups")
    assert _lang(page) == "es" and ">Grupos<" in page.get_data(as_text=True)
    _language(rt, tenant.id, admin.user_id, "de-AT")  # a regional tag falls back to its language
    page = admin.session.get("/ui/groups")
    assert _lang(page) == "de" and ">Gruppen<" in page.get_data(as_text=True)
    assert "Abmelden" in page.get_data(as_text=True)  # the navbar too
    _language(rt, tenant.id, admin.user_id, "fr")  # no French catalog: the tenant's default
    assert _lang(admin.session.get("/ui/groups")) == "es"
    _language(rt, tenant.id, admin.user_id, "not a tag!")
    assert _lang(admin.session.get("/ui/groups")) == "es"


def test_an_lti_launch_with_locale_es_es_shows_spanish(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    platform.locale = "es-ES"
    platform.context_id = "course-a"
    landing = launch(app.test_client(), platform, sub="eli", email="eli@example.edu", roles=[LEARNER])
    assert _lang(landing) == "es" and "Ha iniciado sesión como Estudiante" in landing.get_data(as_text=True)
    learner = launched(client, app, platform, sub="eva", email="eva@example.edu", roles=[LEARNER], context="course-a")
    page = learner.session.get("/ui/me")
    body = page.get_data(as_text=True)
    assert _lang(page) == "es" and "Mis grupos" in body and "Cerrar sesión" in body
    # The person's own language setting comes before the launch's locale.
    _language(rt, tenant.id, learner.user_id, "de")
    assert _lang(learner.session.get("/ui/me")) == "de"
    # A launch without the claim, or with a malformed one, falls back to the tenant's default.
    _default_language(rt, tenant.id, "de")
    platform.locale = "<script>"
    other = launched(client, app, platform, sub="ivo", email="ivo@example.edu", roles=[LEARNER], context="course-a")
    assert _lang(other.session.get("/ui/me")) == "de"
    assert sch.learner.session.get("/ui/me").status_code == 200


def test_changing_a_persons_language_changes_their_pages_and_their_next_email(
    rt, app, client, tenant, platform, run_jobs
):
    sch = school(rt, app, client, tenant, platform)
    learner = sch.learner
    assert _lang(learner.session.get("/ui/me")) == "en"
    confirm = sch.admin.session.post(
        "/ui/people/batch", {"action": "change_language", "user_ids": str(learner.user_id), "language": "de"}
    )
    assert confirm.status_code == 200 and "Change language" in confirm.get_data(as_text=True)
    started = sch.admin.session.post(
        "/ui/people/batch",
        {"action": "change_language", "user_ids": str(learner.user_id), "language": "de", "confirmed": "yes"},
    )
    assert started.status_code == 302
    run_jobs()
    assert users.get_user(rt, tenant.id, learner.user_id).language == "de"
    person = sch.admin.session.get(f"/ui/people/{learner.user_id}").get_data(as_text=True)
    assert '<dd id="language">German (de)</dd>' in person
    page = learner.session.get("/ui/me")
    body = page.get_data(as_text=True)
    assert _lang(page) == "de" and "Meine Gruppen" in body and "Abmelden" in body

    # Their next email (a message from a batch action) is in German too; the admin's stays English.
    sch.admin.session.post(
        "/ui/people/batch",
        {
            "action": "notify",
            "user_ids": [str(learner.user_id), str(sch.admin.user_id)],
            "subject": "Timetable",
            "body": "See you on Monday.",
            "confirmed": "yes",
        },
    )
    run_jobs()
    with rt.db.read() as s:
        sent = {
            m.to_address: m
            for m in s.scalars(
                select(EmailMessage).where(EmailMessage.tenant_id == tenant.id, EmailMessage.kind == "notification")
            )
        }
    assert sent[learner.email].text_body.startswith("Hallo Lou,")
    assert '<html lang="de">' in sent[learner.email].html_body
    assert sent[sch.admin.email].text_body.startswith("Hello Ada,")


def test_the_batch_language_picker_names_each_language_in_the_readers(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    body = sch.admin.session.get("/ui/people").get_data(as_text=True)
    assert '<option value="de">German (de)</option>' in body and '<option value="es">Spanish (es)</option>' in body
    _language(rt, tenant.id, sch.admin.user_id, "es")
    body = sch.admin.session.get("/ui/people").get_data(as_text=True)
    assert '<option value="de">Alemán (de)</option>' in body and '<option value="es">Español (es)</option>' in body


def test_dates_are_written_the_locales_way(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    _default_language(rt, tenant.id, "de")
    body = sch.admin.session.get(f"/ui/groups/{sch.group.id}").get_data(as_text=True)
    assert re.search(r"<dt>Erstellt</dt><dd>\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}</dd>", body), body
