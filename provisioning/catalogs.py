"""Keeping the catalogs (provisioning/i18n.py) in step with the code: extract, update, check.

``extract`` reads every string marked for translation in the files ``babel.cfg`` names (the
pages' templates and Python, the email templates, the core's ``N_``-marked messages);
``update`` merges them into every ``.po`` (new strings empty, gone ones dropped), written sorted
by msgid and without source locations so that two branches adding strings merge cleanly;
``problems`` lists what keeps a catalog from being complete: a string missing, untranslated or
fuzzy, or a translation whose ``%(name)s`` placeholders differ from the original's.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from provisioning.i18n import DOMAIN, catalog_languages, catalog_path

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "translate": (2,),
    "translate_plural": (2, 3),
}
WIDTH = 100


def extract_marked(fileobj, keywords, comment_tags, options):
    """Python's strings marked with ``N_`` only (babel.cfg names it for provisioning/filters): the
    filter lexer declares its tokens' regular expressions with sly's ``_`` decorator, which is no text."""
    return extract_python(fileobj, {"N_": None}, comment_tags, options)


def extract(root: Path = ROOT) -> Catalog:
    """Every marked string under ``root``, as a template catalog (no translations)."""
    with (root / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    template = Catalog(domain=DOMAIN, project="provisioning", charset="utf-8")
    skip = {".venv", "tests", "bench", "build", "dist", "node_modules"}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: Path(path).name not in skip and not Path(path).name.startswith("."),
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _read(language: str) -> Catalog:
    with catalog_path(language).open("rb") as fp:
        return read_po(fp, locale=language, domain=DOMAIN)


def write(language: str, catalog: Catalog) -> None:
    """Write ``catalog`` as ``language``'s .po: sorted, no locations, obsolete entries dropped."""
    path = catalog_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fp:
        write_po(fp, catalog, width=WIDTH, no_location=True, sort_output=True, ignore_obsolete=True)


def update(root: Path = ROOT, languages: tuple[str, ...] | None = None) -> dict[str, int]:
    """Merge the extracted strings into each catalog; returns how many are untranslated in each."""
    template = extract(root)
    left: dict[str, int] = {}
    for language in languages or catalog_languages():
        if catalog_path(language).is_file():
            catalog = _read(language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="provisioning", charset="utf-8", fuzzy=False)
            catalog.last_translator = catalog.language_team = "provisioning developers"
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        write(language, catalog)
        left[language] = sum(1 for m in catalog if m.id and not _translated(m))
    return left


def _translated(message) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, (list, tuple)):
        return all(message.string)
    return bool(message.string)


def _label(message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def problems(root: Path = ROOT) -> dict[str, list[str]]:
    """For each catalog, what keeps it from being complete (empty lists when all is well)."""
    template = extract(root)
    found: dict[str, list[str]] = {}
    for language in catalog_languages():
        catalog = _read(language)
        issues = []
        for message in template:
            if not message.id:
                continue
            have = catalog.get(message.id, context=message.context)
            if have is None:
                issues.append(f"missing: {_label(message)!r}")
            elif not _translated(have):
                issues.append(f"untranslated: {_label(message)!r}")
        for message, errors in catalog.check():
            issues.extend(f"{error}: {_label(message)!r}" for error in errors)
        found[language] = issues
    return found
