"""The service's languages: gettext catalogs for pages and emails, compiled in memory.

The catalogs are ``provisioning/translations/<lang>/LC_MESSAGES/messages.po``, one per language
besides English (the source language, which needs none).  Only the ``.po`` files are committed:
the first use of a language compiles its catalog in memory (babel's pofile/mofile, as
``pybabel compile`` would) and keeps it for the life of the process, so an install needs no build
step and no ``.mo`` file can go stale.  The pages (ui/, join/, through Flask-Babel) and the emails
(provisioning/mail) use the same catalogs.  ``provisioning catalogs update`` extracts the strings
(``babel.cfg``) and updates every catalog; ``tests/unit/test_catalogs.py`` fails when a string in
the code is missing from a catalog or left untranslated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SOURCE_LANGUAGE = "en"
CATALOGS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

# A BCP 47 language tag (RFC 5646 §2.1), loosely: a 2-3 letter language, then subtags of 1-8
# letters or digits ("es-ES", "pt-BR", "zh-Hant-TW", "de-CH-1996"); "_" as in "pt_BR" is accepted.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
TAG_MAX = 35  # RFC 5646 §4.4.1: 35 characters hold any well-formed tag in practice


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a string marked, not yet translated
    """Mark ``message`` for extraction; the edge that shows it translates it (``gettext(message)``)."""
    return message


class Message(str):
    """An English sentence that remembers how it was made: a marked template and its named values.

    ``Message(N_("No group with id %(id)s."), id=7)`` *is* the string "No group with id 7." (logs, the
    admin API and SCIM show it as it is), and keeps ``template`` and ``values`` so that an edge with a
    locale can say it again in its own language (:func:`localize`).  A value may itself be a Message
    (a refusal that quotes another's reason); it is translated with the sentence around it.
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Message:
        self = super().__new__(cls, template % values if values else template)
        self.template = template
        self.values = values
        return self

    def __reduce__(self):  # pickled (an RQ job's exception) as what it was made from
        return (_remake, (self.template, self.values))


def _remake(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


# A named placeholder (``%(name)s``, ``%(name)r``, ``%(name)d``) or an escaped percent sign.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%%")
# A stored sentence is recognised only by a template with enough words of its own: "%(main)s." would
# match anything.
ANCHOR_CHARS = 10
# A stored sentence longer than this is shown as it is (no row message is; it bounds the matching's work).
STORED_MAX = 2000
# The values of a recognised stored sentence that are sentences themselves ("Not created: <reason>").
NESTED = frozenset(("reason", "problem", "what", "where"))


def localize(message: object, gettext: Callable[[str], str]) -> str:
    """``message`` in the language ``gettext`` speaks, as an edge with a locale shows it.

    A :class:`Message` is its template translated and filled with its values (those that are Messages
    translated too).  A plain string is looked up as it is (a core string marked with ``N_``); a
    sentence that was stored as English text (an upload's row error, an operation's error) is
    recognised by the marked template it was made from and said again from the values in it.
    Anything not recognised stays as it is.  The result is plain text: the page escapes it.
    """
    if isinstance(message, Message):
        text = gettext(message.template)
        if not message.values:
            return text
        values = {k: localize(v, gettext) if isinstance(v, Message) else v for k, v in message.values.items()}
        try:
            return text % values
        except (KeyError, TypeError, ValueError):  # a translation whose placeholders are broken: the English
            return str(message)
    if not isinstance(message, str):
        return str(message)
    found = gettext(message)
    if found != message or len(message) > STORED_MAX:
        return found
    parsed = parse_stored(message)
    if parsed is None:
        return message
    template, values = parsed
    text = gettext(template)
    if text == template:
        return message
    said = {k: localize(v, gettext) if k in NESTED else v for k, v in values.items()}
    try:
        return PLACEHOLDER.sub(lambda m: "%" if m.group(0) == "%%" else said[m.group(1)], text)
    except KeyError:
        return message


@lru_cache(maxsize=4096)
def parse_stored(text: str) -> tuple[str, dict[str, str]] | None:
    """The marked template ``text`` was made from and the values in it (as they appear in ``text``), if any."""
    for template, head, tail, pattern in _stored_patterns():
        if not (text.startswith(head) and text.endswith(tail)):
            continue  # the cheap test first: most templates differ in their first or last words
        found = pattern.fullmatch(text)
        if found:
            return template, found.groupdict()
    return None


@cache
def _stored_patterns() -> tuple[tuple[str, str, str, re.Pattern[str]], ...]:
    """A pattern for each catalog entry with placeholders and enough words of its own, longest first."""
    if not catalog_languages():
        return ()
    with catalog_path(catalog_languages()[0]).open("rb") as fp:
        catalog = read_po(fp, domain=DOMAIN)
    found = []
    for entry in catalog:
        if not isinstance(entry.id, str) or not entry.id or "%(" not in entry.id:
            continue
        if len(PLACEHOLDER.sub("", entry.id)) < ANCHOR_CHARS:
            continue
        pieces = PLACEHOLDER.split(entry.id)  # the literal text before the first and after the last placeholder
        found.append((entry.id, pieces[0].replace("%%", "%"), pieces[-1].replace("%%", "%"), _pattern(entry.id)))
    found.sort(key=lambda item: -len(item[0]))
    return tuple(found)


def _pattern(template: str) -> re.Pattern[str]:
    out, seen, at = [], set(), 0
    for m in PLACEHOLDER.finditer(template):
        out.append(re.escape(template[at : m.start()]))
        if m.group(0) == "%%":
            out.append("%")
        elif m.group(1) in seen:
            out.append(f"(?P={m.group(1)})")
        else:
            seen.add(m.group(1))
            out.append(f"(?P<{m.group(1)}>.+?)")
        at = m.end()
    out.append(re.escape(template[at:]))
    return re.compile("".join(out), re.DOTALL)


def catalog_path(language: str) -> Path:
    return CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def catalog_languages() -> tuple[str, ...]:
    """The languages with a catalog, sorted (English, the source language, is not among them)."""
    if not CATALOGS.is_dir():
        return ()
    return tuple(sorted(p.name for p in CATALOGS.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()))


def languages() -> tuple[str, ...]:
    """Every language the service speaks: English first, then the catalogs' languages."""
    return (SOURCE_LANGUAGE, *catalog_languages())


def language_tag(value: object) -> str | None:
    """``value`` as a language tag ("es_es" -> "es-es") if it is a well-formed BCP 47 tag, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > TAG_MAX or not LANGUAGE_TAG.match(value):
        return None
    return value.replace("_", "-")


def best_language(*tags: str | None) -> str:
    """The first of ``tags`` the service speaks ("de-AT" counts as "de"), else English."""
    spoken = languages()
    for tag in tags:
        clean = language_tag(tag)
        if clean is None:
            continue
        primary = clean.split("-")[0].lower()
        if primary in spoken:
            return primary
    return SOURCE_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (NullTranslations for English or a language without one)."""
    if language == SOURCE_LANGUAGE or language not in catalog_languages():
        return NullTranslations()
    with catalog_path(language).open("rb") as fp:
        catalog = read_po(fp, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(language: str, message: str, **values: object) -> str:
    """``message`` in ``language``, with ``%(name)s`` placeholders filled from ``values``."""
    text = translations(language).gettext(message)
    return text % values if values else text


def translate_plural(language: str, singular: str, plural: str, num: int, **values: object) -> str:
    """The form of ``singular``/``plural`` for ``num`` in ``language``; ``%(num)s`` is ``num``."""
    text = translations(language).ngettext(singular, plural, num)
    return text % {"num": num, **values}
