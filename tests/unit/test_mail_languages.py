"""Emails in the recipient's language (provisioning/mail/templates.py): every template, both parts."""

from __future__ import annotations

import pytest

from provisioning.mail.templates import recipient_language, render

INVITATION = {"tenant_name": "Springfield", "name": "Ana", "join_url": "https://x.example/join/t", "link_days": 14}
RESET = {"tenant_name": "Springfield", "name": "Ana", "reset_url": "https://idp.example/reset"}
MESSAGE = {"tenant_name": "Springfield", "name": "Ana", "subject": "Timetable", "body": "Hi.\n\nBye.", "sender": "x"}


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "days"),
    [
        (None, "You are invited to join Springfield", "Hello Ana,", "for 14 days"),
        ("de-CH", "Sie sind eingeladen, Springfield beizutreten", "Hallo Ana,", "14 Tage lang"),
        ("es", "Le invitamos a unirse a Springfield", "Hola, Ana:", "durante 14 días"),
        ("fr", "You are invited to join Springfield", "Hello Ana,", "for 14 days"),
    ],
)
def test_the_invitation_is_written_in_the_recipients_language(language, subject, greeting, days):
    r = render("invitation", INVITATION, language=language)
    assert r.subject == subject
    assert r.text.startswith(greeting) and days in r.text and "https://x.example/join/t" in r.text
    assert greeting in r.html and days in r.html


def test_the_invitation_says_one_day_in_the_singular():
    assert "für 1 Tag" not in render("invitation", {**INVITATION, "link_days": 1}, language="de").text
    assert "1 Tag lang" in render("invitation", {**INVITATION, "link_days": 1}, language="de").text
    assert "durante 1 día." in render("invitation", {**INVITATION, "link_days": 1}, language="es").text
    assert "for 1 day." in render("invitation", {**INVITATION, "link_days": 1}).text


def test_password_reset_and_messages_are_translated_and_escaped():
    de = render("password_reset", RESET, language="de")
    assert de.subject == "Setzen Sie Ihr Passwort für Springfield zurück"
    assert "Anmeldedienst Ihrer Organisation" in de.text and '<html lang="de">' in de.html
    es = render("message", {**MESSAGE, "name": "<Ana>"}, language="es")
    assert es.subject == "Timetable" and es.text.startswith("Hola, <Ana>:")
    assert "Hola, &lt;Ana&gt;:" in es.html  # the name is escaped in the HTML part, the sentence is not


def test_the_recipients_own_language_comes_before_the_tenants_default():
    assert recipient_language("es-MX", "de") == "es"
    assert recipient_language(None, "de") == "de"
    assert recipient_language("fr", "de") == "de"
    assert recipient_language("fr", None) == "en"


def test_a_group_progress_report_is_written_in_the_recipients_language():
    from types import SimpleNamespace

    from provisioning.reports.runs import _report_email

    result = {
        "group_name": "Team A",
        "members": 1200,
        "enrolled_members": 3,
        "completion_rate": 0.5,
        "courses": [{"title": "Safety", "completed": 1, "enrolled": 2, "completion_rate": 0.5}],
    }
    me = SimpleNamespace(given_name="Ana")
    de = _report_email(result, "https://x.example/rows.csv", "Acme", me, "de")
    assert de.subject == "Fortschrittsbericht der Gruppe: Team A"
    assert "Mitglieder: 1.200; in einem Kurs eingeschrieben: 3" in de.text
    assert "Abschlussquote: 50,0\xa0%" in de.text and "Safety: 1 von 2 abgeschlossen (50,0\xa0%)" in de.text
    en = _report_email(result, "https://x.example/rows.csv", "Acme", me, "en")
    assert "Completion rate: 50.0%" in en.text and en.text.startswith("Hello Ana,")
