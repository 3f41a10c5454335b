"""A core message in another language (provisioning/i18n.py): a Message is English where it is a string and
keeps its template and values for an edge that speaks another language; an English sentence stored as text
is recognised by its template and said again."""

from __future__ import annotations

import json
import pickle

from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_, Message, localize, translations
from provisioning.identity_keys import refusal


def _de(text: str) -> str:
    return localize(text, translations("de").gettext)


def test_a_refusal_is_its_english_sentence_and_keeps_its_template_and_values():
    exc = Conflict(N_("A group named %(name)r already exists."), field="name", name="Bio")
    assert str(exc) == exc.message == "A group named 'Bio' already exists."
    assert exc.template == "A group named %(name)r already exists." and exc.values == {"name": "Bio"}
    assert json.dumps({"detail": exc.message}) == '{"detail": "A group named \'Bio\' already exists."}'
    again = pickle.loads(pickle.dumps(exc))  # an RQ job's exception crosses processes
    assert again.message.template == exc.template and again.field == "name" and str(again) == str(exc)


def test_a_message_is_said_in_german_with_its_values_and_a_quoted_message_too():
    inner = Message(N_("The tenant's seat limit of %(seats)s users is reached."), seats=5)
    outer = Message(N_("Not created: %(reason)s"), reason=inner)
    assert str(outer) == "Not created: The tenant's seat limit of 5 users is reached."
    assert _de(outer) == "Nicht angelegt: Die Platzgrenze des Mandanten von 5 Personen ist erreicht."


def test_an_english_sentence_stored_as_text_is_recognised_by_its_template():
    stored = str(Message(N_("Not created: %(reason)s"), reason=Message(N_("The email is missing."))))
    assert _de(stored) == "Nicht angelegt: Die E-Mail-Adresse fehlt."
    assert _de("Duplicate: this user is already on row 12.") == "Doppelt: diese Person steht bereits in Zeile 12."
    assert _de("'x' is not an email address.") == "'x' ist keine E-Mail-Adresse."
    # A reason inside a stored sentence is recognised too, and said again in its place.
    stored = str(Message(N_("The email %(problem)s"), problem=refusal("a\u200bb@example.org", mid_sentence=True)))
    assert stored.startswith("The email must not contain invisible or control characters; found U+200B")
    assert _de(stored).startswith("Die E-Mail-Adresse: darf keine unsichtbaren Zeichen oder Steuerzeichen enthalten")


def test_what_is_not_recognised_stays_as_it_is():
    assert _de("Something no template makes.") == "Something no template makes."
    assert _de("Ada.") == "Ada."  # a short template like "%(main)s." never claims a sentence
    assert localize(Message(N_("No group with id %(group_id)s."), group_id=3), lambda t: t) == "No group with id 3."


def test_a_details_message_of_a_refusal_is_translated_on_its_own():
    exc = InvalidInput(N_("Unknown mode %(mode)r."), details={"mode": [N_("Must be add or replace.")]}, mode="x")
    assert _de(exc.message) == "Unbekannter Modus 'x'."
    assert _de(exc.details["mode"][0]) == "Muss add oder replace sein."
