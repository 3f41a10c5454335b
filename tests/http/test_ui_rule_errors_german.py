"""A rule that does not compile, typed in the rule builder's text mode, in the page's language (issue 16):
the reason (the filter language's own error, an unknown field, an unknown course) and where it is, in
German or Spanish.  SCIM says the same filter errors in English, word for word as before (RFC 7644 §3.12)."""

from __future__ import annotations

import html
import re

import pytest

from provisioning.activity import Actor
from provisioning.models import Tenant
from provisioning.services import groups
from provisioning.services.courses import create_course

ACTOR = Actor("test", "api")


def _speak(rt, tenant_id: int, language: str) -> None:
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "default_language": language}


def _preview(response) -> str:
    """The text under the rule's text box (what is wrong, and where)."""
    found = re.search(r'<p id="rule-preview"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def _typed(owner, rule: str):
    return owner.post("/ui/groups/new", {"name": "Ingenieure", "kind": "automatic", "mode": "text", "rule": rule})


ENGLISH = ("is a string", "Unexpected character", "Unknown attribute", "No course", "Write each condition")


def test_a_german_admin_reads_the_rule_errors_in_german_with_the_position(owner, rt, tenant):
    _speak(rt, tenant.id, "de")
    create_course(rt, tenant.id, "driver-safety", "Fahrsicherheit", ACTOR)

    page = _typed(owner, "emails co 5")
    said = _preview(page)
    assert page.status_code == 400
    assert said.startswith("Position 10: 'value' ist ein Text; setzen Sie den Wert in doppelte Anführungszeichen.")
    assert "Schreiben Sie jede Bedingung als Feld, Operator und Wert in Anführungszeichen" in said
    summary = html.unescape(re.sub(r"<[^>]+>", "", page.get_data(as_text=True)))
    assert "Regel: Position 10: 'value' ist ein Text" in summary  # the form's error list says it too

    said = _preview(_typed(owner, "department = = Engineering"))
    assert said.startswith("Position 11: Unerwartetes Zeichen '='."), said

    said = _preview(_typed(owner, 'nosuch eq "x"'))
    assert said == "Position 0: Unbekanntes Attribut 'nosuch' für User-Ressourcen.", said

    said = _preview(_typed(owner, 'enrollments[course eq "nope"]'))
    assert said.startswith("Position 22: Kein Kurs mit der externen ID 'nope'."), said

    said = _preview(_typed(owner, 'enrollments[status eq "lost"]'))
    assert "Unbekannter Einschreibungsstatus 'lost'; verwenden Sie einen von:" in said, said

    for rule in ("emails co 5", "department = = Engineering", 'nosuch eq "x"', 'enrollments[course eq "nope"]'):
        text = html.unescape(_typed(owner, rule).get_data(as_text=True))
        assert not any(words in text for words in ENGLISH), rule

    preview = owner.get("/ui/rules/preview.json", rule="emails co 5")
    assert preview.status_code == 400 and preview.json["position"] == 10
    assert preview.json["error"].startswith(
        "Die Regel ist an Position 10 ungültig: 'value' ist ein Text; setzen Sie den Wert in doppelte"
    )


def test_words_a_german_admin_types_are_read_as_a_rule_not_refused(owner, rt, tenant):
    _speak(rt, tenant.id, "de")
    page = owner.post("/ui/groups/new", {"kind": "automatic", "mode": "text", "rule": "department = Engineering"})
    assert 'department eq "Engineering"' in html.unescape(page.get_data(as_text=True))
    assert "ungültig" not in _preview(page) and "Unerwartetes" not in _preview(page)


def test_the_edit_rule_page_says_the_error_in_german(owner, rt, tenant, run_jobs):
    _speak(rt, tenant.id, "de")
    group = groups.create_group(
        rt, tenant.id, {"name": "Ingenieure", "kind": "automatic", "rule": 'department eq "Engineering"'}, ACTOR
    )
    run_jobs()
    page = owner.post(f"/ui/groups/{group.id}/rule", {"mode": "text", "rule": "emails co 5"})
    said = _preview(page)
    assert said.startswith("Position 10: 'value' ist ein Text;"), said


def test_a_spanish_admin_reads_them_in_spanish(owner, rt, tenant):
    _speak(rt, tenant.id, "es")
    said = _preview(_typed(owner, "emails co 5"))
    assert said.startswith("Posición 10: 'value' es un texto; ponga el valor entre comillas dobles."), said
    assert "Escriba cada condición como un campo, un operador y un valor entre comillas" in said
    said = _preview(_typed(owner, "department = = Engineering"))
    assert said.startswith("Posición 11: Carácter inesperado '='."), said
    said = _preview(_typed(owner, 'nosuch eq "x"'))
    assert said == "Posición 0: Atributo desconocido 'nosuch' para recursos User.", said


@pytest.mark.parametrize(
    ("filter_", "detail"),
    [
        ("department = Engineering", "Unexpected character '='. (at position 11)"),
        ("emails co 5", "'value' is a string; put the value in double quotes. (at position 10)"),
        ('nosuch eq "x"', "Unknown attribute 'nosuch' for User resources. (at position 0)"),
        ("department eq", "The filter ends too early (an operand or a closing bracket is missing). (at position 13)"),
    ],
)
def test_scim_says_the_same_filter_errors_in_english_as_before(client, rt, tenant, filter_, detail):
    _speak(rt, tenant.id, "de")  # the tenant's language is the pages'; SCIM speaks English
    response = client.get("/scim/v2/Users", query_string={"filter": filter_}, headers=tenant.scim)
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidFilter"
    assert response.json["detail"] == detail


def test_a_condition_of_the_builder_is_refused_in_german_and_named(owner, rt, tenant):
    _speak(rt, tenant.id, "de")
    form = {"name": "X", "kind": "automatic", "r.1.field": "department", "r.1.op": "is", "r.1.value": ""}
    response = owner.post("/ui/groups/new", form)
    text = html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))
    assert response.status_code == 400
    assert "Bedingung 1: Geben Sie einen Wert zum Vergleichen ein." in text
    assert "Enter a value" not in text and "Condition 1" not in text
