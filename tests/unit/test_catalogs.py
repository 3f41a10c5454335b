"""The translation catalogs (provisioning/i18n.py, provisioning/catalogs.py): complete, in agreement
with the settings catalog's languages, compiled in memory, never committed compiled."""

from __future__ import annotations

import subprocess

from babel.messages.pofile import read_po

from provisioning import catalogs, i18n
from provisioning.settings_catalog import LANGUAGES


def test_every_string_in_the_code_is_translated_in_every_catalog():
    """A string added to a template or marked in Python without its translations fails here: run
    `provisioning catalogs update`, translate the new entries, run `provisioning catalogs check`."""
    found = catalogs.problems()
    assert set(found) == {"de", "es"}
    assert found == {language: [] for language in found}


def test_a_new_string_the_catalogs_lack_is_reported(tmp_path):
    (tmp_path / "babel.cfg").write_text("[jinja2: ui/templates/**.html]\n[python: ui/**.py]\n")
    (tmp_path / "ui" / "templates").mkdir(parents=True)
    (tmp_path / "ui" / "templates" / "page.html").write_text(
        "<p>{{ _('Groups') }} {{ _('A string nobody translated') }}</p>"
    )
    (tmp_path / "ui" / "views.py").write_text("from flask_babel import gettext as _\nTITLE = _('Another new one')\n")
    found = catalogs.problems(tmp_path)
    assert sorted(found["de"]) == ["missing: 'A string nobody translated'", "missing: 'Another new one'"]


def test_the_settings_catalog_offers_exactly_the_languages_with_a_catalog():
    assert tuple(LANGUAGES) == i18n.languages() == ("en", "de", "es")


def test_the_catalogs_are_sorted_and_carry_no_source_locations():
    for language in i18n.catalog_languages():
        text = i18n.catalog_path(language).read_text(encoding="utf-8")
        assert "\n#: " not in text
        with i18n.catalog_path(language).open("rb") as fp:
            ids = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id]
        assert ids == sorted(ids)


def test_no_compiled_catalog_is_committed():
    tracked = subprocess.run(["git", "ls-files", "*.mo"], capture_output=True, text=True, cwd=catalogs.ROOT)
    assert tracked.returncode != 0 or tracked.stdout.strip() == ""


def test_catalogs_compile_in_memory_with_their_plural_forms():
    assert i18n.translate("de", "Groups") == "Gruppen"
    assert i18n.translate("es", "Hello %(name)s,", name="Ana") == "Hola, Ana:"
    assert i18n.translate_plural("de", "%(num)s member", "%(num)s members", 1) == "1 Mitglied"
    assert i18n.translate_plural("de", "%(num)s member", "%(num)s members", 3) == "3 Mitglieder"
    assert i18n.translate_plural("es", "%(num)s member", "%(num)s members", 0) == "0 miembros"
    assert i18n.translate("fr", "Groups") == "Groups"  # no catalog: the English original


def test_language_tags_are_validated_and_fall_back_to_their_language():
    assert i18n.language_tag("es_ES") == "es-ES" and i18n.language_tag("zh-Hant-TW") == "zh-Hant-TW"
    for bad in ("", "e", "english!", "<script>", "de-" + "x" * 40, None, 7):
        assert i18n.language_tag(bad) is None
    assert i18n.best_language("de-AT") == "de"
    assert i18n.best_language("fr", "es") == "es"
    assert i18n.best_language(None, "bogus tag", "fr") == "en"


def _translations(language: str) -> list[str]:
    with i18n.catalog_path(language).open("rb") as fp:
        found = []
        for m in read_po(fp):
            if m.id:
                found.extend(m.string if isinstance(m.string, (list, tuple)) else [m.string])
        return found


def test_german_says_sie_and_spanish_says_usted_throughout():
    import re

    informal_de = re.compile(r"\b(du|dich|dir|dein\w*|Du|Dich|Dir|Dein\w*)\b")
    informal_es = re.compile(r"\b(tú|tu|tus|te|puedes|tienes|quieres|debes|eres|estás)\b", re.IGNORECASE)
    assert [t for t in _translations("de") if informal_de.search(t)] == []
    assert [t for t in _translations("es") if informal_es.search(t)] == []


def test_the_catalogs_command_checks_them():
    from click.testing import CliRunner

    from server.cli import cli

    result = CliRunner().invoke(cli, ["catalogs", "check"])
    assert result.exit_code == 0 and "Every catalog is complete." in result.output
