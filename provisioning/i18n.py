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
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

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
